"""Data checks: each planted problem is found; clean data gives no findings; a slice (filters or a
data scope) finds exactly its share of the whole warehouse's findings."""

from __future__ import annotations

import json
from datetime import date

import pytest
from pydantic import ValidationError

from tests.conftest import AS_OF
from tools.core.selection import Selection
from tools.data_check.models import DataCheckInput
from tools.data_check.tool import run_data_check, slice_where
from warehouse.checks import CHECKS, normalize_company, run_checks
from warehouse.connection import Warehouse
from warehouse.errors import InputError, PermissionDeniedError
from warehouse.identity import Scope


@pytest.fixture(scope="module")
def findings(demo_path):  # type: ignore[no-untyped-def]
    wh = Warehouse(demo_path)
    with wh.reader() as cur:
        return {f.check: f for f in run_checks(cur, AS_OF, wh.calendar())}


@pytest.fixture(scope="module")
def planted(demo_path):  # type: ignore[no-untyped-def]
    return json.loads(Warehouse(demo_path).meta()["demo_planted"])


def test_every_check_runs_and_reports(findings) -> None:  # type: ignore[no-untyped-def]
    assert set(findings) == set(CHECKS)
    for f in findings.values():
        assert f.title and f.fix and f.affects
        assert len(f.examples) <= 5 and len(f.examples) <= f.count


@pytest.mark.parametrize(
    ("check", "key"),
    [
        ("zombie_opportunities", "zombie_opps"),
        ("orphan_owners", "ownerless_accounts"),
        ("zips_without_territory", "unmapped_zip_accounts"),
        ("amount_outliers", "amount_outlier_opps"),
        ("active_reps_without_quota", "reps_without_quota"),
    ],
)
def test_planted_problems_are_found(findings, planted, check: str, key: str) -> None:  # type: ignore[no-untyped-def]
    assert planted[key], "the demo should plant this problem"
    assert set(planted[key]) <= set(findings[check].ids)


def test_planted_duplicates_are_found(findings, planted) -> None:  # type: ignore[no-untyped-def]
    found = {frozenset(pair.split("~")) for pair in findings["duplicate_accounts"].ids}
    for original, copy in planted["duplicate_accounts"]:
        assert frozenset((original, copy)) in found


def test_planted_ghost_quotas_are_found(findings, planted) -> None:  # type: ignore[no-untyped-def]
    found = {i.split("@")[0] for i in findings["quotas_without_rep"].ids}
    assert set(planted["quotas_without_rep"]) <= found
    assert findings["quotas_without_rep"].examples


def test_outliers_are_few_and_orphans_broken_down(findings) -> None:  # type: ignore[no-untyped-def]
    assert findings["amount_outliers"].count <= 10  # the natural tail is not flagged
    breakdown = findings["orphan_owners"].breakdown
    assert breakdown["no_owner"] >= 3 and breakdown["departed_owner"] > 0
    assert (
        findings["orphan_owners"].count
        == breakdown["no_owner"] + breakdown["unknown_owner"] + breakdown["departed_owner"]
    )


def test_empty_warehouse_has_no_findings(empty: Warehouse) -> None:
    with empty.reader() as cur:
        results = run_checks(cur, AS_OF, empty.calendar())
    assert all(f.ok for f in results)


def test_hand_made_problems(empty: Warehouse) -> None:
    with empty.writer() as cur:
        cur.execute(
            """INSERT INTO reps (rep_id, name, role, hire_date, end_date) VALUES
               ('R1', 'Ana Active', 'AE', '2024-01-01', NULL),
               ('R2', 'Gus Gone', 'AE', '2023-01-01', '2026-03-31')"""
        )
        cur.execute(
            """INSERT INTO accounts (account_id, name, zip, country, segment, owner_rep_id, arr) VALUES
               ('A1', 'Acme Corp', '02139', 'US', 'SMB', 'R1', 0),
               ('A2', 'ACME Corporation', '02139', 'US', 'SMB', 'R2', 100),
               ('A3', 'Acme Corp', '10001', 'US', 'SMB', 'R9', 0)"""
        )
        cur.execute(
            """INSERT INTO opportunities (opp_id, account_id, owner_rep_id, created_date, close_date, stage,
                   amount, is_closed, is_won) VALUES
               ('O1', 'A1', 'R1', '2026-01-01', '2026-06-30', 'Proposal', 5000, false, false),
               ('O2', 'A1', 'R1', '2026-10-01', '2026-12-30', 'Proposal', 5000, false, false),
               ('O3', 'A1', 'R1', '2026-10-01', '2026-12-30', 'Proposal', -5, false, false)"""
        )
        cur.execute("INSERT INTO quotas VALUES ('R2', 'FY2027-Q4', 100), ('R1', 'FY2027-Q3', 100)")
    with empty.reader() as cur:
        got = {f.check: f for f in run_checks(cur, AS_OF, empty.calendar())}
    assert got["zombie_opportunities"].ids == ["O1"]
    assert got["duplicate_accounts"].ids == ["A1~A2"]  # A3 has the same name but another ZIP
    assert set(got["orphan_owners"].ids) == {"A2", "A3"}
    assert got["orphan_owners"].breakdown["unknown_owner"] == 1
    assert got["amount_outliers"].ids == ["O3"]  # amount <= 0
    assert got["active_reps_without_quota"].ids == ["R1"]  # has Q3, not Q4
    assert got["quotas_without_rep"].ids == ["R2@FY2027-Q4"]
    assert got["zips_without_territory"].ok  # no geographic territories defined: nothing to check


def test_checks_respect_the_as_of_date(demo: Warehouse) -> None:
    with demo.reader() as cur:
        earlier = run_checks(cur, date(2025, 6, 1), demo.calendar(), only=["zombie_opportunities"])[0]
        now = run_checks(cur, AS_OF, demo.calendar(), only=["zombie_opportunities"])[0]
    assert earlier.count != now.count


def test_unknown_check_name(demo: Warehouse) -> None:
    with demo.reader() as cur, pytest.raises(InputError, match="zombies"):
        run_checks(cur, AS_OF, demo.calendar(), only=["zombies"])


def test_company_names_normalize() -> None:
    assert normalize_company("ACME Corporation.") == normalize_company("Acme Corp") == "acme"
    assert normalize_company("Summit Logistics GmbH") == "summit logistics"


# --- one region or segment ------------------------------------------------------------------------

# What each check's ids name, and so whose region and segment a finding has.
RECORDS = {
    "zombie_opportunities": "opportunity",
    "stale_stages": "opportunity",
    "amount_outliers": "opportunity",
    "duplicate_accounts": "account pair",
    "orphan_owners": "account",
    "zips_without_territory": "account",
    "active_reps_without_quota": "rep",
    "quotas_without_rep": "quota",
}


@pytest.fixture(scope="module")
def places(demo_path):  # type: ignore[no-untyped-def]
    """(region, segment) of every opportunity (its account's), account and rep of the demo."""
    with Warehouse(demo_path).reader() as cur:
        sql = {
            "opportunity": "SELECT o.opp_id, a.region, a.segment FROM opportunities o "
            "LEFT JOIN accounts a USING (account_id)",
            "account": "SELECT account_id, region, segment FROM accounts",
            "rep": "SELECT rep_id, region, segment FROM reps",
        }
        return {kind: {i: (r, s) for i, r, s in cur.execute(q).fetchall()} for kind, q in sql.items()}


def _in_slice(check: str, record: str, places, filters: dict[str, list[str]]) -> bool:  # type: ignore[no-untyped-def]
    def inside(place: tuple[str, str] | None) -> bool:
        if place is None:
            return False  # a record the warehouse cannot place (an unknown rep) is in no slice
        region, segment = place
        return region in filters.get("region", [region]) and segment in filters.get("segment", [segment])

    kind = RECORDS[check]
    if kind == "account pair":
        return all(inside(places["account"].get(a)) for a in record.split("~"))
    if kind == "quota":
        return inside(places["rep"].get(record.split("@")[0]))
    return inside(places[kind].get(record))


@pytest.mark.parametrize(
    "filters",
    [{"region": ["EMEA"]}, {"segment": ["SMB"]}, {"region": ["NA", "APAC"], "segment": ["Enterprise"]}],
    ids=["region", "segment", "regions-x-segment"],
)
def test_a_slice_finds_exactly_its_share_of_the_findings(findings, places, demo, filters) -> None:  # type: ignore[no-untyped-def]
    result = run_data_check(demo, DataCheckInput(filters=filters, as_of=AS_OF))
    counts = {row["check"]: row["count"] for row in result.tables["findings"]}
    with demo.reader() as cur:
        sliced = {
            f.check: f
            for f in run_checks(
                cur, AS_OF, demo.calendar(), where=slice_where(Selection.of(Scope.everything(), filters))
            )
        }
    for check, whole in findings.items():
        assert len(whole.ids) == whole.count  # the demo is far below the id cap: ids are complete
        expected = [i for i in whole.ids if _in_slice(check, i, places, filters)]
        assert sliced[check].ids == expected, check  # same records, same order
        assert counts[check] == len(expected)
    assert any(counts.values()) and sum(counts.values()) < sum(f.count for f in findings.values())


def test_a_scoped_user_gets_the_filtered_findings_and_nothing_else(demo: Warehouse) -> None:
    filtered = run_data_check(demo, DataCheckInput(filters={"region": ["EMEA"]}))
    scoped = run_data_check(demo, DataCheckInput(), scope=Scope("region", "EMEA"))
    assert scoped.model_dump() == filtered.model_dump()
    with pytest.raises(PermissionDeniedError, match="region EMEA"):
        run_data_check(demo, DataCheckInput(filters={"region": ["APAC"]}), scope=Scope("region", "EMEA"))
    examples = [row["example"] for row in scoped.tables["findings"] if row["example"]]
    assert examples and not any("APAC" in str(e) or "LATAM" in str(e) for e in examples)


def test_the_summary_names_the_slice_and_what_it_cannot_show(demo: Warehouse) -> None:
    emea = run_data_check(demo, DataCheckInput(filters={"region": ["emea"]}))
    assert emea.summary.startswith("Region EMEA: ") and "zombie deals ($" in emea.summary
    assert emea.metrics["slice"] == "region EMEA"
    assert any("rep ids the warehouse does not know" in a for a in emea.assumptions)
    whole = run_data_check(demo, DataCheckInput())
    assert whole.summary.startswith("All data: ") and whole.assumptions == []
    smb = run_data_check(demo, DataCheckInput(checks=["duplicate_accounts"], filters={"segment": ["SMB"]}))
    assert smb.summary.startswith("Segment SMB: ") and not any("rep ids" in a for a in smb.assumptions)


def test_data_check_filters_are_validated(demo: Warehouse) -> None:
    with pytest.raises(ValidationError, match="cannot filter data checks by 'product'"):
        DataCheckInput(filters={"product": ["Core"]})
    with pytest.raises(InputError, match="Unknown region 'Mars'"):
        run_data_check(demo, DataCheckInput(filters={"region": ["Mars"]}))
