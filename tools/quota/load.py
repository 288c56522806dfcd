"""Everything one quota simulation reads, in one pass over the warehouse (scoped, read-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from tools.core.context import PlanContext
from tools.core.periods import parse_period, require
from tools.core.scenario import SCENARIO_TABLES, LoadedScenario, load_scenario
from tools.core.selection import Selection, resolve_filters
from tools.core.targets import load_quotas, load_targets
from tools.quota import loader
from tools.quota.models import QuotaInput
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

TABLES = ["reps", "headcount_plan", "accounts", "bookings", "targets", "comp_plans", "quotas", "meta"]


@dataclass
class Data:
    ctx: PlanContext
    period: Period
    selection: Selection
    people: pd.DataFrame  # reps in seat and open requisitions (kind: rep | req)
    accounts: pd.DataFrame
    account_bookings: pd.DataFrame  # trailing 12 months per account
    prior_total: float  # bookings of the 12 months before those
    recent_total: float
    quarterly: pd.DataFrame  # bookings per rep and quarter (volatility)
    company_quarterly: pd.Series  # the selection's bookings per quarter (market factor, seasonality)
    ae_history: pd.DataFrame
    targets: pd.DataFrame
    plans: pd.DataFrame
    quotas: pd.DataFrame  # stored quotas of the selection
    booked: pd.DataFrame  # booked so far in the period, per rep
    fingerprint: str
    scenario: LoadedScenario | None = None

    @property
    def as_of(self) -> date:
        return self.ctx.as_of

    @property
    def calendar(self) -> FiscalCalendar:
        return self.ctx.calendar

    @property
    def team(self) -> bool:
        """A team or a rep (not a region or segment): company targets do not apply."""
        return bool({"manager", "rep"} & set(self.selection.constraints))


def quota_period(params_period: str | None, ctx: PlanContext) -> Period:
    """The period asked for (default: the next fiscal year), a current or future quarter, half or year."""
    cal = ctx.calendar
    period = (
        parse_period(params_period, cal, ctx.as_of) if params_period else cal.year(cal.fiscal_year_of(ctx.as_of) + 1)
    )
    if period.grain == "month":
        raise InputError(
            f"{period.name} is a month.", "Quota periods are fiscal quarters, halves or years (FY2028, FY2028-Q1)."
        )
    require(period, ("year", "half", "quarter"), "a quota")
    if period.end <= ctx.as_of:
        raise InputError(f"{period.name} ended before {ctx.as_of}.", "Simulate a current or future period.")
    return period


def load(warehouse: Warehouse, params: QuotaInput, scope: Scope) -> Data:
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur, params.as_of)
        period = quota_period(params.period, ctx)
        plain = {d: v for d, v in params.filters.items() if d != "manager"}
        filters = resolve_filters(cur, plain, allowed=("region", "segment"))
        if "manager" in params.filters:
            filters["manager"] = resolve_filters(cur, {"manager": params.filters["manager"]}, allowed=("manager",))[
                "manager"
            ]
        sel = Selection.of(scope, filters)
        adjusted: dict[str, list[str]] = {}
        for adj in params.adjustments:  # "raise APAC quotas" asked by an EMEA leader names APAC data
            adjusted.setdefault(adj.dim, []).append(adj.value)
        scope.check_filters(adjusted)
        as_of = ctx.as_of
        reps = loader.reps_in_seat(cur, sel, period, as_of)
        reqs = loader.open_requisitions(cur, sel, period)
        people = pd.concat([reps, reqs], ignore_index=True) if len(reqs) else reps
        if people.empty:
            raise InputError(
                f"No AEs or open requisitions in seat during {period.name} for {sel.describe()}.",
                "Widen the filters or hire.",
            )
        since, before = loader.trailing_window(ctx.booked_until)
        account_bookings = loader.account_bookings(cur, sel, since, before)
        prior = loader.account_bookings(cur, sel, since - timedelta(days=365), since)
        current_q = ctx.calendar.period_of(as_of, "quarter")
        history_q = [ctx.calendar.shift(current_q, -k) for k in range(12, 0, -1)]
        quarterly = loader.quarterly_bookings(cur, sel, ctx.calendar, history_q)
        company = quarterly.groupby("quarter")["amount"].sum().reindex([q.name for q in history_q]).fillna(0.0)
        booked = (
            loader.booked_in_period(cur, sel, period, ctx.booked_until)
            if period.start < as_of
            else pd.DataFrame(columns=["rep_id", "amount"])
        )
        scenario = load_scenario(cur, params.scenario_id) if params.scenario_id is not None else None
        data = Data(
            ctx=ctx,
            period=period,
            selection=sel,
            people=people.reset_index(drop=True),
            accounts=loader.accounts(cur, sel),
            account_bookings=account_bookings,
            prior_total=float(prior["amount"].sum()),
            recent_total=float(account_bookings["amount"].sum()),
            quarterly=quarterly,
            company_quarterly=company,
            ae_history=loader.ae_history(cur, sel),
            targets=load_targets(cur, sel),
            plans=loader.comp_plans(cur),
            quotas=load_quotas(cur, sel)[["rep_id", "period", "amount"]],
            booked=booked,
            fingerprint=fingerprint(cur, TABLES + (SCENARIO_TABLES if scenario else [])),
            scenario=scenario,
        )
    return data
