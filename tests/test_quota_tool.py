"""The quota tool end to end on the demo warehouse."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from interfaces.cli import app
from tools.quota.models import Adjustment, QuotaInput
from tools.quota.tool import run_quota
from warehouse.connection import Warehouse
from warehouse.errors import InputError, PermissionDeniedError
from warehouse.identity import Scope
from warehouse.scenarios import get_scenario, scenario_changes

FAST = {"trials": 1_000}


@pytest.fixture(scope="module")
def next_year(demo_path: Path):  # type: ignore[no-untyped-def]
    return run_quota(Warehouse(demo_path), QuotaInput(**FAST))


def _reps(result) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return pd.DataFrame(result.tables["reps"])


def test_contract_and_exact_total(next_year, demo: Warehouse) -> None:  # type: ignore[no-untyped-def]
    r = next_year
    m = r.metrics
    assert r.tool == "quota_simulate" and r.data_fingerprint.startswith("sha256:") and r.summary
    with demo.reader() as cur:
        target = cur.scalar("SELECT sum(amount) FROM targets WHERE period LIKE 'FY2028-Q%'")
    assert m["period"] == "FY2028" and m["target"] == pytest.approx(target)
    assert m["total_quota"] == pytest.approx(target * 1.10, abs=0.01)
    assert _reps(r)["quota"].sum() == pytest.approx(target * 1.10, abs=0.01)
    for key in ("share_reps_at_quota", "bookings", "payout", "cost_of_sales"):
        q = m[key]
        assert q["p10"] <= q["p50"] <= q["p90"]
    assert {"gini_quota_to_potential", "hit_probability_spread", "reps_over_capacity"} <= set(m["fairness"])
    assert {"rep_id", "name", "quota", "p_hit", "expected_attainment", "potential"} <= set(r.tables["reps"][0])


def test_open_requisitions_ramp_and_carry_less(demo: Warehouse) -> None:
    result = run_quota(demo, QuotaInput(method="equal", unit=0, **FAST))
    reps = _reps(result)
    reqs = reps[reps["kind"] == "req"]
    assert len(reqs) >= 2 and (reqs["capacity"] < 1).all() and (reqs["capacity"] > 0).all()
    # With equal shares, every quota is the same amount per unit of capacity: a requisition that
    # starts later, or a rep still ramping, carries exactly its capacity's share.
    per_capacity = reps["quota"] / reps["capacity"]
    assert per_capacity.max() == pytest.approx(per_capacity.min(), rel=1e-3)  # capacity is shown to 4 decimals
    assert reqs["quota"].max() < reps.loc[reps["capacity"] == 1, "quota"].min()


def test_current_method_evaluates_the_stored_quotas(demo: Warehouse) -> None:
    result = run_quota(demo, QuotaInput(period="FY2027-Q4", method="current", **FAST))
    with demo.reader() as cur:
        stored = dict(cur.execute("SELECT rep_id, amount FROM quotas WHERE period = 'FY2027-Q4'").fetchall())
    reps = _reps(result)
    for row in reps[reps["kind"] == "rep"].itertuples():
        assert row.quota == pytest.approx(stored.get(row.rep_id, 0.0))
    codes = {w.code for w in result.warnings}
    assert {"reps_without_quota", "quotas_without_rep"} <= codes
    # Mid-period: what is already booked is credited.
    assert reps["booked_to_date"].sum() > 0


def test_reallocation_credits_closed_bookings(demo: Warehouse) -> None:
    result = run_quota(demo, QuotaInput(period="FY2027-Q4", target=12_000_000, reallocate=True, **FAST))
    reps = _reps(result)
    assert reps["quota"].sum() == pytest.approx(13_200_000, abs=0.01)
    assert (reps["quota"] >= reps["booked_to_date"] - 1e-6).all()


def test_determinism(demo: Warehouse) -> None:
    a = run_quota(demo, QuotaInput(seed=3, **FAST)).model_dump()
    b = run_quota(demo, QuotaInput(seed=3, **FAST)).model_dump()
    assert a == b


def test_what_if_adjustment_and_leaver(demo: Warehouse, next_year) -> None:  # type: ignore[no-untyped-def]
    reps = _reps(next_year)
    leaver = reps[(reps["kind"] == "rep") & (reps["region"] == "NA")]["rep_id"].iloc[0]
    result = run_quota(demo, QuotaInput(adjustments=[Adjustment.parse("region=EMEA:+10%")], leave=[leaver], **FAST))
    w = pd.DataFrame(result.tables["rep_comparison"]).set_index("rep_id")
    emea = set(reps.loc[reps["region"] == "EMEA", "rep_id"])
    for rep_id, row in w.iterrows():
        if rep_id == leaver:
            assert row["quota_what_if"] == 0
        elif rep_id in emea:
            assert row["quota_what_if"] == pytest.approx(row["quota_baseline"] * 1.1)
        else:
            assert row["quota_what_if"] == pytest.approx(row["quota_baseline"])
    # The result is the plan as asked; the baseline sits beside it, on the same draws.
    assert result.metrics["bookings"] == result.metrics["what_if"]["bookings"]
    assert result.metrics["what_if"]["bookings"]["p50"] < result.metrics["baseline"]["bookings"]["p50"]
    assert result.metrics["baseline"]["total_quota"] == pytest.approx(next_year.metrics["total_quota"])
    emea = {r["metric"]: r for r in result.tables["comparison"] if r.get("region") == "EMEA"}
    assert emea["quota"]["what_if"] == pytest.approx(emea["quota"]["baseline"] * 1.1, rel=1e-6)
    assert emea["expected share of reps at quota"]["change"] < 0  # higher quotas: fewer EMEA reps make them


def test_invalid_inputs_get_clear_errors(demo: Warehouse) -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        QuotaInput(target=-5)
    with pytest.raises(ValidationError):
        QuotaInput(method="vibes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="sum to 1"):
        QuotaInput(weights=(0.7, 0.7))
    with pytest.raises(ValueError, match="DIM=VALUE"):
        Adjustment.parse("EMEA+10")
    with pytest.raises(InputError, match="Unknown region"):
        run_quota(demo, QuotaInput(filters={"region": ["Atlantis"]}, **FAST))
    with pytest.raises(InputError, match="is a month"):
        run_quota(demo, QuotaInput(period="2026-12", **FAST))
    with pytest.raises(InputError, match="ended before"):
        run_quota(demo, QuotaInput(period="FY2026", **FAST))
    with pytest.raises(InputError, match="matches no rep"):
        run_quota(
            demo, QuotaInput(adjustments=[Adjustment.parse("region=EMEA:+5%")], filters={"region": ["NA"]}, **FAST)
        )


def test_no_reps_in_selection(empty: Warehouse) -> None:
    with empty.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('EMEA', 0)")
    with pytest.raises(InputError, match="No AEs"):
        run_quota(
            empty,
            QuotaInput(
                period="FY2027", target=1_000_000, filters={"region": ["EMEA"]}, as_of=date(2026, 1, 10), **FAST
            ),
        )


def test_scope(demo: Warehouse) -> None:
    scoped = run_quota(demo, QuotaInput(**FAST), scope=Scope("region", "EMEA"))
    assert set(_reps(scoped)["region"]) == {"EMEA"}
    with pytest.raises(PermissionDeniedError, match="region EMEA"):
        run_quota(demo, QuotaInput(filters={"region": ["APAC"]}, **FAST), scope=Scope("region", "EMEA"))


def test_save_scenario_then_evaluate_it(demo_copy: Warehouse) -> None:
    saved = run_quota(demo_copy, QuotaInput(method="potential", save_scenario="fy28-potential", **FAST))
    info = saved.metrics["saved_scenario"]
    reps = _reps(saved).set_index("rep_id")
    with demo_copy.reader() as cur:
        scenario = get_scenario(cur, "fy28-potential")
        changes = scenario_changes(cur, scenario.scenario_id)
    assert scenario.kind == "quota" and scenario.status == "draft" and info["changes"] == len(changes)
    per_rep: dict[str, float] = {}
    for c in changes:
        per_rep[dict(c.key)["rep_id"]] = per_rep.get(dict(c.key)["rep_id"], 0.0) + float(c.new or 0)
    for rep_id, total in per_rep.items():
        assert total == pytest.approx(reps.loc[rep_id, "quota"])  # quarters add up to the annual quota
    evaluated = run_quota(demo_copy, QuotaInput(method="current", scenario_id="fy28-potential", **FAST))
    w = pd.DataFrame(evaluated.tables["rep_comparison"]).set_index("rep_id")
    assert w.loc[list(per_rep), "quota_what_if"].sum() == pytest.approx(sum(per_rep.values()))
    with demo_copy.reader() as cur:  # the base quotas did not change
        assert cur.scalar("SELECT count(*) FROM quotas WHERE period LIKE 'FY2028%'") == 0


def test_cli_json_and_human(demo_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["-w", str(demo_path), "quota", "simulate", "--trials", "500", "--over-assign", "15%", "--json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tool"] == "quota_simulate" and data["metrics"]["over_assign"] == 0.15
    assert {"p10", "p50", "p90"} <= set(data["metrics"]["share_reps_at_quota"])
    human = CliRunner().invoke(
        app, ["-w", str(demo_path), "quota", "simulate", "--trials", "500", "--adjust", "segment=SMB:-5%"]
    )
    assert human.exit_code == 0 and "What-if" in human.stdout and "Reps" in human.stdout
    bad = CliRunner().invoke(app, ["-w", str(demo_path), "quota", "simulate", "--weights", "0.9,0.9"])
    assert bad.exit_code == 3 and "sum to 1" in bad.stderr
    bad_target = CliRunner().invoke(app, ["-w", str(demo_path), "quota", "simulate", "--target", "lots"])
    assert bad_target.exit_code == 3 and "48M" in bad_target.stderr


def test_given_comp_plan_drives_the_payout(demo: Warehouse) -> None:
    from tools.quota.models import CompPlanInput

    nothing = run_quota(demo, QuotaInput(comp_plan=CompPlanInput(variable_share=0.0), **FAST))
    assert nothing.metrics["payout"]["p90"] == 0
    rich = run_quota(
        demo,
        QuotaInput(
            comp_plan=CompPlanInput.model_validate(
                {"variable_share": 0.5, "accelerators": [{"from": 1.0, "multiplier": 3.0}]}
            ),
            **FAST,
        ),
    )
    plain = run_quota(demo, QuotaInput(comp_plan=CompPlanInput(variable_share=0.5), **FAST))
    assert rich.metrics["payout"]["p50"] > plain.metrics["payout"]["p50"]
    result = CliRunner().invoke(
        app, ["-w", str(demo.path), "quota", "simulate", "--trials", "200", "--comp-plan", "{oops"]
    )
    assert result.exit_code == 3 and "not JSON" in result.stderr


def test_a_binding_cap_bounds_the_over_assignment_search(demo: Warehouse) -> None:
    """A cap tight enough that doubling the target cannot fit used to abort the solver."""
    result = run_quota(demo, QuotaInput(cap=1_500_000, **FAST))
    reps = _reps(result)
    assert result.metrics["total_quota"] == pytest.approx(reps["quota"].sum(), abs=0.01)
    assert reps["quota"].max() <= 1_500_000 + 1_000  # within one rounding unit of the cap
