"""The capacity gap tool: can the team we have, and the hires we plan, make the number?

Flow: load AEs past and present, their monthly bookings, open requisitions, targets ->
assumptions per region x segment (history unless given) -> cohort model, expected and Monte
Carlo -> gap per month, quarter and year -> fewest hires closing each group's gap at the chosen
confidence -> what-if against the baseline -> recommendations (tools/capacity/report.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from tools.capacity import loader, report
from tools.capacity.assumptions import History, estimate
from tools.capacity.evaluate import Horizon, Outcome, People, evaluate
from tools.capacity.models import CapacityInput, CapacityResult
from tools.contract import DataWarning
from tools.filters import resolve_filters
from tools.forecast.hierarchy import build_hierarchy
from tools.forecast.targets import node_targets, overlap_weights
from tools.scope import Scope
from warehouse.calendar import FiscalCalendar, Period, add_months
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.scenarios import Change, get_scenario, overlay, scenario_changes

HISTORY_MONTHS = 36


@dataclass
class Data:
    as_of: date
    calendar: FiscalCalendar
    period: Period
    filters: dict[str, list[str]]
    aes: pd.DataFrame
    rep_months: pd.DataFrame
    scope_months: pd.DataFrame
    requisitions: pd.DataFrame
    targets: pd.DataFrame
    quotas: pd.DataFrame
    potential: pd.DataFrame
    accounts: pd.DataFrame
    win_rates: pd.DataFrame
    booked: pd.DataFrame
    fingerprint: str
    scope: Scope
    scenario: dict[str, Any] | None = None
    changes: list[Change] = field(default_factory=list)


def _describe(filters: dict[str, list[str]], scope: Scope) -> str:
    where = ", ".join(f"{d} {'/'.join(v)}" for d, v in filters.items())
    return where or ("the warehouse" if scope.kind == "all" else scope.describe())


def load(warehouse: Warehouse, params: CapacityInput, scope: Scope) -> Data:
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        calendar = FiscalCalendar(int(meta.get("fiscal_year_start_month", "1")))
        as_of = params.as_of or (date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today())
        period = calendar.parse(params.period) if params.period else calendar.year(calendar.fiscal_year_of(as_of) + 1)
        if period.grain == "month":
            raise InputError(
                f"{period.name} is a month.", "Capacity is planned for fiscal quarters, halves or years (FY2028)."
            )
        if period.end <= as_of:
            raise InputError(f"{period.name} ended before {as_of}.", "Plan a current or future period.")
        if add_months(period.start, 0) > add_months(date(as_of.year, as_of.month, 1), 60):
            raise InputError(f"{period.name} starts more than five years after {as_of}.", "Plan a nearer period.")
        filters = resolve_filters(cur, params.filters, allowed=("region", "segment"))
        scope.check_filters(filters)
        sel = loader.Selection(scope, filters)
        this_month = date(as_of.year, as_of.month, 1)
        first = add_months(this_month, -HISTORY_MONTHS)
        aes = loader.aes(cur, sel)
        rep_months = loader.rep_months(cur, sel, first, this_month)
        scope_months = loader.scope_months(cur, sel, this_month)
        reqs = loader.requisitions(cur, sel)
        targets = loader.targets(cur, sel)
        potential = loader.potential(cur, sel)
        win_rates = loader.win_rates(cur, sel, add_months(this_month, -12), this_month)
        booked = (
            loader.booked(cur, sel, period.start, as_of)
            if period.start < as_of
            else pd.DataFrame(columns=["region", "segment", "month", "amount"])
        )
        tables = ["reps", "bookings", "headcount_plan", "targets", "accounts", "opportunities", "meta"]
        scenario_info, changes = None, []
        quotas = pd.DataFrame(columns=["rep_id", "period", "amount", "region", "segment"])
        accounts = pd.DataFrame(columns=["account_id", "owner_rep_id", "region", "segment", "potential"])
        if params.scenario_id is not None:
            scenario = get_scenario(cur, params.scenario_id)
            changes = scenario_changes(cur, scenario.scenario_id)
            scenario_info = {
                "scenario_id": scenario.scenario_id,
                "name": scenario.name,
                "kind": scenario.kind,
                "changes": len(changes),
            }
            quotas = loader.quotas(cur, sel)
            if any(c.table == "accounts" for c in changes):
                accounts = loader.accounts(cur, sel)
            tables += ["scenarios", "scenario_changes", "quotas"]
        fp = fingerprint(cur, tables)
    return Data(
        as_of=as_of,
        calendar=calendar,
        period=period,
        filters=filters,
        aes=aes,
        rep_months=rep_months,
        scope_months=scope_months,
        requisitions=reqs,
        targets=targets,
        quotas=quotas,
        potential=potential,
        accounts=accounts,
        win_rates=win_rates,
        booked=booked,
        fingerprint=fp,
        scope=scope,
        scenario=scenario_info,
        changes=changes,
    )


def _people(data: Data, excluded: set[str]) -> People:
    aes = data.aes
    as_of = pd.Timestamp(data.as_of)
    hire = aes["hire_date"].fillna(pd.Timestamp("1900-01-01"))
    employed = (hire <= as_of) & (aes["end_date"].isna() | (aes["end_date"] > as_of))
    reps = aes[employed & ~aes["rep_id"].isin(excluded)].reset_index(drop=True)
    future = aes[(hire > as_of) & (aes["end_date"].isna() | (aes["end_date"] > aes["hire_date"]))].reset_index(
        drop=True
    )
    return People(reps, future, data.requisitions)


def _groups(data: Data, people: People) -> list[tuple[str, str]]:
    """Region x segment cells with reps, requisitions or a target in the period."""
    keys = set(zip(people.reps["region"], people.reps["segment"], strict=True))
    keys |= set(zip(people.requisitions["region"], people.requisitions["segment"], strict=True))
    keys |= set(zip(people.future_hires["region"], people.future_hires["segment"], strict=True))
    t = data.targets
    weights = overlap_weights(data.calendar, t["period"], data.period) if len(t) else np.zeros(0)
    cell = t[(weights > 0) & (t["amount"] > 0) & (t["region"] != "All") & (t["segment"] != "All")]
    for dim in ("region", "segment"):
        if dim in data.filters:
            cell = cell[cell[dim].isin(data.filters[dim])]
    keys |= set(zip(cell["region"], cell["segment"], strict=True))
    keys = {(str(r), str(s)) for r, s in keys if isinstance(r, str) and isinstance(s, str)}
    for dim, pos in (("region", 0), ("segment", 1)):
        if dim in data.filters:
            keys = {k for k in keys if k[pos] in data.filters[dim]}
    return sorted(keys)


def _booked(data: Data, horizon: Horizon, groups: list[tuple[str, str]]) -> np.ndarray:
    out = np.zeros((len(groups), len(horizon.months)))
    if data.booked.empty:
        return out
    index = {g: i for i, g in enumerate(groups)}
    month_of = {m: j for j, m in enumerate(horizon.months)}
    for r, s, m, amount in data.booked[["region", "segment", "month", "amount"]].itertuples(index=False):
        g, j = index.get((r, s)), month_of.get(pd.Timestamp(m).date())
        if g is not None and j is not None:
            out[g, j] += float(amount)
    return out


def _targets(
    data: Data,
    params: CapacityInput,
    horizon: Horizon,
    groups: list[tuple[str, str]],
    shape: np.ndarray,
    changes: list[Change],
) -> tuple[np.ndarray, str]:
    """Target per group and month [G, N] (0 outside the period) and where it comes from."""
    in_period = horizon.in_period
    months = [
        horizon.calendar.month(m.year, m.month) for m, inside in zip(horizon.months, in_period, strict=True) if inside
    ]
    out = np.zeros((len(groups), len(horizon.months)))
    source = ""
    quota_changes = [c for c in changes if c.table == "quotas"]
    if quota_changes:
        quotas = overlay(data.quotas, quota_changes, "quotas")
        rep_group = data.aes.set_index("rep_id")[["region", "segment"]]
        quotas = quotas.drop(columns=["region", "segment"]).join(rep_group, on="rep_id")
        quotas["amount"] = pd.to_numeric(quotas["amount"], errors="coerce").fillna(0.0)
        for g, (r, s) in enumerate(groups):
            rows = quotas[(quotas["region"] == r) & (quotas["segment"] == s)]
            out[g, in_period] = [
                float((rows["amount"] * overlap_weights(data.calendar, rows["period"], p)).sum()) for p in months
            ]
        source = f"quotas of scenario {data.scenario['scenario_id']}"  # type: ignore[index]
    else:
        hierarchy = build_hierarchy(["region", "segment"], groups)
        values = node_targets(
            hierarchy,
            data.filters,
            months,
            data.calendar,
            data.targets,
            pd.DataFrame(columns=["rep_id", "period", "amount"]),
        )
        bottom = values[hierarchy.bottom]  # [G, months], groups are sorted like the hierarchy's bottom
        total = values[0]
        period_shape = shape[:, in_period]
        for j in range(len(months)):
            known = ~np.isnan(bottom[:, j])
            if known.all():
                continue
            rest = (total[j] if not np.isnan(total[j]) else np.nan) - np.nansum(bottom[:, j])
            if np.isnan(rest):
                bottom[~known, j] = 0.0
                continue
            weights = period_shape[~known, j]
            weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1 / len(weights))
            bottom[~known, j] = max(rest, 0.0) * weights
        if not np.isnan(values).all():
            out[:, in_period] = np.nan_to_num(bottom)
            source = "targets table"
    if params.target is not None:
        base = out if out.sum() > 0 else np.where(in_period[None, :], shape, 0.0)
        if base.sum() <= 0:
            base = np.where(in_period[None, :], 1.0, 0.0) * np.ones((len(groups), 1))
        out = base / base.sum() * params.target
        source = "given (--target), split like " + (source or "expected capacity")
    if out.sum() <= 0:
        raise InputError(
            f"No target found for {data.period.name} and {_describe(data.filters, data.scope)}.",
            "Give one with --target AMOUNT, or import targets (spm data import).",
        )
    return out, source


def _excluded(data: Data, changes: list[Change]) -> tuple[set[str], list[DataWarning]]:
    """Under a territory scenario, reps left without any account cannot sell."""
    moves = [c for c in changes if c.table == "accounts"]
    if not moves:
        return set(), []
    accounts = overlay(data.accounts, moves, "accounts")
    owners = set(accounts["owner_rep_id"].dropna())
    before = set(data.accounts["owner_rep_id"].dropna())
    lost = sorted((before - owners) & set(data.aes["rep_id"]))
    if not lost:
        return set(), []
    return (
        set(lost),
        [
            DataWarning(
                code="reps_without_accounts",
                count=len(lost),
                message=f"Scenario {data.scenario['scenario_id']} leaves {len(lost)} AEs without accounts; "  # type: ignore[index]
                f"they count as no capacity: {', '.join(lost[:8])}.",
            )
        ],
    )


def _run(data: Data, params: CapacityInput) -> tuple[Outcome, list[DataWarning]]:
    changes = data.changes if params.scenario_id is not None else []
    excluded, warnings = _excluded(data, changes)
    people = _people(data, excluded)
    groups = _groups(data, people)
    if not groups:
        raise InputError(
            f"No AEs, requisitions or targets in {_describe(data.filters, data.scope)}.",
            "Check the filters, or import reps and targets first (spm data import).",
        )
    if people.reps.empty and people.requisitions.empty and people.future_hires.empty and params.productivity is None:
        raise InputError(
            f"The team in {_describe(data.filters, data.scope)} is empty: no AEs in seat and no open requisitions.",
            "Import reps (spm data import) or give --productivity to plan a team from scratch.",
        )
    horizon = Horizon.of(data.as_of, data.calendar, data.period)
    history = History(data.as_of, data.calendar, data.aes, data.rep_months, data.scope_months, data.win_rates)
    heads = people.reps.groupby(["region", "segment"]).size().to_dict()
    assumptions = estimate(params, history, groups, {(str(r), str(s)): int(v) for (r, s), v in heads.items()})
    booked = _booked(data, horizon, groups)
    # Targets missing at the finest level are split like expected capacity: a first pass without them.
    shape = np.stack(
        [
            np.full(len(horizon.months), g.productivity * max(heads.get((g.region, g.segment), 0), 1))
            for g in assumptions.groups
        ]
    )
    targets, source = _targets(data, params, horizon, groups, shape, changes)
    outcome = evaluate(params, horizon, assumptions, people, booked, targets, source)
    return outcome, warnings + assumptions.warnings


def run_capacity(warehouse: Warehouse, params: CapacityInput, *, scope: Scope | None = None) -> CapacityResult:
    scope = scope or Scope.everything()
    data = load(warehouse, params, scope)
    outcome, warnings = _run(data, params)
    baseline = None
    if params.overrides():
        try:
            baseline, _ = _run(data, params.baseline())
        except InputError as exc:
            warnings.append(DataWarning(code="no_baseline", message=f"No baseline to compare with: {exc.message}"))
    return report.build(data, outcome, baseline, warnings)
