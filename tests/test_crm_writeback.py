"""Write-back of approved plans to Salesforce: Data Loader files, dry run, push, idempotent re-push.

The warehouse is filled by a real sync from the local Salesforce (tests/support/salesforce_stub.py),
so reps and accounts carry Salesforce ids; a plan is saved and applied with the warehouse's own
scenario functions, then written back through the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from simple_salesforce import Salesforce
from support.salesforce_stub import SalesforceStub, seed_org
from typer.testing import CliRunner

from interfaces import crm_cli
from interfaces.cli import app
from interfaces.errors import EXIT_CODES, EXIT_PARTIAL
from interfaces.settings import get_settings
from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.importers.salesforce_api import sync_salesforce
from warehouse.scenarios import Change, apply_scenario, save_scenario

runner = CliRunner()
PLAN = "fy27-west-plan"


@pytest.fixture
def org(empty: Warehouse, monkeypatch: pytest.MonkeyPatch) -> Iterator[SalesforceStub]:
    """The stub org synced into `empty`, a quota Ben already has in Salesforce, a rep who is not
    in Salesforce, and a draft plan touching owners, a territory and quotas."""
    stub = SalesforceStub().start()
    ids = stub.ids = seed_org(stub)  # type: ignore[attr-defined]
    stub.add("ForecastingQuota", QuotaOwnerId=ids["ben"], StartDate="2026-12-01", QuotaAmount=70000.0,
             ForecastingTypeId="0Db000000000001AAA")  # fmt: skip
    sf = Salesforce(username=stub.username, password=stub.password, security_token=stub.token, session=stub.session())
    sync_salesforce(empty, sf)
    with empty.writer() as cur:
        cur.execute("INSERT INTO reps (rep_id, name, role) VALUES ('R-00099', 'Dana New', 'AE')")
        save_scenario(
            cur,
            name=PLAN,
            kind="territory",
            changes=[
                Change("accounts", (("account_id", ids["summit"]),), "owner_rep_id", ids["ana"], ids["ben"]),
                Change("accounts", (("account_id", ids["tiny"]),), "owner_rep_id", ids["ana"], "R-00099"),
                Change("accounts", (("account_id", ids["north"]),), "territory_id", None, "T-EMEA-01"),
                Change("quotas", (("rep_id", ids["ana"]), ("period", "FY2027-Q1")), "amount", None, "250000"),
                Change("quotas", (("rep_id", ids["ben"]), ("period", "2026-12")), "amount", "70000", "80000"),
                Change("quotas", (("rep_id", ids["ben"]), ("period", "FY2027")), "amount", None, "900000"),
            ],
            created_by="admin",
        )
    for key, value in {
        "SPM_SF_USERNAME": stub.username,
        "SPM_SF_PASSWORD": stub.password,
        "SPM_SF_TOKEN": stub.token,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(crm_cli, "http_session", stub.session)
    yield stub
    stub.stop()


def spm(*args: str):  # type: ignore[no-untyped-def]
    get_settings.cache_clear()
    return runner.invoke(app, list(args))


def apply(wh: Warehouse) -> None:
    with wh.writer() as cur:
        apply_scenario(cur, PLAN, approved_by="admin")


def writes(stub: SalesforceStub) -> list[str]:
    return [f"{r.method} {r.path}" for r in stub.calls("/composite/sobjects")]


def push_runs(wh: Warehouse) -> list[tuple]:
    with wh.reader() as cur:
        return cur.execute(
            "SELECT r.status, s.args FROM audit_runs r JOIN audit_steps s USING (run_id) "
            "WHERE r.question LIKE 'spm data push salesforce%' AND s.kind IN ('write', 'error') ORDER BY r.started_at"
        ).fetchall()


def test_export_writes_data_loader_files_and_reports_what_it_cannot(
    empty: Warehouse, org: SalesforceStub, tmp_path: Path
) -> None:
    out = tmp_path / "crm"
    draft = spm("-w", str(empty.path), "data", "export-crm", PLAN, "--out", str(out))
    assert draft.exit_code == EXIT_CODES["conflict"] and "draft" in draft.stderr and not out.exists()
    apply(empty)
    done = spm("-w", str(empty.path), "data", "export-crm", PLAN, "--out", str(out), "--json")
    assert done.exit_code == 0, done.stderr
    ids = org.ids  # type: ignore[attr-defined]
    q1 = FiscalCalendar(2).parse("FY2027-Q1").start.isoformat()  # the empty warehouse's year starts in February
    assert (out / "Account_owners.csv").read_text() == f"Id,OwnerId\n{ids['summit']},{ids['ben']}\n"
    assert (out / "ForecastingQuota.csv").read_text() == (
        f"QuotaOwnerId,StartDate,QuotaAmount\n{ids['ana']},{q1},250000\n{ids['ben']},2026-12-01,80000\n"
    )
    skipped = (out / "not_exported.csv").read_text().splitlines()
    assert skipped[0] == "table,key,column,new_value,reason" and len(skipped) == 4
    assert any("rep R-00099 has no Salesforce User Id" in line for line in skipped)
    assert any("territory_id" in line for line in skipped) and any("FY2027 is a year" in line for line in skipped)
    assert json.loads(done.stdout)["files"] == {
        "Account_owners.csv": 1,
        "ForecastingQuota.csv": 2,
        "not_exported.csv": 3,
    }
    assert (out / "Account_owners.csv").stat().st_mode & 0o077 == 0  # company data: private


def test_dry_run_push_and_repush_is_idempotent_and_recorded(empty: Warehouse, org: SalesforceStub) -> None:
    ids = org.ids  # type: ignore[attr-defined]
    refused = spm("-w", str(empty.path), "data", "push", "salesforce", PLAN, "--push")
    assert refused.exit_code == EXIT_CODES["conflict"] and "draft" in refused.stderr
    assert writes(org) == [] and [status for status, _ in push_runs(empty)] == ["refused"]

    apply(empty)
    dry = spm("-w", str(empty.path), "data", "push", "salesforce", PLAN, "--json")
    assert dry.exit_code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["dry_run"] and not plan["pushed"]
    assert {k: plan["counts"][k] for k in ("update", "insert", "unchanged", "conflict", "skipped", "written")} == {
        "update": 2, "insert": 1, "unchanged": 0, "conflict": 0, "skipped": 3, "written": 0,
    }  # fmt: skip
    assert writes(org) == []  # a dry run reads only

    pushed = spm("-w", str(empty.path), "data", "push", "salesforce", PLAN, "--push")
    assert pushed.exit_code == 0, pushed.stderr
    assert "3 written, 0 failed" in pushed.stderr
    assert org.records["Account"][ids["summit"]]["OwnerId"] == ids["ben"]
    quotas = {(q["QuotaOwnerId"], q["StartDate"]): q for q in org.records["ForecastingQuota"].values()}
    q1 = FiscalCalendar(2).parse("FY2027-Q1").start.isoformat()
    assert quotas[(ids["ana"], q1)]["QuotaAmount"] == 250000.0
    assert quotas[(ids["ana"], q1)]["ForecastingTypeId"] == "0Db000000000001AAA"
    assert quotas[(ids["ben"], "2026-12-01")]["QuotaAmount"] == 80000.0 and len(quotas) == 2  # updated, not duplicated
    assert writes(org) == [
        "PATCH /services/data/v60.0/composite/sobjects",
        "POST /services/data/v60.0/composite/sobjects",
    ]

    again = spm("-w", str(empty.path), "data", "push", "salesforce", PLAN, "--push")
    assert again.exit_code == 0, again.stderr
    assert "Nothing to push" in again.stderr and "already holds 3" in again.stderr
    assert len(writes(org)) == 2  # nothing more was written
    runs = push_runs(empty)
    assert [status for status, _ in runs] == ["refused", "ok", "ok"]
    first, second = (json.loads(args)["counts"] for _, args in runs[1:])
    assert (first["written"], first["update"], first["insert"], first["skipped"]) == (3, 2, 1, 3)
    assert (second["written"], second["unchanged"]) == (0, 3)


def test_a_value_changed_in_salesforce_since_the_plan_is_a_conflict(empty: Warehouse, org: SalesforceStub) -> None:
    ids = org.ids  # type: ignore[attr-defined]
    apply(empty)
    org.update("Account", ids["summit"], OwnerId=ids["maya"])  # someone moved it in Salesforce meanwhile
    pushed = spm("-w", str(empty.path), "data", "push", "salesforce", PLAN, "--push", "--json")
    assert pushed.exit_code == EXIT_PARTIAL
    result = json.loads(pushed.stdout)
    [conflict] = [i for i in result["items"] if i["action"] == "conflict"]
    assert (conflict["key"], conflict["current"], conflict["target"]) == (ids["summit"], ids["maya"], ids["ben"])
    assert org.records["Account"][ids["summit"]]["OwnerId"] == ids["maya"]  # left alone
    forced = spm("-w", str(empty.path), "data", "push", "salesforce", PLAN, "--push", "--overwrite")
    assert forced.exit_code == 0, forced.stderr
    assert org.records["Account"][ids["summit"]]["OwnerId"] == ids["ben"]
