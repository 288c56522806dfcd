"""The quota tool: allocate a period's target to reps and simulate what happens.

Flow: reps and open requisitions in seat (load.py) -> territory history, potential and
expected bookings calibrated to the forecast's outlook (setup.py) -> allocation by method with
capacity, floors, caps and exact rounding (plan.py) -> Monte Carlo of bookings (lognormal,
market factor, ramp, attrition) -> attainment, payout and fairness (report.py) -> the what-if
on the same draws (whatif.py) -> recommendations (recommend.py) -> a draft scenario of the plan
as asked (save.py).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from tools.contract import DataWarning
from tools.core import format as fmt
from tools.core import whatif as shape
from tools.forecast.outlook import Outlook, outlook
from tools.quota import plan, recommend, report, save, setup, whatif
from tools.quota.load import Data, load
from tools.quota.models import QuotaInput, QuotaResult
from tools.quota.payout import CompPlan
from tools.quota.simulate import Summary, match_totals, run, totals
from warehouse.connection import Warehouse
from warehouse.identity import Scope


def run_quota(
    warehouse: Warehouse, params: QuotaInput, *, scope: Scope | None = None, user: str | None = None
) -> QuotaResult:
    if params.save_scenario and not warehouse.writable:
        raise RuntimeError("saving a scenario needs a writable warehouse handle")
    data = load(warehouse, params, scope or Scope.everything())
    people = data.people
    given = _given_plan(params)
    base_setup, info, notes = setup.build(data, people, data.accounts, given)
    expected_by_territory = base_setup.expected_total
    view = outlook(warehouse, data.selection, data.period, params.as_of)
    base_setup = base_setup.scaled(setup.calibration(base_setup, view.mean if view else None))
    warnings = [DataWarning(code="comp_plan", message=n) for n in notes] + _warnings(data, params, people, base_setup)
    goal = plan.target(data, params)
    quotas = plan.quotas(data, params, base_setup, people, goal, params.over_assign)
    warnings += _quota_warnings(data, params, people, quotas, base_setup)
    asked_quotas, asked_setup, use = quotas, base_setup, None
    if params.has_what_if():
        w = whatif.apply(data, params, people, quotas, base_setup, given)
        warnings += [DataWarning(code="what_if", message=n) for n in w.notes]
        asked_quotas, asked_setup, use = w.quotas, w.setup, w.scenario
        if use is not None:
            warnings += [DataWarning(code="scenario", message=n) for n in use.notes()]
    # The baseline's totals follow the forecast's outlook (quantile-matched); the what-if runs on
    # the same draws with the same per-trial scale, so a leaver or a moved account changes the
    # total by what that rep would have booked in each trial, and nothing else.
    if view is not None:
        drawn = totals(base_setup.sim, trials=params.trials, seed=params.seed)
        fit = match_totals(drawn, view.samples, float(base_setup.booked.sum()))
        base_setup = replace(base_setup, trial_scale=fit)
        asked_setup = replace(asked_setup, trial_scale=fit)
    base_summary = _simulate(base_setup, quotas, params)
    asked_summary = _simulate(asked_setup, asked_quotas, params) if params.has_what_if() else base_summary
    metrics: dict[str, Any] = {
        "period": data.period.name,
        "as_of": data.as_of.isoformat(),
        "method": params.method,
        "weights": list(params.weights),
        "over_assign": params.over_assign
        if params.method != "current" or not goal
        else round(float(quotas.sum()) / goal - 1, 4),
        "target": goal,
        **report.headline(asked_summary, asked_quotas, asked_setup, goal),
        "expected_bookings_basis": _basis(view, expected_by_territory, base_setup),
        "reps": int((people["kind"] == "rep").sum()),
        "open_requisitions": int((people["kind"] == "req").sum()),
        "trials": params.trials,
        "seed": params.seed,
        "assumptions": info,
    }
    if view is not None:
        metrics["bookings_outlook"] = view.as_dict()
    rows = report.rep_rows(people, asked_quotas, asked_summary, asked_setup)
    tables: dict[str, list[dict[str, Any]]] = {"reps": rows}
    inputs = whatif.describe(params, data)
    if params.has_what_if():
        base_head = report.headline(base_summary, quotas, base_setup, goal)
        asked_head = {k: metrics[k] for k in base_head}
        groups: list[tuple[str, str]] = [(str(a.dim), a.value) for a in params.adjustments]
        comparison = shape.comparison(base_head, asked_head, report.FIGURES) + report.group_rows(
            people, groups, (quotas, base_summary), (asked_quotas, asked_summary)
        )
        shape.attach(metrics, tables, baseline=base_head, what_if=asked_head, inputs=inputs, rows=comparison)
        base_rows = {r["rep_id"]: r for r in report.rep_rows(people, quotas, base_summary, base_setup)}
        tables["rep_comparison"] = [
            {
                "rep_id": r["rep_id"],
                "name": r["name"],
                "quota_baseline": base_rows[r["rep_id"]]["quota"],
                "quota_what_if": r["quota"],
                "p_hit_baseline": base_rows[r["rep_id"]]["p_hit"],
                "p_hit_what_if": r["p_hit"],
            }
            for r in rows
        ]
        if use is not None:
            metrics["scenario"] = use.info()
    recs, rec_tables = recommend.recommendations(data, params, people, asked_quotas, asked_setup, asked_summary, goal)
    tables.update(rec_tables)
    if params.save_scenario:
        metrics["saved_scenario"] = save.save(warehouse, data, params, people, asked_quotas, metrics, inputs, user)
    return QuotaResult(
        summary=report.summary_text(data.period.name, metrics, params.method, goal),
        metrics=metrics,
        tables=tables,
        recommendations=recs,
        assumptions=_assumptions(params, info, view, metrics["expected_bookings_basis"]),
        warnings=warnings,
        data_fingerprint=data.fingerprint,
    )


def _simulate(s: setup.Setup, quotas: np.ndarray, params: QuotaInput) -> Summary:
    return run(
        s.sim,
        {"q": quotas},
        {"q": setup.payout_fn(s)},
        trials=params.trials,
        seed=params.seed,
        scale=s.trial(params.trials),
    )["q"]


def _given_plan(params: QuotaInput) -> CompPlan | None:
    cp = params.comp_plan
    if cp is None:
        return None
    return CompPlan(
        variable_share=cp.variable_share,
        threshold=cp.threshold,
        decelerator=cp.decelerator,
        accelerators=tuple((t.start, t.multiplier) for t in cp.accelerators),
        cap=cp.cap,
        name=setup.GIVEN_PLAN,
    )


def _basis(view: Outlook | None, territory: float, calibrated: setup.Setup) -> dict[str, Any]:
    return {
        "source": "forecast outlook" if view is not None else "territory model",
        "expected": round(calibrated.expected_total, 2),
        "territory_model": round(territory, 2),
        "scale": round(calibrated.scale, 4),
    }


def _warnings(data: Data, params: QuotaInput, people: Any, base: setup.Setup) -> list[DataWarning]:
    out = []
    if (people["kind"] == "req").any():
        out.append(
            DataWarning(
                code="open_requisitions",
                count=int((people["kind"] == "req").sum()),
                message="Open requisitions carry ramped quotas from their planned start; they are filled at the same "
                "quota when hired.",
            )
        )
    return out


def _quota_warnings(
    data: Data, params: QuotaInput, people: Any, quotas: np.ndarray, base: setup.Setup
) -> list[DataWarning]:
    out = []
    seated = base.capacity > 0
    if params.method == "current":
        missing = people.loc[(quotas == 0) & (people["kind"] == "rep").to_numpy() & seated, "rep_id"].tolist()
        if missing:
            out.append(
                DataWarning(
                    code="reps_without_quota",
                    count=len(missing),
                    message=f"{len(missing)} reps in seat have no stored quota for {data.period.name}: "
                    f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}.",
                )
            )
    stored = plan.period_quotas(data)
    ghosts = sorted(set(stored[stored > 0].index) - set(people["rep_id"]))
    if ghosts and not data.team:
        out.append(
            DataWarning(
                code="quotas_without_rep",
                count=len(ghosts),
                message=f"{len(ghosts)} stored {data.period.name} quotas belong to reps who are not in seat: "
                f"{', '.join(ghosts[:8])}.",
            )
        )
    return out


def _assumptions(params: QuotaInput, info: dict[str, Any], view: Outlook | None, basis: dict[str, Any]) -> list[str]:
    if view is not None:
        expected = (
            f"Expected bookings are {view.describe()}; each rep's share of it follows the territory model (trailing "
            f"run-rate blended with potential x segment penetration, grown {info['growth_assumed']:+.0%}), which alone "
            f"would expect {fmt.money(basis['territory_model'])}. The simulation's own P10-P90 comes from rep-level "
            "volatility around the same mean, so it differs from the forecast's range."
        )
    else:
        expected = (
            "Expected bookings blend each territory's trailing-12-month run-rate with its potential x segment "
            f"penetration, grown {info['growth_assumed']:+.0%} (no forecast outlook reaches this period or selection)."
        )
    out = [
        expected,
        f"Bookings are lognormal per rep (mean CV {info['mean_rep_cv']:.2f}) with a shared market factor "
        f"(CV {info['market_cv']:.2f}, mean pairwise correlation {info['mean_pairwise_correlation']:.2f}).",
        f"Attrition {info['attrition_per_year']:.0%} a year (history); new hires ramp linearly over their ramp months.",
    ]
    if params.reallocate:
        out.append(
            "Mid-period re-allocation: bookings closed so far are credited and only the rest of the target is re-allocated."
        )
    return out
