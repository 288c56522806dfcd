"""Trust that holds (issue 18): one gate for every write outside the agent, the OS login as the
acting user, and every read command scoped like `spm ask`.

Each test states one promise of docs/security.md and goes through the CLI runner on a private
copy of the session's small demo warehouse.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from agent.version import code_version
from interfaces.cli import app
from interfaces.errors import EXIT_CODES
from interfaces.settings import get_settings
from warehouse import audit
from warehouse.connection import Warehouse
from warehouse.create import create_warehouse
from warehouse.fingerprint import fingerprint
from warehouse.identity import LOCAL_USER
from warehouse.users import find_user

runner = CliRunner()


@pytest.fixture
def warehouse_file(demo_path: Path, tmp_path: Path) -> Path:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    return path


def spm(path: Path, *args: str, user: str | None = None) -> Result:
    """`spm -w PATH ARGS` with SPM_USER set to `user` (unset when None)."""
    get_settings.cache_clear()
    try:
        return runner.invoke(app, ["-w", str(path), *args], env={"SPM_USER": user})
    finally:
        get_settings.cache_clear()


def _runs(path: Path) -> list[dict[str, Any]]:
    with Warehouse(path).reader() as cur:
        return audit.runs(cur, 1000)


def _steps(path: Path, run_id: str) -> list[audit.Step]:
    with Warehouse(path).reader() as cur:
        assert audit.verify(cur, run_id).ok
        return audit.steps(cur, run_id)


def _data_fingerprint(path: Path) -> str:
    from interfaces.recorded_write import DATA_TABLES  # the tables a whole-warehouse write fingerprints

    with Warehouse(path).reader() as cur:
        return fingerprint(cur, DATA_TABLES)


def _quota(path: Path) -> tuple[str, str, float]:
    with Warehouse(path).reader() as cur:
        row = cur.execute("SELECT rep_id, period, amount FROM quotas ORDER BY rep_id, period LIMIT 1").fetchone()
    assert row is not None
    return str(row[0]), str(row[1]), float(row[2])


def _quota_file(path: Path, tmp_path: Path, amount: float) -> Path:
    rep_id, period, _ = _quota(path)
    csv = tmp_path / "quotas.csv"
    csv.write_text(f"rep_id,period,amount\n{rep_id},{period},{amount}\n")
    return csv


def test_a_rep_cannot_import_and_the_refusal_is_an_audit_run(warehouse_file: Path, tmp_path: Path) -> None:
    before = _quota(warehouse_file)
    csv = _quota_file(warehouse_file, tmp_path, 1)
    refused = spm(warehouse_file, "data", "import", str(csv), user="rep")
    assert refused.exit_code == EXIT_CODES["permission"], refused.stderr
    assert "rep (rep) may not import data" in refused.stderr and "admin" in refused.stderr
    assert _quota(warehouse_file) == before  # the quota is unchanged
    run = _runs(warehouse_file)[0]
    assert (run["user_id"], run["status"], run["interface"]) == ("rep", "refused", "cli")
    assert run["question"] == f"spm data import {csv}"
    (step,) = _steps(warehouse_file, run["run_id"])
    assert step.kind == "write" and step.name == "import_data" and step.args["action"] == "import_data"
    assert "may not import data" in step.args["refused"]


def test_an_admin_import_is_an_audit_run_with_who_counts_and_fingerprints(warehouse_file: Path, tmp_path: Path) -> None:
    csv = _quota_file(warehouse_file, tmp_path, 1)
    old = _data_fingerprint(warehouse_file)
    done = spm(warehouse_file, "data", "import", str(csv), user="admin")
    assert done.exit_code == 0, done.stderr
    assert _quota(warehouse_file)[2] == 1
    run = _runs(warehouse_file)[0]
    assert (run["user_id"], run["status"], run["question"]) == ("admin", "ok", f"spm data import {csv}")
    with Warehouse(warehouse_file).reader() as cur:
        header = audit.run(cur, run["run_id"])
    new = _data_fingerprint(warehouse_file)
    assert header["model"] == "-" and header["code_version"] == code_version()
    assert "by admin" in header["answer"] and "loaded 1" in header["answer"]
    (step,) = _steps(warehouse_file, run["run_id"])
    assert step.kind == "write" and step.name == "import_data"
    assert (step.args["read"], step.args["loaded"], step.args["rejected"]) == (1, 1, 0)
    assert step.args["files"] == [{"file": "quotas.csv", "table": "quotas", "read": 1, "loaded": 1}]
    assert (step.args["before"], step.args["after"]) == (old, new) and old != new
    assert step.data_fingerprint == new
    with Warehouse(warehouse_file).reader() as cur:
        who = cur.scalar("SELECT imported_by FROM imports WHERE import_id = ?", [step.args["import_id"]])
    assert who == "admin"  # the imports table records who imported


def test_a_committed_write_never_reports_failure_and_a_failed_one_never_success(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = tmp_path / "quotas.csv"
    strict.write_text("rep_id,period,amount\nR-99999,FY2027-Q1,not money\n")
    failed = spm(warehouse_file, "data", "import", str(strict), "--strict")
    assert failed.exit_code == EXIT_CODES["input"]
    run = _runs(warehouse_file)[0]
    assert run["status"] == "error" and run["question"] == f"spm data import {strict} --strict"
    assert _steps(warehouse_file, run["run_id"])[-1].kind == "error"

    def broken_finish(self: audit.AuditLog, status: str, answer: str | None = None, grounding: Any = None) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(audit.AuditLog, "finish", broken_finish)
    csv = _quota_file(warehouse_file, tmp_path, 7)
    done = spm(warehouse_file, "data", "import", str(csv))
    assert done.exit_code == 0 and _quota(warehouse_file)[2] == 7  # committed: reported as done
    assert "the change was made, but recording it failed" in done.stderr
    assert _runs(warehouse_file)[0]["status"] == "incomplete"  # and the trail says so


def test_replacing_a_warehouse_needs_an_admin_and_yes_and_keeps_a_backup_that_opens(warehouse_file: Path) -> None:
    leader = spm(warehouse_file, "data", "init", "--force", user="cro")
    assert leader.exit_code == EXIT_CODES["permission"] and "may not replace a warehouse" in leader.stderr
    no_yes = spm(warehouse_file, "data", "init", "--demo", "--force")
    assert no_yes.exit_code == EXIT_CODES["input"] and "--yes" in no_yes.stderr
    assert [(r["user_id"], r["status"]) for r in _runs(warehouse_file)[:2]] == [
        ("local", "refused"),
        ("cro", "refused"),
    ]
    old = _data_fingerprint(warehouse_file)  # the data as it was (the trail now holds two refusals)

    replaced = spm(warehouse_file, "data", "init", "--force", "--yes", "--json")
    assert replaced.exit_code == 0, replaced.stderr
    backup = Path(json.loads(replaced.stdout)["backup"])
    assert backup.parent == warehouse_file.parent and backup.name.startswith("demo.duckdb.bak-")
    assert _data_fingerprint(backup) == old  # the backup opens, with the data and trail it had
    with Warehouse(backup).reader() as cur:
        assert cur.scalar("SELECT count(*) FROM accounts") > 1000
        assert cur.scalar("SELECT count(*) FROM audit_runs WHERE status = 'refused'") == 2
    (run,) = _runs(warehouse_file)  # the new warehouse's trail starts with its replacement
    assert (run["user_id"], run["status"], run["question"]) == ("local", "ok", "spm data init --force --yes --json")
    (step,) = _steps(warehouse_file, run["run_id"])
    assert step.name == "replace_warehouse" and step.args["action"] == "destroy_warehouse"
    assert step.args["backup"] == str(backup) and step.args["before"] == old
    assert step.args["replaced"]["accounts"] > 1000
    with Warehouse(warehouse_file).reader() as cur:
        assert cur.scalar("SELECT count(*) FROM accounts") == 0


def test_spm_forecast_applies_the_acting_users_scope(warehouse_file: Path) -> None:
    def regions(user: str | None) -> set[str]:
        args = ["forecast", "--by", "region", "--horizon", "1", "--trials", "200", "--method", "naive", "--json"]
        result = spm(warehouse_file, *args, user=user)
        assert result.exit_code == 0, result.stderr
        return {row["region"] for row in json.loads(result.stdout)["tables"]["forecast"]} - {"All"}

    assert regions("rep") == {"NA"}  # a rep sees their own accounts' region only
    assert regions("emea-lead") == {"EMEA"}
    assert regions(None) == {"APAC", "EMEA", "LATAM", "NA"}  # the local admin sees every region


def test_scenario_audit_and_summary_reads_are_scoped(warehouse_file: Path) -> None:
    args = ["territory", "rebalance", "--filter", "region=NA", "--filter", "segment=SMB", "--time-limit", "5"]
    saved = spm(warehouse_file, *args, "--save-scenario", "trust-draft")
    assert saved.exit_code == 0, saved.stderr
    draft = _runs(warehouse_file)[0]
    assert (draft["user_id"], draft["status"]) == ("local", "ok")  # saving a draft is a recorded write
    assert _steps(warehouse_file, draft["run_id"])[0].args["scenario"]["name"] == "trust-draft"

    assert spm(warehouse_file, "scenario", "show", "trust-draft").exit_code == 0
    for command in (["show", "trust-draft"], ["list"], ["compare", "trust-draft", "trust-draft"]):
        scoped = spm(warehouse_file, "scenario", *command, user="emea-lead")
        assert scoped.exit_code == EXIT_CODES["permission"] and "region EMEA" in scoped.stderr
    summary = spm(warehouse_file, "data", "summary", user="rep")
    assert summary.exit_code == EXIT_CODES["permission"] and "the accounts of rep" in summary.stderr
    scoped_checks = json.loads(spm(warehouse_file, "data", "check", "--json", user="emea-lead").stdout)
    filtered = json.loads(spm(warehouse_file, "data", "check", "--filter", "region=EMEA", "--json").stdout)
    everything = json.loads(spm(warehouse_file, "data", "check", "--json").stdout)
    assert scoped_checks == filtered != everything  # a scoped user's checks are the admin's, filtered

    assert spm(warehouse_file, "data", "calendar", "--fiscal-start", "1", user="rep").exit_code == 8  # a rep's run
    mine = json.loads(spm(warehouse_file, "audit", "list", "--json", user="rep").stdout)
    assert mine and {r["user_id"] for r in mine} == {"rep"}
    everyone = json.loads(spm(warehouse_file, "audit", "list", "--json").stdout)
    assert {r["user_id"] for r in everyone} >= {"local", "rep"}
    assert spm(warehouse_file, "audit", "list", "--user", "local", user="rep").exit_code == 8
    other = spm(warehouse_file, "audit", "show", draft["run_id"], user="rep")
    assert other.exit_code == EXIT_CODES["permission"] and "sees only their own runs" in other.stderr
    assert spm(warehouse_file, "audit", "show", mine[0]["run_id"], user="rep").exit_code == 0
    verified = json.loads(spm(warehouse_file, "audit", "verify", "--json", user="rep").stdout)
    assert {v["run_id"] for v in verified} == {r["run_id"] for r in mine}
    assert len(json.loads(spm(warehouse_file, "audit", "verify", "--json").stdout)) == len(everyone)


def test_the_os_login_is_the_user_and_user_names_only_whom_it_may_act_as(
    warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interfaces import identity

    stranger_login = identity.OsAccount("alice", 4242)  # neither a user nor the file's owner
    owner = identity.os_account()
    login = {"account": stranger_login}
    monkeypatch.setattr(identity, "os_account", lambda: login["account"])

    stranger = spm(warehouse_file, "audit", "list")  # a login that is no user and owns nothing
    assert stranger.exit_code == EXIT_CODES["permission"]
    assert "'alice'" in stranger.stderr and "--os-user alice" in stranger.stderr
    assert spm(warehouse_file, "audit", "list", user="admin").exit_code == 8  # SPM_USER does not help

    login["account"] = owner  # the file's owner is its local admin, who maps the login
    added = spm(
        warehouse_file, *["users", "add", "alice", "--role", "analyst", "--scope", "region=EMEA"],
        *["--os-user", "alice", "--may-act-as", "rep"],
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert _runs(warehouse_file)[0]["question"].startswith("spm users add alice --role analyst")
    twice = spm(warehouse_file, "users", "add", "bo", "--role", "rep", "--os-user", "alice")
    assert twice.exit_code == EXIT_CODES["conflict"] and "already user alice" in twice.stderr

    login["account"] = stranger_login  # now alice is the analyst of EMEA, whatever SPM_USER says
    as_alice = spm(warehouse_file, "scenario", "list")
    assert as_alice.exit_code == 8 and "region EMEA" in as_alice.stderr
    refused = spm(warehouse_file, "data", "calendar", "--fiscal-start", "1")
    assert refused.exit_code == 8 and "alice (analyst) may not change the calendar" in refused.stderr
    assert _runs(warehouse_file)[0]["user_id"] == "alice"
    as_rep = spm(warehouse_file, "scenario", "list", user="rep")  # listed in her may_act_as
    assert as_rep.exit_code == 8 and "the accounts of rep" in as_rep.stderr
    as_cro = spm(warehouse_file, "scenario", "list", user="cro")
    assert as_cro.exit_code == 8 and "alice (analyst) may not act as cro" in as_cro.stderr
    assert "--may-act-as rep,cro" in as_cro.stderr  # the hint names the grant an admin would give
    asked = spm(warehouse_file, "ask", "What's pipeline this quarter?", "--user", "cro")
    assert asked.exit_code == 8 and "may not act as cro" in asked.stderr

    empty = tmp_path / "empty.duckdb"  # a warehouse with no users yet: whoever opens it is its admin
    create_warehouse(empty)
    assert spm(empty, "audit", "list").exit_code == 0


def test_login_resolution_rules(warehouse_file: Path) -> None:
    from warehouse.users import user_for_login

    wh = Warehouse(warehouse_file)
    assert user_for_login(wh, "alice", owns_file=True) == LOCAL_USER  # a laptop's owner
    with pytest.raises(Exception, match="not a user of the warehouse"):
        user_for_login(wh, "alice", owns_file=False)
    rep = find_user(wh, "rep")
    assert not rep.may_act_for(find_user(wh, "cro")) and LOCAL_USER.may_act_for(rep) and rep.may_act_for(rep)


def test_users_and_notes_changes_are_recorded_writes(warehouse_file: Path) -> None:
    refused = spm(warehouse_file, "users", "add", "mallory", "--role", "admin", user="rep")
    assert refused.exit_code == 8 and "may not manage users" in refused.stderr
    assert (_runs(warehouse_file)[0]["user_id"], _runs(warehouse_file)[0]["status"]) == ("rep", "refused")
    note = spm(warehouse_file, "memory", "add", "Never move the Acme account", "--json", user="cro")
    assert note.exit_code == 0, note.stderr
    memory_id = json.loads(note.stdout)[0]["memory_id"]
    assert _runs(warehouse_file)[0]["question"] == "spm memory add 'Never move the Acme account' --json"
    other = spm(warehouse_file, "memory", "forget", memory_id, user="revops")
    assert other.exit_code == 8
    assert (_runs(warehouse_file)[0]["user_id"], _runs(warehouse_file)[0]["status"]) == ("revops", "refused")
    assert spm(warehouse_file, "memory", "forget", memory_id, user="cro").exit_code == 0
    run = _runs(warehouse_file)[0]
    assert (run["user_id"], run["status"]) == ("cro", "ok")
    assert _steps(warehouse_file, run["run_id"])[0].args["memory_id"] == memory_id
    assert spm(warehouse_file, "users", "remove", "cro").exit_code == 0
    assert _runs(warehouse_file)[0]["question"] == "spm users remove cro"


def test_hints_point_to_commands_that_exist(empty: Warehouse) -> None:
    from interfaces.slack_app import NOT_REGISTERED

    assert "users import" not in NOT_REGISTERED and "spm users add" in NOT_REGISTERED
    assert "--slack-id {user}" in NOT_REGISTERED  # the one option that maps a Slack id
    with pytest.raises(Exception) as missing:
        find_user(empty, "ana")
    assert "spm users add ana --role" in str(missing.value)
