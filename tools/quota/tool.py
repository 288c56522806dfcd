"""The quota tool: allocate a period's target to reps and simulate what happens.

Flow: reps and open requisitions in seat -> territory history and potential -> allocation by
method (with capacity, floors, caps, exact rounding) -> Monte Carlo of bookings (lognormal,
market factor, ramp, attrition) -> attainment, payout and fairness -> what-if side by side ->
recommendations (rebalance unfair quotas, solve the over-assignment for a share at quota).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tools.contract import DataWarning, Impact, Recommendation
from tools.filters import resolve_filters
from tools.forecast.hierarchy import build_hierarchy
from tools.forecast.targets import node_targets
from tools.quota import estimate, loader
from tools.quota.allocate import AllocationInput, allocate, round_exact
from tools.quota.fairness import fairness
from tools.quota.models import QuotaInput, QuotaResult
from tools.quota.payout import CompPlan, payout_multiple
from tools.quota.simulate import SimulationInput, Summary, lognormal_sigma, run
from tools.scope import Scope
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.scenarios import Change, get_scenario, overlay, save_scenario, scenario_changes

DEFAULT_PLAN = CompPlan(variable_share=0.5, threshold=0.5, name="default (50% variable, no accelerators)")
SOLVER_TRIALS = 2_000


@dataclass
class Data:
    as_of: date
    calendar: FiscalCalendar
    period: Period
    filters: dict[str, list[str]]
    people: pd.DataFrame
    accounts: pd.DataFrame
    account_bookings: pd.DataFrame
    prior_total: float
    recent_total: float
    quarterly: pd.DataFrame
    company_quarterly: pd.Series
    ae_history: pd.DataFrame
    targets: pd.DataFrame
    plans: pd.DataFrame
    quotas: pd.DataFrame
    booked: pd.DataFrame
    fingerprint: str
    scenario: dict[str, Any] | None = None
    changes: list[Change] = field(default_factory=list)


def _as_of(cur: Any, requested: date | None) -> date:
    if requested is not None:
        return requested
    meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
    return date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today()


def load(warehouse: Warehouse, params: QuotaInput, scope: Scope) -> Data:
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        calendar = FiscalCalendar(int(meta.get("fiscal_year_start_month", "1")))
        as_of = _as_of(cur, params.as_of)
        period = calendar.parse(params.period) if params.period else calendar.year(calendar.fiscal_year_of(as_of) + 1)
        if period.grain == "month":
            raise InputError(
                f"{period.name} is a month.", "Quota periods are fiscal quarters, halves or years (FY2028, FY2028-Q1)."
            )
        if period.end <= as_of:
            raise InputError(f"{period.name} ended before {as_of}.", "Simulate a current or future period.")
        plain = {d: v for d, v in params.filters.items() if d != "manager"}
        filters = resolve_filters(cur, plain, allowed=("region", "segment"))
        if "manager" in params.filters:
            filters["manager"] = resolve_filters(cur, {"rep": params.filters["manager"]}, allowed=("rep",))["rep"]
        scope.check_filters(filters)
        adjusted: dict[str, list[str]] = {}
        for adj in params.adjustments:  # "raise APAC quotas" asked by an EMEA leader names APAC data
            adjusted.setdefault(adj.dim, []).append(adj.value)
        scope.check_filters(adjusted)
        sel = loader.Selection(scope, filters)
        reps = loader.reps_in_seat(cur, sel, period, as_of)
        reqs = loader.open_requisitions(cur, sel, period)
        people = pd.concat([reps, reqs], ignore_index=True) if len(reqs) else reps
        if people.empty:
            what = ", ".join(f"{d} {'/'.join(v)}" for d, v in filters.items()) or scope.describe()
            raise InputError(
                f"No AEs or open requisitions in seat during {period.name} for {what}.", "Widen the filters or hire."
            )
        since, before = loader.trailing_window(as_of)
        accounts = loader.accounts(cur, sel)
        account_bookings = loader.account_bookings(cur, sel, since, before)
        prior = loader.account_bookings(cur, sel, since - timedelta(days=365), since)
        current_q = calendar.period_of(as_of, "quarter")
        history_q = [calendar.shift(current_q, -k) for k in range(12, 0, -1)]
        quarterly = loader.quarterly_bookings(cur, sel, calendar, history_q)
        company = quarterly.groupby("quarter")["amount"].sum().reindex([q.name for q in history_q]).fillna(0.0)
        ae_hist = loader.ae_history(cur, sel)
        targets = loader.targets(cur, sel)
        plans = loader.comp_plans(cur)
        quotas = loader.stored_quotas(cur, sel)
        booked = (
            loader.booked_in_period(cur, sel, period, as_of)
            if period.start < as_of
            else pd.DataFrame(columns=["rep_id", "amount"])
        )
        tables = ["reps", "headcount_plan", "accounts", "bookings", "targets", "comp_plans", "quotas", "meta"]
        scenario_info, changes = None, []
        if params.scenario_id is not None:
            scenario = get_scenario(cur, params.scenario_id)
            changes = scenario_changes(cur, scenario.scenario_id)
            scenario_info = {
                "scenario_id": scenario.scenario_id,
                "name": scenario.name,
                "kind": scenario.kind,
                "changes": len(changes),
            }
            tables += ["scenarios", "scenario_changes"]
        fp = fingerprint(cur, tables)
    return Data(
        as_of=as_of,
        calendar=calendar,
        period=period,
        filters=filters,
        people=people.reset_index(drop=True),
        accounts=accounts,
        account_bookings=account_bookings,
        prior_total=float(prior["amount"].sum()),
        recent_total=float(account_bookings["amount"].sum()),
        quarterly=quarterly,
        company_quarterly=company,
        ae_history=ae_hist,
        targets=targets,
        plans=plans,
        quotas=quotas,
        booked=booked,
        fingerprint=fp,
        scenario=scenario_info,
        changes=changes,
    )


def _period_quotas(data: Data) -> pd.Series:
    """Stored quota per rep for the period (summed over the quotas overlapping it, pro-rated)."""
    q = data.quotas
    if q.empty:
        return pd.Series(dtype=float)
    weights = []
    for name in q["period"]:
        try:
            p = data.calendar.parse(str(name))
        except InputError:
            weights.append(0.0)
            continue
        start, end = max(p.start, data.period.start), min(p.end, data.period.end)
        months = (end.year - start.year) * 12 + end.month - start.month if start < end else 0
        weights.append(months / p.months)
    return (q["amount"] * np.asarray(weights)).groupby(q["rep_id"]).sum()


def _target(data: Data, params: QuotaInput) -> float | None:
    if params.target is not None:
        return float(params.target)
    if "manager" in data.filters:
        return None
    hierarchy = build_hierarchy([], [()])
    value = node_targets(
        hierarchy,
        {k: v for k, v in data.filters.items()},
        [data.period],
        data.calendar,
        data.targets,
        pd.DataFrame(columns=["rep_id", "period", "amount"]),
    )[0, 0]
    return None if np.isnan(value) else float(value)


def _plans(
    data: Data, segments: pd.Series, given: CompPlan | None = None
) -> tuple[list[CompPlan], np.ndarray, list[str]]:
    """Comp plan per rep: the given one, or the AE plan of the period's fiscal year and segment."""
    notes: list[str] = []
    if given is not None:
        return [given], np.zeros(len(segments), dtype=int), []
    plans = data.plans
    fy = data.period.fiscal_year
    chosen: list[CompPlan] = []
    index = np.zeros(len(segments), dtype=int)
    cache: dict[str, int] = {}
    for i, seg in enumerate(segments):
        if seg not in cache:
            rows = plans[(plans["role"] == "AE") & (plans["segment"] == seg)]
            if rows.empty:
                rows = plans[plans["role"] == "AE"]
            same_year = rows[rows["fiscal_year"] == fy]
            latest = same_year if not same_year.empty else rows.sort_values("fiscal_year")
            if latest.empty:
                notes.append(f"No AE comp plan for {seg}: using {DEFAULT_PLAN.name}.")
                plan = DEFAULT_PLAN
            else:
                row = latest.iloc[-1].to_dict()
                if row.get("fiscal_year") != fy:
                    notes.append(f"No FY{fy} plan for {seg}: using {row['plan_id']}.")
                plan = CompPlan.from_row(row)
            cache[seg] = len(chosen)
            chosen.append(plan)
        index[i] = cache[seg]
    return chosen, index, notes


@dataclass
class Setup:
    """Everything a quota set is simulated against."""

    sim: SimulationInput
    expected_full: np.ndarray
    history: np.ndarray
    potential: np.ndarray
    capacity: np.ndarray
    booked: np.ndarray
    target_variable: np.ndarray
    plans: list[CompPlan]
    plan_of: np.ndarray


def _setup(
    data: Data, people: pd.DataFrame, accounts: pd.DataFrame, plan: CompPlan | None = None
) -> tuple[Setup, dict[str, Any], list[str]]:
    notes: list[str] = []
    period, cal = data.period, data.calendar
    ramp = (
        people["ramp_months"]
        .astype("Float64")
        .fillna(people["segment"].map(estimate.DEFAULT_RAMP_MONTHS))
        .fillna(5)
        .astype(float)
    )
    cap = estimate.capacity(people["hire_date"], people["end_date"], ramp, period)
    hist, pot, deals = estimate.territory_basis(people, accounts, data.account_bookings)
    pen = estimate.penetration(accounts, data.account_bookings)
    growth = float(np.clip(data.recent_total / data.prior_total - 1, -0.3, 0.6)) if data.prior_total > 0 else 0.0
    annual = estimate.expected_annual(people["segment"], hist, pot, deals, pen, growth)
    share = estimate.seasonal_share(cal, period, data.company_quarterly)
    expected_full = annual * share * cap
    quarters = max(period.months / 3, 1 / 3)
    remaining = 1.0
    booked = np.zeros(len(people))
    if period.start < data.as_of:
        remaining = (period.end - data.as_of).days / (period.end - period.start).days
        booked = (
            people["rep_id"]
            .map(data.booked.set_index("rep_id")["amount"] if len(data.booked) else {})
            .fillna(0.0)
            .to_numpy(dtype=float)
        )
    cv = estimate.volatility(data.quarterly, people["segment"]) / np.sqrt(max(quarters * remaining, 1 / 3))
    market = estimate.market_cv(data.company_quarterly.to_numpy()) / np.sqrt(max(quarters * remaining, 1 / 3))
    hazard = estimate.attrition_per_month(data.ae_history, data.as_of)
    ote = people["ote"].astype(float)
    ote = ote.fillna(ote.groupby(people["segment"]).transform("median")).fillna(ote.median()).fillna(150_000.0)
    plans, plan_of, plan_notes = _plans(data, people["segment"], plan)
    notes += plan_notes
    tv = ote.to_numpy() * np.array([plans[k].variable_share for k in plan_of]) * period.months / 12
    sim = SimulationInput(
        expected=expected_full * remaining,
        sigma=lognormal_sigma(cv),
        sigma_market=float(lognormal_sigma(market)),
        attrition_per_month=hazard,
        months=period.months * remaining,
        booked=booked,
    )
    # Mean over pairs i != j of s_m^2 / sqrt(v_i v_j), v = s_m^2 + s_i^2, without the n x n matrix.
    s_m2 = float(sim.sigma_market) ** 2
    inv = 1 / np.sqrt(s_m2 + sim.sigma**2 + 1e-18)
    n = len(inv)
    mean_corr = s_m2 * (inv.sum() ** 2 - (inv**2).sum()) / (n * (n - 1)) if n > 1 else 0.0
    info = {
        "growth_assumed": round(growth, 4),
        "seasonal_share_of_year": round(share, 4),
        "market_cv": round(float(market), 4),
        "mean_rep_cv": round(float(np.mean(cv)), 4),
        "mean_pairwise_correlation": round(float(mean_corr), 4),
        "attrition_per_year": round(1 - (1 - hazard) ** 12, 4),
        "penetration": {k: round(v, 5) for k, v in pen.items()},
    }
    return Setup(sim, expected_full, hist, pot, cap, booked, tv, plans, plan_of), info, notes


def _payout_fn(setup: Setup, quotas: np.ndarray):  # type: ignore[no-untyped-def]
    def fn(attainment: np.ndarray) -> np.ndarray:
        out = np.zeros_like(attainment)
        for k, plan in enumerate(setup.plans):
            cols = setup.plan_of == k
            out[:, cols] = payout_multiple(attainment[:, cols], plan) * setup.target_variable[cols]
        return out

    return fn


def _allocate(
    data: Data, params: QuotaInput, setup: Setup, people: pd.DataFrame, target: float | None, over: float
) -> np.ndarray:
    if params.method == "current":
        stored = _period_quotas(data)
        return people["rep_id"].map(stored).fillna(0.0).to_numpy(dtype=float)
    if target is None:
        raise InputError(
            f"No target found for {data.period.name} and this selection.",
            "Give one with --target AMOUNT (team selections always need one).",
        )
    keep = setup.capacity > 0
    ids = people["rep_id"].tolist()
    total = target * (1 + over)
    quotas = np.zeros(len(people))
    if params.reallocate and setup.booked.sum() > 0:
        remaining = max(total - setup.booked.sum(), 0.0)
        part = allocate(
            AllocationInput(
                [ids[i] for i in np.flatnonzero(keep)], setup.history[keep], setup.potential[keep], setup.capacity[keep]
            ),
            total=remaining,
            method=params.method,
            weights=params.weights,
            floor=params.floor,
            cap=params.cap,
            unit=params.unit,
        )
        quotas[keep] = part
        return quotas + setup.booked
    quotas[keep] = allocate(
        AllocationInput(
            [ids[i] for i in np.flatnonzero(keep)], setup.history[keep], setup.potential[keep], setup.capacity[keep]
        ),
        total=total,
        method=params.method,
        weights=params.weights,
        floor=params.floor,
        cap=params.cap,
        unit=params.unit,
    )
    return quotas


def _q(values: np.ndarray) -> dict[str, float]:
    v = values[np.isfinite(values)]
    if not len(v):
        return {"p10": 0.0, "p50": 0.0, "p90": 0.0}
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return {"p10": round(float(p10), 4), "p50": round(float(p50), 4), "p90": round(float(p90), 4)}


def _metrics(
    summary: Summary, quotas: np.ndarray, setup: Setup, target: float | None, seated: np.ndarray
) -> dict[str, Any]:
    fair = fairness(quotas[seated], setup.potential[seated], summary.p_hit[seated], summary.p90_bookings[seated])
    return {
        "total_quota": round(float(quotas.sum()), 2),
        "share_reps_at_quota": _q(summary.share_at_quota),
        "bookings": {k: round(v, 2) for k, v in _q(summary.total_bookings).items()},
        "p_bookings_at_or_above_target": None
        if target is None
        else round(float((summary.total_bookings >= target).mean()), 4),
        "payout": {k: round(v, 2) for k, v in _q(summary.total_payout).items()},
        "cost_of_sales": _q(summary.cost_of_sales),
        "fairness": {k: v for k, v in fair.items() if k != "over_capacity_index"},
    }


def run_quota(
    warehouse: Warehouse, params: QuotaInput, *, scope: Scope | None = None, user: str | None = None
) -> QuotaResult:
    scope = scope or Scope.everything()
    if params.save_scenario and not warehouse.writable:
        raise RuntimeError("saving a scenario needs a writable warehouse handle")
    data = load(warehouse, params, scope)
    people = data.people
    warnings: list[DataWarning] = []
    given = None
    if params.comp_plan is not None:
        cp = params.comp_plan
        given = CompPlan(
            variable_share=cp.variable_share,
            threshold=cp.threshold,
            decelerator=cp.decelerator,
            accelerators=tuple((t.start, t.multiplier) for t in cp.accelerators),
            cap=cp.cap,
            name="given plan",
        )
    setup, info, notes = _setup(data, people, data.accounts, given)
    warnings += [DataWarning(code="comp_plan", message=n) for n in notes]
    target = _target(data, params)
    quotas = _allocate(data, params, setup, people, target, params.over_assign)
    seated = setup.capacity > 0
    if params.method == "current":
        missing = people.loc[(quotas == 0) & (people["kind"] == "rep").to_numpy() & seated, "rep_id"].tolist()
        if missing:
            warnings.append(
                DataWarning(
                    code="reps_without_quota",
                    count=len(missing),
                    message=f"{len(missing)} reps in seat have no stored quota for {data.period.name}: {_some(missing)}.",
                )
            )
    stored = _period_quotas(data)
    ghosts = sorted(set(stored[stored > 0].index) - set(people["rep_id"]))
    if ghosts and "manager" not in data.filters:
        warnings.append(
            DataWarning(
                code="quotas_without_rep",
                count=len(ghosts),
                message=f"{len(ghosts)} stored {data.period.name} quotas belong to reps who are not in seat: {', '.join(ghosts[:8])}.",
            )
        )
    if (people["kind"] == "req").any():
        warnings.append(
            DataWarning(
                code="open_requisitions",
                count=int((people["kind"] == "req").sum()),
                message="Open requisitions carry ramped quotas from their planned start; they are filled at the same quota when hired.",
            )
        )

    sets = {"baseline": quotas}
    payouts = {"baseline": _payout_fn(setup, quotas)}
    summary = run(setup.sim, sets, payouts, trials=params.trials, seed=params.seed)["baseline"]
    metrics: dict[str, Any] = {
        "period": data.period.name,
        "as_of": data.as_of.isoformat(),
        "method": params.method,
        "weights": list(params.weights),
        "over_assign": params.over_assign
        if params.method != "current" or not target
        else round(float(quotas.sum()) / target - 1, 4),
        "target": target,
        **_metrics(summary, quotas, setup, target, seated),
        "reps": int((people["kind"] == "rep").sum()),
        "open_requisitions": int((people["kind"] == "req").sum()),
        "trials": params.trials,
        "seed": params.seed,
        "assumptions": info,
    }
    rows = _rep_rows(people, quotas, summary, setup)
    tables: dict[str, list[dict[str, Any]]] = {"reps": rows}

    whatif_summary = None
    if params.has_what_if():
        w_people, w_quotas, w_setup, w_notes = _what_if(data, params, people, quotas, setup)
        warnings += [DataWarning(code="what_if", message=n) for n in w_notes]
        whatif_summary = run(
            w_setup.sim, {"w": w_quotas}, {"w": _payout_fn(w_setup, w_quotas)}, trials=params.trials, seed=params.seed
        )["w"]
        metrics["what_if"] = _metrics(whatif_summary, w_quotas, w_setup, target, w_setup.capacity > 0)
        if data.scenario:
            metrics["what_if"]["scenario"] = data.scenario
        w_rows = {r["rep_id"]: r for r in _rep_rows(w_people, w_quotas, whatif_summary, w_setup)}
        tables["what_if"] = [
            {
                "rep_id": r["rep_id"],
                "name": r["name"],
                "quota_baseline": r["quota"],
                "quota_what_if": w_rows.get(r["rep_id"], {}).get("quota", 0.0),
                "p_hit_baseline": r["p_hit"],
                "p_hit_what_if": w_rows.get(r["rep_id"], {}).get("p_hit", 0.0),
            }
            for r in rows
        ]

    recs, rec_tables = _recommendations(data, params, people, quotas, setup, summary, target)
    tables.update(rec_tables)
    if params.save_scenario:
        metrics["saved_scenario"] = _save(warehouse, data, params, people, quotas, metrics, user)
    m = metrics
    share = m["share_reps_at_quota"]
    summary_text = (
        f"{data.period.name}: {m['total_quota'] / 1e6:,.1f}M of quota for a {'' if target is None else f'{target / 1e6:,.1f}M '}target "
        f"({params.method}, {m['over_assign']:.0%} over-assigned) across {m['reps']} reps"
        + (f" and {m['open_requisitions']} open requisitions" if m["open_requisitions"] else "")
        + f": P50 {share['p50']:.0%} of reps reach quota (P10 {share['p10']:.0%}, P90 {share['p90']:.0%}); "
        f"bookings P50 {m['bookings']['p50'] / 1e6:,.1f}M"
        + ("" if target is None else f" ({m['p_bookings_at_or_above_target']:.0%} chance of reaching target)")
        + f"; cost of sales P50 {m['cost_of_sales']['p50']:.1%}."
    )
    if "what_if" in m:
        wi = m["what_if"]
        summary_text += (
            f" What-if: total quota {m['total_quota'] / 1e6:,.1f}M -> {wi['total_quota'] / 1e6:,.1f}M; "
            f"P50 share at quota {share['p50']:.0%} -> {wi['share_reps_at_quota']['p50']:.0%}; "
            f"bookings P50 {m['bookings']['p50'] / 1e6:,.1f}M -> {wi['bookings']['p50'] / 1e6:,.1f}M; "
            f"cost of sales {m['cost_of_sales']['p50']:.1%} -> {wi['cost_of_sales']['p50']:.1%}."
        )
    assumptions = [
        "Expected bookings blend each territory's trailing-12-month run-rate with its potential x segment "
        f"penetration, grown {info['growth_assumed']:+.0%}.",
        f"Bookings are lognormal per rep (mean CV {info['mean_rep_cv']:.2f}) with a shared market factor "
        f"(CV {info['market_cv']:.2f}, mean pairwise correlation {info['mean_pairwise_correlation']:.2f}).",
        f"Attrition {info['attrition_per_year']:.0%} a year (history); new hires ramp linearly over their ramp months.",
    ]
    if params.reallocate:
        assumptions.append(
            "Mid-period re-allocation: bookings closed so far are credited and only the rest of the target is re-allocated."
        )
    return QuotaResult(
        summary=summary_text,
        metrics=metrics,
        tables=tables,
        recommendations=recs,
        assumptions=assumptions,
        warnings=warnings,
        data_fingerprint=data.fingerprint,
    )


def _some(items: list[str], k: int = 8) -> str:
    return ", ".join(items[:k]) + (" ..." if len(items) > k else "")


def _num(value: float, digits: int = 4) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits)


def _rep_rows(people: pd.DataFrame, quotas: np.ndarray, s: Summary, setup: Setup) -> list[dict[str, Any]]:
    rows = []
    for i, p in enumerate(people.itertuples()):
        rows.append(
            {
                "rep_id": p.rep_id,
                "name": p.name,
                "region": p.region,
                "segment": p.segment,
                "kind": p.kind,
                "quota": round(float(quotas[i]), 2),
                "p_hit": _num(s.p_hit[i]),
                "expected_attainment": _num(s.mean_attainment[i]),
                "expected_bookings": round(float(setup.expected_full[i]), 2),
                "booked_to_date": round(float(setup.booked[i]), 2),
                "potential": round(float(setup.potential[i]), 2),
                "history": round(float(setup.history[i]), 2),
                "capacity": round(float(setup.capacity[i]), 4),
                "quota_to_potential": None
                if setup.potential[i] <= 0
                else round(float(quotas[i] / setup.potential[i]), 4),
                "expected_payout": round(float(s.mean_payout[i]), 2),
                "over_capacity": bool(quotas[i] > s.p90_bookings[i] and quotas[i] > 0),
            }
        )
    return rows


def _what_if(
    data: Data, params: QuotaInput, people: pd.DataFrame, quotas: np.ndarray, setup: Setup
) -> tuple[pd.DataFrame, np.ndarray, Setup, list[str]]:
    notes: list[str] = []
    w_people, w_setup, w_quotas = people, setup, quotas.copy()
    moves = {
        dict(c.key)["account_id"]: c.new for c in data.changes if c.table == "accounts" and c.column == "owner_rep_id"
    }
    if moves:
        accounts = data.accounts.copy()
        accounts["owner_rep_id"] = accounts["account_id"].map(moves).fillna(accounts["owner_rep_id"])
        w_setup, _, _ = _setup(
            data,
            people,
            accounts,
            setup.plans[0] if len(setup.plans) == 1 and setup.plans[0].name == "given plan" else None,
        )
        w_quotas = _allocate(data, params, w_setup, people, _target(data, params), params.over_assign)
        notes.append(
            f"Scenario {data.scenario['scenario_id']}: {len(moves)} accounts change owner; quotas re-allocated by {params.method}."
        )  # type: ignore[index]
    scenario_quotas = [c for c in data.changes if c.table == "quotas"]
    if scenario_quotas:
        stored = overlay(data.quotas, data.changes, "quotas")
        saved = _period_quotas(Data(**{**data.__dict__, "quotas": stored}))
        w_quotas = people["rep_id"].map(saved).fillna(0.0).to_numpy(dtype=float)
        notes.append(f"Scenario {data.scenario['scenario_id']}: {len(scenario_quotas)} quota rows.")  # type: ignore[index]
    for adj in params.adjustments:
        column = {"region": "region", "segment": "segment", "manager": "manager_id", "rep": "rep_id"}[adj.dim]
        mask = people[column].astype(str).str.lower().eq(adj.value.lower()).to_numpy()
        if not mask.any():
            raise InputError(
                f"Adjustment {adj.dim}={adj.value} matches no rep in this selection.",
                "Check the name with spm data summary.",
            )
        w_quotas[mask] *= 1 + adj.pct / 100
        notes.append(f"{adj.dim} {adj.value}: quotas {adj.pct:+g}% ({int(mask.sum())} reps).")
    if params.leave:
        leaving = people["rep_id"].isin(params.leave).to_numpy()
        unknown = sorted(set(params.leave) - set(people["rep_id"]))
        if unknown:
            raise InputError(
                f"Unknown or out-of-selection rep(s) leaving: {', '.join(unknown)}.", "Use rep ids, e.g. R-00042."
            )
        w_quotas[leaving] = 0.0
        sim = w_setup.sim
        w_setup = Setup(
            SimulationInput(
                np.where(leaving, 0.0, sim.expected),
                sim.sigma,
                sim.sigma_market,
                sim.attrition_per_month,
                sim.months,
                sim.booked,
            ),
            np.where(leaving, 0.0, w_setup.expected_full),
            w_setup.history,
            w_setup.potential,
            np.where(leaving, 0.0, w_setup.capacity),
            w_setup.booked,
            w_setup.target_variable,
            w_setup.plans,
            w_setup.plan_of,
        )
        notes.append(f"{int(leaving.sum())} reps leave at the start of the period; their territories go uncovered.")
    return w_people, w_quotas, w_setup, notes


def _rebalance(
    data: Data, params: QuotaInput, people: pd.DataFrame, quotas: np.ndarray, setup: Setup, summary: Summary
) -> tuple[Recommendation, list[dict[str, Any]]] | None:
    """Move quota from reps carrying far more per dollar of potential than peers (and with a
    below-median chance to hit) to reps with headroom; keep the total; recommend it when the
    share of reps at quota or the fairness of the plan improves."""
    seated = (setup.capacity >= 0.5) & (setup.potential > 0) & (quotas > 0)
    if seated.sum() < 4:
        return None
    ratio = np.where(seated, quotas / np.where(setup.potential > 0, setup.potential, 1), np.nan)
    med = float(np.nanmedian(ratio))
    over = seated & (ratio > 1.25 * med) & (summary.p_hit < np.median(summary.p_hit[seated]))
    under = seated & (ratio < 0.9 * med)
    headroom = np.where(under, setup.potential * med - quotas, 0.0).clip(min=0)
    if not over.any() or headroom.sum() <= 0:
        return None
    cut = np.where(over, np.minimum(0.15, 0.5 * (ratio / med - 1)), 0.0)
    new = quotas * (1 - cut)
    moved = float((quotas - new).sum())
    new = round_exact(
        new + moved * headroom / headroom.sum(), people["rep_id"].tolist(), params.unit, float(quotas.sum())
    )
    after = run(
        setup.sim, {"n": new}, {"n": _payout_fn(setup, new)}, trials=min(params.trials, 4_000), seed=params.seed
    )["n"]
    share_b, share_a = float(np.mean(summary.share_at_quota)), float(np.mean(after.share_at_quota))
    cos_b, cos_a = float(np.nanmedian(summary.cost_of_sales)), float(np.nanmedian(after.cost_of_sales))
    gini_b = fairness(quotas[seated], setup.potential[seated], summary.p_hit[seated], summary.p90_bookings[seated])[
        "gini_quota_to_potential"
    ]
    gini_a = fairness(new[seated], setup.potential[seated], after.p_hit[seated], after.p90_bookings[seated])[
        "gini_quota_to_potential"
    ]
    if not (share_a > share_b + 0.01 or float(gini_b) - float(gini_a) > 0.02):  # type: ignore[arg-type]
        return None
    pot_gap = 1 - float(np.mean(setup.potential[over])) / float(np.mean(setup.potential[seated & ~over]))
    cuts = cut[over] * 100
    span = f"{cuts.min():.0f}%" if round(cuts.min()) == round(cuts.max()) else f"{cuts.min():.0f}-{cuts.max():.0f}%"
    rec = Recommendation(
        action=f"Lower the quota of {int(over.sum())} reps by {span} and move the {moved / 1e3:,.0f}K "
        f"to {int(under.sum())} reps with headroom.",
        rationale=(
            f"Their quotas are {np.nanmean(ratio[over]) / med:.1f}x the median quota per dollar of potential; "
            f"their territories hold {pot_gap:.0%} less potential than peers. Expected share of reps at quota "
            f"{share_b:.0%} -> {share_a:.0%}; Gini of quota to potential {gini_b:.2f} -> {gini_a:.2f}; "
            f"cost of sales {cos_b:.1%} -> {cos_a:.1%} ({(cos_a - cos_b) * 100:+.1f} points)."
        ),
        impact=Impact(
            metric=f"expected share of reps at quota {data.period.name}",
            before=share_b * 100,
            after=share_a * 100,
            unit="%",
        ),
        confidence=0.7,
    )
    rows = [
        {
            "rep_id": people["rep_id"][i],
            "name": people["name"][i],
            "quota": round(float(quotas[i]), 2),
            "recommended": round(float(new[i]), 2),
            "change_pct": round(float(new[i] / quotas[i] - 1) * 100, 1),
        }
        for i in np.flatnonzero(new != quotas)
    ]
    return rec, rows


def _recommendations(
    data: Data,
    params: QuotaInput,
    people: pd.DataFrame,
    quotas: np.ndarray,
    setup: Setup,
    summary: Summary,
    target: float | None,
) -> tuple[list[Recommendation], dict[str, list[dict[str, Any]]]]:
    recs: list[Recommendation] = []
    tables: dict[str, list[dict[str, Any]]] = {}
    rebalance = _rebalance(data, params, people, quotas, setup, summary)
    if rebalance is not None:
        recs.append(rebalance[0])
        tables["quota_changes"] = rebalance[1]
    if params.method != "current" and target is not None:
        solved = _solve_over_assignment(data, params, people, setup, target)
        if solved is None:
            p_target = float((summary.total_bookings >= target).mean())
            floor_share = _share_at(data, params, people, setup, target, 0.0)
            if floor_share < params.target_share and p_target < 0.5:
                recs.append(
                    Recommendation(
                        action=f"Revisit the {data.period.name} target: even with no over-assignment only "
                        f"{floor_share:.0%} of reps reach quota (P50).",
                        rationale=(
                            f"The simulated territories book {np.median(summary.total_bookings) / 1e6:,.1f}M at P50 against a "
                            f"{target / 1e6:,.1f}M target ({p_target:.0%} chance of reaching it); no split of that target gets "
                            f"{params.target_share:.0%} of reps to quota. Add capacity (spm capacity gap) or lower the target."
                        ),
                        impact=Impact(
                            metric="chance bookings reach target", before=p_target * 100, after=None, unit="%"
                        ),
                        confidence=0.6,
                    )
                )
            elif floor_share < params.target_share:
                recs.append(
                    Recommendation(
                        action=f"Expect at most {floor_share:.0%} of reps at quota (P50, with no over-assignment), "
                        f"not {params.target_share:.0%}.",
                        rationale=(
                            f"Bookings reach the {target / 1e6:,.1f}M target in {p_target:.0%} of trials, but single territories "
                            "swing too much for more reps to reach an even split of it; over-assigning lowers the share further."
                        ),
                        impact=Impact(
                            metric="P50 share of reps at quota",
                            before=float(np.median(summary.share_at_quota)) * 100,
                            after=floor_share * 100,
                            unit="%",
                        ),
                        confidence=0.6,
                    )
                )
        if solved is not None:
            x, share, p_target_now, _ = solved
            now = float(np.median(summary.share_at_quota))
            if abs(x - params.over_assign) > 0.005:
                recs.append(
                    Recommendation(
                        action=f"Set over-assignment to {x:.0%} (now {params.over_assign:.0%}) for a P50 of {share:.0%} of reps at quota.",
                        rationale=(
                            f"At {params.over_assign:.0%} the P50 share at quota is {now:.0%}. Quotas then total "
                            f"{target * (1 + x) / 1e6:,.1f}M against the {target / 1e6:,.1f}M target; the chance that "
                            f"bookings reach the target is {p_target_now:.0%} either way "
                            "(quotas do not change what the territories can book)."
                        ),
                        impact=Impact(
                            metric="P50 share of reps at quota", before=now * 100, after=share * 100, unit="%"
                        ),
                        confidence=0.6,
                    )
                )
    over_capacity = np.flatnonzero((quotas > summary.p90_bookings) & (quotas > 0))
    if len(over_capacity):
        names = ", ".join(str(people["rep_id"][i]) for i in over_capacity[:6])
        recs.append(
            Recommendation(
                action=f"Review {len(over_capacity)} quotas that exceed what the territory books even in a good period: "
                f"{names}{' ...' if len(over_capacity) > 6 else ''}.",
                rationale="Each is above the rep's simulated 90th-percentile bookings: the rep would need a "
                "better-than-1-in-10 outcome to reach it.",
                impact=Impact(metric="reps over capacity", before=float(len(over_capacity)), after=0.0, unit="count"),
                confidence=0.7,
            )
        )
    return recs, tables


def _share_at(data: Data, params: QuotaInput, people: pd.DataFrame, setup: Setup, target: float, over: float) -> float:
    q = _allocate(data, params, setup, people, target, over)
    s = run(
        setup.sim, {"q": q}, {"q": _payout_fn(setup, q)}, trials=min(params.trials, SOLVER_TRIALS), seed=params.seed
    )["q"]
    return float(np.median(s.share_at_quota))


def _solve_over_assignment(
    data: Data, params: QuotaInput, people: pd.DataFrame, setup: Setup, target: float
) -> tuple[float, float, float, float] | None:
    """Over-assignment whose P50 share of reps at quota is the target share (bisection)."""
    trials = min(params.trials, SOLVER_TRIALS)

    def share(x: float) -> tuple[float, float]:
        q = _allocate(data, params, setup, people, target, x)
        s = run(setup.sim, {"q": q}, {"q": _payout_fn(setup, q)}, trials=trials, seed=params.seed)["q"]
        return float(np.median(s.share_at_quota)), float((s.total_bookings >= target).mean())

    lo, hi = 0.0, 1.0
    if params.cap is not None:
        # Caps bound what can be handed out: never try an over-assignment the caps cannot hold.
        room = float((params.cap * np.clip(setup.capacity[setup.capacity > 0], 0, 1)).sum())
        hi = max(0.0, min(1.0, room / target - 1 - 1e-4))
    s_lo, p_lo = share(lo)
    s_hi, _ = share(hi)
    if s_lo < params.target_share or s_hi > params.target_share:
        return None  # unreachable within 0-100% over-assignment
    for _ in range(12):
        mid = (lo + hi) / 2
        s_mid, _ = share(mid)
        if s_mid >= params.target_share:
            lo = mid
        else:
            hi = mid
    s_final, p_final = share(lo)
    return round(lo, 3), s_final, p_lo, p_final


def _save(
    warehouse: Warehouse,
    data: Data,
    params: QuotaInput,
    people: pd.DataFrame,
    quotas: np.ndarray,
    metrics: dict[str, Any],
    user: str | None,
) -> dict[str, Any]:
    """Store the allocation as a draft quota scenario: one row per rep and fiscal quarter."""
    quarters = data.calendar.children(data.period, "quarter") if data.period.grain != "quarter" else [data.period]
    names = [q.name for q in quarters]
    weights = (
        data.targets[data.targets["period"].isin(names)].groupby("period")["amount"].sum().reindex(names).fillna(0.0)
    )
    shape = (weights / weights.sum()).to_numpy() if weights.sum() > 0 else np.full(len(names), 1 / len(names))
    stored = data.quotas.set_index(["rep_id", "period"])["amount"].to_dict() if len(data.quotas) else {}
    changes = []
    for i, p in enumerate(people.itertuples()):
        if p.kind != "rep" or quotas[i] <= 0:
            continue
        split = round_exact(quotas[i] * shape, names, params.unit, float(quotas[i]))
        for name, amount in zip(names, split, strict=True):
            old = stored.get((p.rep_id, name))
            changes.append(
                Change(
                    "quotas",
                    (("rep_id", p.rep_id), ("period", name)),
                    "amount",
                    None if old is None else str(old),
                    str(float(amount)),
                )
            )
    with warehouse.writer() as cur:
        saved = save_scenario(
            cur,
            name=params.save_scenario or "",
            kind="quota",
            changes=changes,
            created_by=user,
            params=params.model_dump(mode="json"),
            summary=f"{params.method} allocation of {data.period.name}",
            metrics={k: metrics[k] for k in ("target", "total_quota", "share_reps_at_quota", "cost_of_sales")},
            base_fingerprint=data.fingerprint,
        )
    return {"scenario_id": saved.scenario_id, "name": saved.name, "changes": saved.changes}
