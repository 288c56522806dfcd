"""The capacity gap tool end to end: closed forms on a hand-built team, invariants on the demo."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from interfaces.cli import app
from tools.capacity import plan
from tools.capacity.models import CapacityInput
from tools.capacity.tool import _run, load, run_capacity
from warehouse.connection import Warehouse
from warehouse.errors import InputError, PermissionDeniedError
from warehouse.identity import Scope
from warehouse.scenarios import Change, save_scenario

AS_OF = date(2026, 11, 29)  # FY2028 (February start) runs Feb 2027 - Jan 2028; simulation month 0 is Nov 2026
FAST = {"trials": 2_000}
EXACT = {"productivity": 100_000.0, "attrition": 0.0, "as_of": AS_OF, **FAST}


def _team(wh: Warehouse, reps: int = 10, reqs: list[str] | None = None, target: float | None = 15e6) -> Warehouse:
    """`reps` ramped NA SMB AEs hired in 2020 (plus open requisitions starting on the given dates)."""
    with wh.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('NA', 1)")
        cur.execute("INSERT INTO segments VALUES ('SMB', 1, 1.0)")
        for i in range(reps):
            cur.execute(
                "INSERT INTO reps (rep_id, name, role, region, segment, hire_date, ote) "
                "VALUES (?, ?, 'AE', 'NA', 'SMB', DATE '2020-03-01', 140000)",
                [f"R{i:03d}", f"Rep {i}"],
            )
        for i, start in enumerate(reqs or []):
            cur.execute(
                "INSERT INTO headcount_plan (req_id, role, region, segment, planned_start, status) "
                "VALUES (?, 'AE', 'NA', 'SMB', ?, 'open')",
                [f"REQ{i}", start],
            )
        if target is not None:
            cur.execute("INSERT INTO targets VALUES ('FY2028', 'NA', 'SMB', ?)", [target])
    return wh


def _year(result, region: str = "All") -> dict:  # type: ignore[no-untyped-def]
    return next(r for r in result.tables["by_period"] if r["grain"] == "year" and r["region"] == region)


def _value(result, month: str) -> float:  # type: ignore[no-untyped-def]
    return next(r["expected_adds"] for r in result.tables["hire_value"] if r["start_month"] == month)


# --- closed forms on a hand-built team -----------------------------------------------------------


def test_ramped_team_capacity_and_gap_are_exact(empty: Warehouse) -> None:
    result = run_capacity(_team(empty), CapacityInput(period="FY2028", ramp_months=3, **EXACT))
    m = result.metrics
    assert m["expected_capacity"] == pytest.approx(10 * 100_000 * 12)
    assert m["target"] == pytest.approx(15e6)
    months = [r for r in result.tables["by_period"] if r["grain"] == "month" and r["region"] == "All"]
    assert len(months) == 12
    assert all(r["expected_capacity"] == pytest.approx(1e6) for r in months)  # no history: no seasonality
    assert all(r["headcount"] == pytest.approx(10) for r in months)
    assert _year(result)["gap_p50"] == pytest.approx(15e6 - m["capacity"]["p50"])
    assert m["gap"]["p50"] == pytest.approx(15e6 - m["capacity"]["p50"])
    assert m["capacity"]["p10"] <= m["capacity"]["p50"] <= m["capacity"]["p90"]
    assert abs(m["capacity"]["p50"] - 12e6) < 0.05 * 12e6  # the Monte Carlo centres on the closed form


def test_single_hire_contributes_the_hand_computed_amount(empty: Warehouse) -> None:
    result = run_capacity(
        _team(empty),
        CapacityInput(period="FY2028", ramp_curve=[0, 0.25, 0.5, 0.75, 1], time_to_fill_months=0, **EXACT),
    )
    # Starting in February 2027 (the first fiscal month): 0 + .25 + .5 + .75 + 8 months at 100%.
    assert _value(result, "2027-02") == pytest.approx(100_000 * 9.5)
    # Starting in December 2026: tenure 2..13 during the year: .5 + .75 + 10 x 100%.
    assert _value(result, "2026-12") == pytest.approx(100_000 * 11.25)
    assert _value(result, "2028-01") == 0.0  # a start in the last month sells nothing that month


def test_time_to_fill_pushes_requisitions_by_the_right_months(empty: Warehouse) -> None:
    wh = _team(empty, reqs=["2026-12-15", "2027-06-01"])
    result = run_capacity(wh, CapacityInput(period="FY2028", ramp_months=3, time_to_fill_months=4, **EXACT))
    reqs = {r["req_id"]: r for r in result.tables["requisitions"]}
    assert reqs["REQ0"]["modelled_start"] == "2027-03"  # Nov 2026 + 4 months, later than planned
    assert reqs["REQ1"]["modelled_start"] == "2027-06"  # already beyond the time to fill: as planned
    # Ramp 0, 1/3, 2/3, 1: from March 0 + 1/3 + 2/3 + 8 x 1 = 9 months; from June 0 + 1/3 + 2/3 + 5 = 6.
    assert result.metrics["expected_capacity"] == pytest.approx(100_000 * (120 + 9 + 6))
    assert any("REQ0" in r.action for r in result.recommendations)


def test_attrition_reduces_capacity_by_the_survival_factor(empty: Warehouse) -> None:
    params = {**EXACT, "attrition": 0.2}
    result = run_capacity(_team(empty), CapacityInput(period="FY2028", ramp_months=3, backfill=False, **params))
    h = 1 - 0.8 ** (1 / 12)
    survival = (1 - h) ** np.arange(3, 15)  # simulation months 3..14 are February 2027 .. January 2028
    assert result.metrics["expected_capacity"] == pytest.approx(10 * 100_000 * survival.sum())
    assert result.metrics["assumptions"]["attrition_annual"]["NA|SMB"] == pytest.approx(0.2)


def test_hires_after_the_last_useful_start_add_nothing(empty: Warehouse) -> None:
    result = run_capacity(
        _team(empty), CapacityInput(period="FY2028", ramp_curve=[0, 0, 0, 1], time_to_fill_months=1, **EXACT)
    )
    for month in ("2027-11", "2027-12", "2028-01"):
        assert _value(result, month) == 0.0
    # A start helps when it adds >= 20% of a ramped rep's year (2.4 months): August 2027 adds 3 months.
    assert _value(result, "2027-08") == pytest.approx(300_000)
    assert _value(result, "2027-09") == pytest.approx(200_000)
    assert result.metrics["last_useful_start"] == "2027-08"
    assert all(r["start_month"] <= "2027-08" for r in result.tables["hiring_plan"])
    assert result.metrics["hires_needed"] > 0


def test_hiring_plan_is_minimal_and_closes_the_gap(empty: Warehouse) -> None:
    params = CapacityInput(period="FY2028", ramp_months=3, time_to_fill_months=1, confidence="p80", **EXACT)
    wh = _team(empty)
    outcome, _, _ = _run(load(wh, params, Scope.everything()), params)
    p = outcome.plans[0]
    conf = outcome.confidence
    base = outcome.capacity()[:, 0, outcome.horizon.in_period].sum(axis=1)
    target = outcome.targets[0].sum()
    a, b, f, d = outcome.value[0], outcome.value_spread[0], outcome.draws.factor[:, 0], outcome.draws.delta[:, 0]
    assert p.closed and p.total > 0
    assert plan.capacity_quantile(base + plan.contribution(p.hires, a, b, f, d), conf) >= target
    for s in np.flatnonzero(p.hires):
        fewer = p.hires.copy()
        fewer[s] -= 1
        assert plan.capacity_quantile(base + plan.contribution(fewer, a, b, f, d), conf) < target
    result = run_capacity(wh, params)
    assert result.metrics["hires_needed"] == p.total == sum(r["hires"] for r in result.tables["hiring_plan"])
    assert result.metrics["p_target_met_with_plan"] >= 0.8 - 0.02


def test_requirements_scale_with_confidence(empty: Warehouse) -> None:
    wh = _team(empty)
    hires = [
        run_capacity(wh, CapacityInput(period="FY2028", ramp_months=3, confidence=c, **EXACT)).metrics["hires_needed"]
        for c in ("p50", "p80", "p90")
    ]
    assert hires[0] <= hires[1] <= hires[2]


def test_impossible_inputs_get_clear_errors(empty: Warehouse) -> None:
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        CapacityInput(attrition=-0.1)
    with pytest.raises(InputError, match="must end at 100%"):
        CapacityInput(ramp_curve=[0, 0.5, 0.9])
    with pytest.raises(ValidationError, match="greater than 0"):
        CapacityInput(target=-5e6)
    with pytest.raises(ValidationError, match="either ramp_months or ramp_curve"):
        CapacityInput(ramp_months=3, ramp_curve=[0, 1])
    with pytest.raises(InputError, match=r"team .* is empty"):
        run_capacity(_team(empty, reps=0), CapacityInput(as_of=AS_OF, **FAST))


def test_errors_name_the_problem(empty: Warehouse) -> None:
    wh = _team(empty, target=None)
    with pytest.raises(InputError, match="No target found for FY2028"):
        run_capacity(wh, CapacityInput(**EXACT))
    with pytest.raises(InputError, match="Unknown region 'Mars'"):
        run_capacity(wh, CapacityInput(filters={"region": ["Mars"]}, **EXACT))
    with pytest.raises(InputError, match="is a month"):
        run_capacity(wh, CapacityInput(period="2027-03", **EXACT))
    with pytest.raises(InputError, match="ended before"):
        run_capacity(wh, CapacityInput(period="FY2026", **EXACT))
    with pytest.raises(InputError, match="No history to estimate"):
        run_capacity(wh, CapacityInput(target=1e6, as_of=AS_OF, **FAST))  # no bookings, no --productivity
    given = run_capacity(wh, CapacityInput(target=14e6, **EXACT))
    assert given.metrics["target"] == pytest.approx(14e6)


def test_given_target_is_split_like_the_table(demo: Warehouse) -> None:
    table = run_capacity(demo, CapacityInput(**FAST))
    doubled = run_capacity(demo, CapacityInput(target=2 * table.metrics["target"], **FAST))
    a = {(g["region"], g["segment"]): g["target"] for g in table.tables["groups"]}
    b = {(g["region"], g["segment"]): g["target"] for g in doubled.tables["groups"]}
    assert all(b[k] == pytest.approx(2 * a[k]) for k in a)
    assert doubled.metrics["baseline"]["target"] == pytest.approx(table.metrics["target"])


# --- the demo company ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fy28(demo_path: Path):  # type: ignore[no-untyped-def]
    return run_capacity(Warehouse(demo_path), CapacityInput(**FAST))


def test_contract_on_the_demo(fy28) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(fy28.model_dump_json())
    assert data["tool"] == "capacity_gap" and data["summary"] and data["data_fingerprint"].startswith("sha256:")
    m = data["metrics"]
    for key in ("target", "capacity", "gap", "hires_needed", "last_useful_start"):
        assert key in m
    assert set(m["capacity"]) == set(m["gap"]) == {"p10", "p50", "p90"}
    assert m["gap"]["p90"] == pytest.approx(m["target"] - m["capacity"]["p10"])
    row = data["tables"]["by_period"][0]
    assert {"period", "target", "capacity_p50", "gap_p50", "headcount", "ramped_fte"} <= set(row)
    for hire in data["tables"]["hiring_plan"]:
        assert {"start_month", "role", "region", "segment", "hires"} <= set(hire)
    assert data["recommendations"] and "warnings" in data


def test_periods_add_up(fy28) -> None:  # type: ignore[no-untyped-def]
    rows = pd.DataFrame(fy28.tables["by_period"])
    for _, g in rows.groupby(["region", "segment"]):
        year = g[g["grain"] == "year"].iloc[0]
        for grain in ("month", "quarter", "half"):
            part = g[g["grain"] == grain]
            assert part["target"].sum() == pytest.approx(year["target"])
            assert part["expected_capacity"].sum() == pytest.approx(year["expected_capacity"])
    groups = rows[(rows["grain"] == "year") & (rows["region"] != "All")]
    total = rows[(rows["grain"] == "year") & (rows["region"] == "All")].iloc[0]
    assert groups["expected_capacity"].sum() == pytest.approx(total["expected_capacity"])
    assert total["target"] == pytest.approx(fy28.metrics["target"])


def test_plan_respects_useful_starts_and_hiring_speed(fy28) -> None:  # type: ignore[no-untyped-def]
    groups = {(g["region"], g["segment"]): g for g in fy28.tables["groups"]}
    plan_rows = pd.DataFrame(fy28.tables["hiring_plan"])
    assert plan_rows["hires"].sum() == fy28.metrics["hires_needed"]
    for (region, segment), rows in plan_rows.groupby(["region", "segment"]):
        g = groups[(region, segment)]
        assert rows["start_month"].max() <= g["last_useful_start"]
        assert rows["hires"].max() <= g["max_hires_per_month"]
        assert rows["hires"].sum() == g["hires"]
    for g in groups.values():
        if g["remaining_gap"] > 0:
            assert any(g["region"] in r.action and "Cut" in r.action for r in fy28.recommendations)


def test_history_estimates_are_sane(fy28) -> None:  # type: ignore[no-untyped-def]
    a = fy28.metrics["assumptions"]
    assert 1 <= a["time_to_fill_months"] <= 5  # the demo refills seats after 1-5 months
    for value in a["attrition_annual"].values():
        assert 0.05 < value < 0.45  # the demo's AEs leave at 21% a year
    for seg in a["ramp"].values():
        assert seg["curve"][-1] == 1.0 and all(0 <= v <= 1 for v in seg["curve"])
    assert len(a["seasonality"]) == 12 and np.mean(a["seasonality"]) == pytest.approx(1.0)


def test_determinism(demo: Warehouse) -> None:
    a = run_capacity(demo, CapacityInput(seed=4, **FAST))
    b = run_capacity(demo, CapacityInput(seed=4, **FAST))
    assert a.model_dump() == b.model_dump()


def test_what_ifs_side_by_side(demo: Warehouse, fy28) -> None:  # type: ignore[no-untyped-def]
    worse = run_capacity(demo, CapacityInput(attrition=0.45, **FAST))
    comparison = {r["metric"]: r for r in worse.tables["comparison"]}
    assert worse.metrics["what_if_inputs"] == ["attrition 45% a year"]
    assert worse.metrics["what_if"]["expected_capacity"] == worse.metrics["expected_capacity"]  # the question as asked
    assert comparison["expected capacity"]["what_if"] < comparison["expected capacity"]["baseline"]
    assert comparison["expected capacity"]["baseline"] == pytest.approx(fy28.metrics["expected_capacity"])
    no_backfill = run_capacity(demo, CapacityInput(backfill=False, **FAST))
    assert no_backfill.metrics["expected_capacity"] < fy28.metrics["expected_capacity"]
    frozen = run_capacity(demo, CapacityInput(freeze_from=date(2026, 12, 1), **FAST))
    assert frozen.metrics["hires_needed"] == 0 and frozen.tables["hiring_plan"] == []
    assert frozen.metrics["expected_capacity"] < no_backfill.metrics["expected_capacity"] + 1  # no requisition starts
    faster = run_capacity(demo, CapacityInput(ramp_months=2, **FAST))
    assert faster.metrics["hires_needed"] <= fy28.metrics["hires_needed"]


def test_scope_and_filters(demo: Warehouse) -> None:
    emea = run_capacity(demo, CapacityInput(filters={"region": ["emea"]}, **FAST))
    assert {g["region"] for g in emea.tables["groups"]} == {"EMEA"}
    scoped = run_capacity(demo, CapacityInput(**FAST), scope=Scope("region", "APAC"))
    assert {g["region"] for g in scoped.tables["groups"]} == {"APAC"}
    with pytest.raises(PermissionDeniedError, match="region APAC"):
        run_capacity(demo, CapacityInput(filters={"region": ["NA"]}, **FAST), scope=Scope("region", "APAC"))


def test_scenarios(demo_copy: Warehouse, fy28) -> None:  # type: ignore[no-untyped-def]
    with demo_copy.reader() as cur:
        rep, other = cur.execute(
            "SELECT rep_id, (SELECT min(rep_id) FROM reps o WHERE o.role = 'AE' AND o.end_date IS NULL "
            "AND o.region = r.region AND o.segment = r.segment AND o.rep_id <> r.rep_id) "
            "FROM reps r WHERE role = 'AE' AND end_date IS NULL AND region = 'NA' AND segment = 'SMB' ORDER BY rep_id"
        ).fetchone()
        owned = [a for (a,) in cur.execute("SELECT account_id FROM accounts WHERE owner_rep_id = ?", [rep]).fetchall()]
        reps = cur.query_df("SELECT rep_id FROM reps WHERE role = 'AE' AND end_date IS NULL ORDER BY rep_id")
    moves = [Change("accounts", (("account_id", a),), "owner_rep_id", rep, other) for a in owned]
    quotas = [Change("quotas", (("rep_id", r), ("period", "FY2028")), "amount", None, "500000") for r in reps["rep_id"]]
    with demo_copy.writer() as cur:
        save_scenario(cur, name="empty-one-rep", kind="territory", changes=moves)
        save_scenario(cur, name="flat-quotas", kind="quota", changes=quotas)
    territory = run_capacity(demo_copy, CapacityInput(scenario_id="empty-one-rep", **FAST))
    assert any(w.code == "reps_without_accounts" and rep in w.message for w in territory.warnings)
    assert territory.metrics["expected_capacity"] < territory.metrics["baseline"]["capacity"]["p90"]
    assert territory.metrics["scenario"]["kind"] == "territory"
    quota = run_capacity(demo_copy, CapacityInput(scenario_id="flat-quotas", **FAST))
    # Every group whose reps hold the plan's quotas must carry them; a group with no rep in the
    # plan (only open requisitions) keeps its target instead of dropping to $0, and says so.
    with demo_copy.reader() as cur:
        seats = dict(
            cur.execute(
                "SELECT region || ' ' || segment, count(*) FROM reps WHERE role = 'AE' AND end_date IS NULL GROUP BY 1"
            ).fetchall()
        )
    base = {(g["region"], g["segment"]): g["target"] for g in fy28.tables["groups"]}
    for g in quota.tables["groups"]:
        key = f"{g['region']} {g['segment']}"
        if key in seats:
            assert g["target"] == pytest.approx(500_000 * seats[key]) and g["target_source"] == "quota plan flat-quotas"
        else:
            assert (
                g["target"] == pytest.approx(base[(g["region"], g["segment"])])
                and g["target_source"] == "targets table"
            )
            assert key in " ".join(quota.metrics["scenario"]["ignored"])
    assert quota.metrics["scenario"]["used"] and "flat-quotas" in quota.metrics["target_source"]
    assert any(w.code == "scenario" for w in quota.warnings) == (len(seats) < len(quota.tables["groups"]))


def test_cli(demo_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["-w", str(demo_path), "capacity", "gap", "--trials", "500", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tool"] == "capacity_gap" and data["metrics"]["hires_needed"] >= 0
    human = runner.invoke(
        app,
        ["-w", str(demo_path), "capacity", "gap", "--trials", "500", "--attrition", "30%", "--freeze-from", "2027-06"],
    )
    assert human.exit_code == 0, human.stderr
    assert "What-if vs baseline" in human.stdout and "By region x segment" in human.stdout
    for args, text in (
        (["--target", "-5M"], "must be positive"),
        (["--ramp-curve", "0,0.5,0.9"], "must end at 100%"),
        (["--attrition", "-10%"], "outside 0-100%"),
        (["--freeze-from", "June"], "not a month"),
        (["--filter", "region=Mars"], "Unknown region"),
    ):
        bad = runner.invoke(app, ["-w", str(demo_path), "capacity", "gap", *args])
        assert bad.exit_code == 3, (args, bad.stderr)
        assert text in bad.stderr


# --- a given number of hires ("we got approval for 4") --------------------------------------------


@pytest.fixture(scope="module")
def given(demo_path: Path):  # type: ignore[no-untyped-def]
    """Capacity on the demo with 0, 2, 4 and 8 given hires (and the plan's own count), same draws."""
    wh = Warehouse(demo_path)
    plan_hires = run_capacity(wh, CapacityInput(**FAST)).metrics["hires_needed"]
    return {n: run_capacity(wh, CapacityInput(hires=n, **FAST)) for n in sorted({0, 2, 4, 8, plan_hires})}, plan_hires


def test_zero_given_hires_is_the_baseline_exactly(given, fy28) -> None:  # type: ignore[no-untyped-def]
    zero = given[0][0]
    assert zero.metrics["what_if"]["capacity"] == zero.metrics["baseline"]["capacity"] == fy28.metrics["capacity"]
    assert zero.metrics["what_if"]["gap"] == fy28.metrics["gap"]
    assert zero.metrics["what_if"]["p_target_met"] == fy28.metrics["p_target_met"]
    assert zero.tables["given_hires"] == [] and all(not r["change"] for r in zero.tables["comparison"])


def test_the_plans_own_count_of_hires_is_the_plan(given, fy28) -> None:  # type: ignore[no-untyped-def]
    results, n = given
    assert n > 0
    same = results[n]
    what_if = same.metrics["what_if"]
    assert what_if["capacity"] == fy28.metrics["capacity_with_plan"]  # to the cent: the same hires on the same draws
    assert what_if["gap"] == fy28.metrics["gap_with_plan"]
    assert what_if["p_target_met"] == fy28.metrics["p_target_met_with_plan"]
    assert same.tables["given_hires"] == fy28.tables["hiring_plan"]
    assert same.metrics["full_plan"]["hires"] == n and same.metrics["full_plan"]["capacity"] == what_if["capacity"]


def test_capacity_rises_with_the_given_hires(given) -> None:  # type: ignore[no-untyped-def]
    results, _ = given
    counts = [0, 2, 4, 8]
    for key in ("p10", "p50", "p90"):
        caps = [results[n].metrics["what_if"]["capacity"][key] for n in counts]
        assert caps == sorted(caps) and caps[0] < caps[-1]
    chances = [results[n].metrics["what_if"]["p_target_met"] for n in counts]
    assert chances == sorted(chances)
    for n in counts[1:]:
        r = results[n]
        assert sum(row["hires"] for row in r.tables["given_hires"]) == n == r.metrics["what_if"]["hires"]
        assert r.metrics["baseline"]["hires"] == 0
    # The first 2 hires are among the first 4: the placement is nested.
    seats = [
        {(h["start_month"], h["region"], h["segment"]): h["hires"] for h in results[n].tables["given_hires"]}
        for n in (2, 4)
    ]
    assert all(seats[1].get(k, 0) >= v for k, v in seats[0].items())


def test_given_hires_answer_first_in_the_what_if_shape(given) -> None:  # type: ignore[no-untyped-def]
    results, n = given
    four = results[4]
    rows = {r["metric"]: r for r in four.tables["comparison"]}
    assert {"hires", "capacity P50", "gap P50", "chance of making target"} <= set(rows)
    assert rows["hires"]["baseline"] == 0 and rows["hires"]["what_if"] == 4
    assert rows["capacity P50"]["change"] == pytest.approx(-rows["gap P50"]["change"])
    assert four.metrics["what_if_inputs"] == ["4 hires"]
    assert four.summary.startswith("With 4 ") and "FY2028 capacity P50 is" in four.summary
    assert f"closing it takes {n} hires" in four.summary
    assert "Seat the 4 approved" in four.recommendations[0].action
    table = four.tables["given_hires"]
    assert {"start_month", "region", "segment", "hires", "expected_adds"} <= set(table[0])
    # The most valuable seats of the plan: no hire of the plan adds more than the least of these.
    least = min(r["expected_adds"] / r["hires"] for r in table)
    plan_rows = results[n].tables["given_hires"]
    chosen = {(r["start_month"], r["region"], r["segment"]) for r in table}
    assert all(
        r["expected_adds"] / r["hires"] <= least + 1e-6
        for r in plan_rows
        if (r["start_month"], r["region"], r["segment"]) not in chosen
    )


def test_a_later_start_gives_less_capacity(demo: Warehouse) -> None:
    early, late = (
        run_capacity(demo, CapacityInput(hires=3, hires_start=month, max_hires_per_month=3, **FAST))
        for month in ("2027-01", "Jun 2027")
    )
    assert {r["start_month"] for r in early.tables["given_hires"]} == {"2027-01"}
    assert {r["start_month"] for r in late.tables["given_hires"]} == {"2027-06"}
    assert late.metrics["what_if"]["capacity"]["p50"] < early.metrics["what_if"]["capacity"]["p50"]
    assert late.metrics["what_if"]["start"] == "2027-06" and "starting 2027-06" in late.summary
    assert early.metrics["baseline"] == late.metrics["baseline"]  # the same team without them


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"hires_start": "2026-10"}, "hires_start 2026-10 is not after the as-of date"),
        ({"hires_start": "2026-11"}, "hires_start 2026-11 is not after the as-of date"),
        ({"hires_start": "2028-02"}, "hires_start 2028-02 is after FY2028 ends"),
        ({"hires_start": "someday"}, "hires_start 'someday' is not a month"),
        ({"hires_start": "YTD"}, "hires_start 'YTD' is a date range"),
        ({"hires_start": "2027-06", "freeze_from": date(2027, 5, 1)}, "hires_start 2027-06 falls in the hiring freeze"),
        ({"hires": 30, "hires_start": "2027-03"}, "hires: only .* of the 30 hires fit in 2027-03"),
    ],
)
def test_bad_given_hires_are_refused_naming_the_field(demo: Warehouse, args: dict, error: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(InputError, match=error) as caught:
        run_capacity(demo, CapacityInput(**{"hires": 2, **args, **FAST}))
    assert caught.value.hint


def test_given_hires_validate_their_inputs() -> None:
    with pytest.raises(ValidationError, match="hires_start needs hires"):
        CapacityInput(hires_start="2027-03")
    with pytest.raises(ValidationError, match="less than or equal to 500"):
        CapacityInput(hires=501)
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        CapacityInput(hires=-1)
