"""The capacity gap tool: can the team we have, and the hires we plan, make the number?

Flow: load AEs past and present, their monthly bookings, open requisitions, targets ->
assumptions per region x segment (history unless given) -> cohort model, expected and Monte
Carlo -> gap per month, quarter and year -> fewest hires closing each group's gap at the chosen
confidence -> what-if against the baseline -> recommendations (tools/capacity/report.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from tools.capacity import loader, report
from tools.capacity.assumptions import History, estimate
from tools.capacity.evaluate import Horizon, Outcome, People, evaluate
from tools.capacity.models import FILTER_DIMS, CapacityInput, CapacityResult
from tools.capacity.targets import targets
from tools.contract import DataWarning
from tools.core.context import PlanContext
from tools.core.periods import parse_period, require
from tools.core.scenario import SCENARIO_TABLES, LoadedScenario, ScenarioUse, load_scenario
from tools.core.selection import Selection, resolve_filters
from tools.core.targets import load_quotas, load_targets, overlap_weights
from tools.forecast.outlook import Outlook, outlook
from warehouse.calendar import FiscalCalendar, Period, add_months
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

HISTORY_MONTHS = 36


@dataclass
class Data:
    ctx: PlanContext
    period: Period
    selection: Selection
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
    scenario: LoadedScenario | None = None
    outlook: Outlook | None = None

    @property
    def as_of(self) -> date:
        return self.ctx.as_of

    @property
    def calendar(self) -> FiscalCalendar:
        return self.ctx.calendar

    @property
    def filters(self) -> dict[str, list[str]]:
        return {d: list(v) for d, v in self.selection.filters.items()}

    def describe(self) -> str:
        return (
            self.selection.describe()
            if self.selection.filters or self.selection.scope.kind != "all"
            else "the warehouse"
        )


TABLES = ["reps", "bookings", "headcount_plan", "targets", "accounts", "opportunities", "quotas", "meta"]


def capacity_period(text: str | None, ctx: PlanContext) -> Period:
    """The period asked for (default: the next fiscal year): current or future, at most five years out."""
    cal, as_of = ctx.calendar, ctx.as_of
    period = parse_period(text, cal, as_of) if text else cal.year(cal.fiscal_year_of(as_of) + 1)
    if period.grain == "month":
        raise InputError(
            f"{period.name} is a month.", "Capacity is planned for fiscal quarters, halves or years (FY2028)."
        )
    require(period, ("year", "half", "quarter"), "capacity")
    if period.end <= as_of:
        raise InputError(f"{period.name} ended before {as_of}.", "Plan a current or future period.")
    if period.start > add_months(date(as_of.year, as_of.month, 1), 60):
        raise InputError(f"{period.name} starts more than five years after {as_of}.", "Plan a nearer period.")
    return period


def hires_start(text: str | None, ctx: PlanContext, period: Period, freeze_from: date | None) -> date | None:
    """The first day of the month the given hires start (`hires_start`), or an error naming the field.

    A quarter, half or year means its first month ("next quarter"). A start must lie after the
    as-of month (the current month has begun: nobody new starts in it in this model), inside the
    planned period and before any hiring freeze.
    """
    if text is None:
        return None
    cal, as_of = ctx.calendar, ctx.as_of
    try:
        when = parse_period(text, cal, as_of)
    except InputError:
        raise InputError(
            f"hires_start {text!r} is not a month I know.",
            "Give a fiscal month such as 2027-03, Mar 2027 or next month.",
        ) from None
    if when.grain == "span":
        raise InputError(
            f"hires_start {text!r} is a date range ({when.name}), not a month.", "Give one month, e.g. 2027-03."
        )
    start = date(when.start.year, when.start.month, 1)
    first = add_months(date(as_of.year, as_of.month, 1), 1)
    last = add_months(date(period.end.year, period.end.month, 1), -1 if period.end.day == 1 else 0)
    if start < first:
        raise InputError(
            f"hires_start {start:%Y-%m} is not after the as-of date {as_of} (that month has begun or passed).",
            f"Give {first:%Y-%m} or later.",
        )
    if start >= period.end:
        raise InputError(
            f"hires_start {start:%Y-%m} is after {period.name} ends ({last:%Y-%m}): those hires add nothing to it.",
            f"Give a month from {first:%Y-%m} to {last:%Y-%m}, or plan a later period.",
        )
    if freeze_from is not None and start >= date(freeze_from.year, freeze_from.month, 1):
        raise InputError(
            f"hires_start {start:%Y-%m} falls in the hiring freeze from {freeze_from:%Y-%m} (freeze_from).",
            f"Start them before {freeze_from:%Y-%m}, or drop freeze_from.",
        )
    return start


def load(warehouse: Warehouse, params: CapacityInput, scope: Scope) -> Data:
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur, params.as_of)
        period = capacity_period(params.period, ctx)
        hires_start(params.hires_start, ctx, period, params.freeze_from)  # refuse a bad month before any work
        sel = Selection.of(scope, resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        this_month = date(ctx.as_of.year, ctx.as_of.month, 1)
        first = add_months(this_month, -HISTORY_MONTHS)
        scenario = load_scenario(cur, params.scenario_id) if params.scenario_id is not None else None
        data = Data(
            ctx=ctx,
            period=period,
            selection=sel,
            aes=loader.aes(cur, sel),
            rep_months=loader.rep_months(cur, sel, first, this_month),
            scope_months=loader.scope_months(cur, sel, this_month),
            requisitions=loader.requisitions(cur, sel),
            targets=load_targets(cur, sel),
            quotas=load_quotas(cur, sel),
            potential=loader.potential(cur, sel),
            accounts=loader.accounts(cur, sel),
            win_rates=loader.win_rates(cur, sel, add_months(this_month, -12), this_month),
            booked=loader.booked(cur, sel, period.start, ctx.booked_until)
            if period.start < ctx.as_of
            else pd.DataFrame(columns=["region", "segment", "month", "amount"]),
            fingerprint=fingerprint(cur, TABLES + (SCENARIO_TABLES if scenario else [])),
            scenario=scenario,
        )
    data.outlook = outlook(warehouse, sel, period, params.as_of)
    return data


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


def _excluded(data: Data, use: ScenarioUse | None) -> tuple[set[str], list[DataWarning]]:
    """Under a territory scenario, reps left without any account cannot sell."""
    if use is None or not use.loaded.account_moves:
        return set(), []
    accounts = use.loaded.with_moves(data.accounts)
    owners = set(accounts["owner_rep_id"].dropna())
    before = set(data.accounts["owner_rep_id"].dropna())
    lost = sorted((before - owners) & set(data.aes["rep_id"]))
    use.used.append(f"{len(use.loaded.account_moves)} account moves: AEs left without accounts count as no capacity")
    if not lost:
        return set(), []
    s = use.loaded.scenario
    return set(lost), [
        DataWarning(
            code="reps_without_accounts",
            count=len(lost),
            message=f"Scenario {s.name} ({s.scenario_id}) leaves {len(lost)} AEs without accounts; "
            f"they count as no capacity: {', '.join(lost[:8])}.",
        )
    ]


def _run(data: Data, params: CapacityInput) -> tuple[Outcome, list[DataWarning], ScenarioUse | None]:
    use = ScenarioUse(data.scenario) if params.scenario_id is not None and data.scenario is not None else None
    excluded, warnings = _excluded(data, use)
    people = _people(data, excluded)
    groups = _groups(data, people)
    if not groups:
        raise InputError(
            f"No AEs, requisitions or targets in {data.describe()}.",
            "Check the filters, or import reps and targets first (spm data import).",
        )
    if people.reps.empty and people.requisitions.empty and people.future_hires.empty and params.productivity is None:
        raise InputError(
            f"The team in {data.describe()} is empty: no AEs in seat and no open requisitions.",
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
    goal = targets(
        selection=data.selection,
        horizon=horizon,
        groups=groups,
        targets_table=data.targets,
        quotas=data.quotas,
        aes=data.aes,
        shape=shape,
        given=params.target,
        scenario=use,
    )
    if use is not None:
        territories = [c for c in use.loaded.changes if c.table == "accounts" and c.column == "territory_id"]
        if territories:
            use.ignored.append(f"{len(territories)} territory assignments (capacity follows account owners)")
        warnings += [DataWarning(code="scenario", message=n) for n in use.notes()]
    start = hires_start(params.hires_start, data.ctx, data.period, params.freeze_from)
    outcome = evaluate(params, horizon, assumptions, people, booked, goal.values, goal.source, goal.by_group, start)
    given = outcome.given
    if given is not None and given.total < given.asked:
        where = f"in {start:%Y-%m}" if start is not None else f"in start months that help {data.period.name}"
        caps = sorted({g.velocity for g in assumptions.groups})
        cap = f"{caps[0]}" if len(caps) == 1 else f"{caps[0]}-{caps[-1]}"
        raise InputError(
            f"hires: only {given.total} of the {given.asked} hires fit {where} in {data.describe()}: a region x segment "
            f"starts at most {cap} a month (max_hires_per_month"
            + (")." if params.max_hires_per_month else ", default its peak month of the last two years)."),
            f"Ask for at most {given.total} hires or raise max_hires_per_month"
            + (", or drop hires_start to spread them over months." if start is not None else "."),
        )
    return outcome, warnings + assumptions.warnings, use


def run_capacity(warehouse: Warehouse, params: CapacityInput, *, scope: Scope | None = None) -> CapacityResult:
    data = load(warehouse, params, scope or Scope.everything())
    outcome, warnings, use = _run(data, params)
    baseline = None
    # With given hires the what-if is the hires (against none, on the request's own assumptions),
    # so the warehouse-assumptions baseline is not run.
    if params.overrides() and params.hires is None:
        try:
            baseline, _, _ = _run(data, params.baseline())
        except InputError as exc:
            warnings.append(DataWarning(code="no_baseline", message=f"No baseline to compare with: {exc.message}"))
    return report.build(data, outcome, baseline, warnings, use)
