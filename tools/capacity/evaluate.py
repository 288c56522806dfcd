"""From loaded data and assumptions to capacity, gap and hiring plan (the tool's engine).

The month axis runs from the earlier of the period's start and the as-of month to the period's
end. Months before the as-of month only carry bookings already closed; the cohort model
(tools/capacity/cohort.py) simulates from the as-of month on, its first month weighted by the
days left in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from tools.capacity import cohort, plan
from tools.capacity.assumptions import Assumptions, GroupAssumptions, spread
from tools.capacity.models import CONFIDENCE_LEVEL, CapacityInput
from tools.core.estimators import lognormal_sigma
from warehouse.calendar import FiscalCalendar, Period, add_months


@dataclass(frozen=True)
class Horizon:
    as_of: date
    calendar: FiscalCalendar
    period: Period
    months: list[date]  # report axis
    sim_start: int  # index of the as-of month on the report axis

    @classmethod
    def of(cls, as_of: date, calendar: FiscalCalendar, period: Period) -> Horizon:
        this_month = date(as_of.year, as_of.month, 1)
        first = min(period.start, this_month)
        months, m = [], first
        while m < period.end:
            months.append(m)
            m = add_months(m, 1)
        return cls(as_of, calendar, period, months, months.index(this_month))

    @property
    def sim_months(self) -> list[date]:
        return self.months[self.sim_start :]

    @property
    def in_period(self) -> np.ndarray:
        return np.array([self.period.start <= m < self.period.end for m in self.months])

    def index(self, d: date) -> int:
        """Simulation month of `d` (0 = the as-of month; negative = before it)."""
        first = self.months[self.sim_start]
        return (d.year - first.year) * 12 + d.month - first.month

    def first_month_weight(self) -> float:
        """Share of the as-of month still ahead (the as-of day included)."""
        start = self.months[self.sim_start]
        days = (add_months(start, 1) - start).days
        return (add_months(start, 1) - self.as_of).days / days


@dataclass(frozen=True)
class People:
    """The team and the plan of record for one evaluation."""

    reps: pd.DataFrame  # AEs in seat at the as-of date: rep_id, region, segment, hire_date, end_date
    future_hires: pd.DataFrame  # AEs hired with a start date after the as-of date
    requisitions: pd.DataFrame  # open AE requisitions: req_id, region, segment, planned_start


@dataclass(frozen=True)
class GivenHires:
    """A given number of hires (`hires`) placed by `plan.first_hires`."""

    asked: int
    hires: np.ndarray  # [G, S] by group and start month (simulation months)
    start: int | None  # the start month all of them were given, if it was

    @property
    def total(self) -> int:
        return int(self.hires.sum())


@dataclass
class Outcome:
    params: CapacityInput
    horizon: Horizon
    assumptions: Assumptions
    groups: list[GroupAssumptions]
    team: cohort.Team
    path: cohort.Path
    draws: cohort.Draws
    hires: cohort.HirePaths
    booked: np.ndarray  # [G, N] bookings already closed, on the report axis
    targets: np.ndarray  # [G, N] target per month (0 outside the period)
    target_source: str
    value: np.ndarray  # [G, S] expected period capacity one hire starting in month s adds
    value_spread: np.ndarray  # [G, S]
    ramped_period: np.ndarray  # [G] period capacity of one ramped rep in seat throughout
    allowed: np.ndarray  # [G, S] start months a planned hire may use
    earliest_start: int
    last_useful: list[int | None]
    plans: list[plan.GroupPlan]
    requisitions: pd.DataFrame  # with the modelled start month
    headcount_now: np.ndarray  # [G]
    target_by_group: list[str] = field(default_factory=list)  # where each group's target comes from
    given: GivenHires | None = None
    notes: list[str] = field(default_factory=list)
    _capacity: dict[bool, np.ndarray] = field(default_factory=dict, repr=False)
    _plan: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def confidence(self) -> float:
        return CONFIDENCE_LEVEL[self.params.confidence]

    def capacity(self, with_plan: bool = False) -> np.ndarray:
        """Per-trial capacity [T, G, N] on the report axis, bookings closed so far included."""
        if with_plan not in self._capacity:
            self._capacity[with_plan] = self._full_capacity(with_plan)
        return self._capacity[with_plan]

    def _full_capacity(self, with_plan: bool) -> np.ndarray:
        t = self.draws.capacity.shape[0]
        out = np.broadcast_to(self.booked, (t, *self.booked.shape)).copy()
        out[:, :, self.horizon.sim_start :] += self.draws.capacity
        if with_plan:
            out[:, :, self.horizon.sim_start :] += self.plan_capacity()
        return out

    def plan_capacity(self) -> np.ndarray:
        """Per-trial capacity [T, G, M] the planned hires add (simulation months)."""
        if "plan" not in self._plan:
            self._plan["plan"] = self._plan_capacity()
        return self._plan["plan"]

    def _plan_capacity(self) -> np.ndarray:
        return self.hires_capacity(np.stack([p.hires for p in self.plans]))

    def hires_capacity(self, hires: np.ndarray) -> np.ndarray:
        """Per-trial capacity [T, G, M] that hires [G, S] add (simulation months), on the team's draws."""
        x = hires.astype(float)
        ramped = np.einsum("gs,gsm->gm", x, self.hires.ramped) * self.team.productivity
        wobble = np.einsum("gs,gsm->gm", x, self.hires.spread) * self.team.productivity
        f, d = self.draws.factor[:, :, None], self.draws.delta[:, :, None]
        return f * (ramped[None] + d * wobble[None])

    def plan_headcount(self) -> np.ndarray:
        """Expected extra reps in seat [G, M] from the planned hires."""
        x = np.stack([p.hires for p in self.plans]).astype(float)
        return np.einsum("gs,gsm->gm", x, self.hires.headcount)

    def expected_capacity(self) -> np.ndarray:
        """Expected capacity [G, N] without the plan (closed bookings included)."""
        out = self.booked.copy()
        out[:, self.horizon.sim_start :] += self.path.capacity
        return out


def _month_index(horizon: Horizon, when: pd.Series) -> np.ndarray:
    ts = pd.to_datetime(when)
    first = horizon.months[horizon.sim_start]
    return ((ts.dt.year - first.year) * 12 + ts.dt.month - first.month).to_numpy()


def build_team(
    horizon: Horizon,
    assumptions: Assumptions,
    people: People,
    params: CapacityInput,
) -> tuple[cohort.Team, pd.DataFrame, np.ndarray]:
    """The cohort model's input, the requisitions with their modelled start, heads now [G]."""
    groups = assumptions.groups
    keys = {(g.region, g.segment): i for i, g in enumerate(groups)}
    segments = sorted({g.segment for g in groups})
    k = max(len(assumptions.curve(s)) for s in segments)
    m_total = len(horizon.sim_months)
    n = len(groups)
    ramp = np.stack(
        [np.concatenate([assumptions.curve(g.segment), np.ones(k - len(assumptions.curve(g.segment)))]) for g in groups]
    )
    spreads = np.stack(
        [
            np.concatenate([spread(assumptions.curve(g.segment)), np.zeros(k - len(assumptions.curve(g.segment)))])
            for g in groups
        ]
    )
    initial = np.zeros((n, k))
    starts = np.zeros((n, m_total))
    scheduled = np.zeros((n, m_total, k))
    ttf = assumptions.time_to_fill
    backfill = ttf if params.backfill else None

    reps = people.reps
    group_of = np.array([keys.get((r, s), -1) for r, s in zip(reps["region"], reps["segment"], strict=True)], dtype=int)
    hire = pd.to_datetime(reps["hire_date"]).fillna(pd.Timestamp("1900-01-01"))
    bucket = np.minimum(np.maximum(-_month_index(horizon, hire), 0), k - 1)
    known = reps["end_date"].notna().to_numpy()
    heads_now = np.bincount(group_of[group_of >= 0], minlength=n).astype(float)
    stay = (group_of >= 0) & ~known
    np.add.at(initial, (group_of[stay], bucket[stay]), 1.0)
    tenure0 = np.maximum(-_month_index(horizon, hire), 0)
    leave_idx = _month_index(horizon, reps["end_date"].fillna(pd.Timestamp("2262-01-01")))
    for i in np.flatnonzero((group_of >= 0) & known):
        # A known leaving date: in seat until then (part of the leaving month), then backfilled.
        g, end, last = group_of[i], pd.Timestamp(reps["end_date"].iloc[i]).date(), int(leave_idx[i])
        for m in range(min(last + 1, m_total)):
            share = 1.0
            if m == last:
                start = horizon.sim_months[m]
                share = (end - start).days / (add_months(start, 1) - start).days
            scheduled[g, m, min(tenure0[i] + m, k - 1)] += share
        if backfill is not None and last + 1 + backfill < m_total:
            starts[g, last + 1 + backfill] += 1

    future = people.future_hires
    for idx, r, s in zip(_month_index(horizon, future["hire_date"]), future["region"], future["segment"], strict=True):
        g = keys.get((r, s), -1)
        if g >= 0 and 0 <= idx < m_total:
            starts[g, idx] += 1

    reqs = people.requisitions.copy()
    planned = _month_index(horizon, reqs["planned_start"]) if len(reqs) else np.zeros(0, dtype=int)
    modelled = np.maximum(planned, ttf)
    reqs["modelled_start"] = [horizon.sim_months[m].isoformat()[:7] if m < m_total else None for m in modelled]
    for m, r, s in zip(modelled, reqs["region"], reqs["segment"], strict=True):
        g = keys.get((r, s), -1)
        if g >= 0 and m < m_total:
            starts[g, m] += 1

    fiscal = np.array([horizon.calendar.fiscal_month_number(m) for m in horizon.sim_months]) - 1
    weight = np.ones(m_total)
    weight[0] = horizon.first_month_weight()
    per_month = np.array([g.productivity for g in groups])
    productivity = per_month[:, None] * assumptions.season[fiscal][None, :] * weight[None, :]

    period_months = max(horizon.period.months, 1)
    heads = np.maximum(
        heads_now
        + np.bincount(
            [keys[(r, s)] for r, s in zip(reqs["region"], reqs["segment"], strict=True) if (r, s) in keys], minlength=n
        ),
        1,
    )
    rel_se = np.array([g.productivity_se / g.productivity if g.productivity > 0 else 0.0 for g in groups])
    own = np.array([g.monthly_cv for g in groups]) / np.sqrt(period_months * heads)
    sigma = lognormal_sigma(np.sqrt(rel_se**2 + own**2))
    market = float(lognormal_sigma(np.array([assumptions.market_cv / np.sqrt(max(period_months / 3, 1 / 3))]))[0])
    freeze = None
    if params.freeze_from is not None:
        freeze = max(horizon.index(params.freeze_from), 0)
    team = cohort.Team(
        ramp=ramp,
        spread=spreads,
        hazard=np.array([g.attrition for g in groups]),
        productivity=productivity,
        sigma=np.asarray(sigma, dtype=float),
        initial=initial,
        starts=starts,
        scheduled=scheduled,
        ramp_group=np.array([segments.index(g.segment) for g in groups]),
        backfill_delay=backfill,
        freeze=freeze,
        market_sigma=market,
    )
    return team, reqs, heads_now


def evaluate(
    params: CapacityInput,
    horizon: Horizon,
    assumptions: Assumptions,
    people: People,
    booked: np.ndarray,
    targets: np.ndarray,
    target_source: str,
    target_by_group: list[str] | None = None,
    hires_start: date | None = None,
) -> Outcome:
    """Expected model, Monte Carlo, value of a hire by start month, the hiring plan and, with
    `params.hires`, where that many hires go (all in `hires_start`'s month when it is given)."""
    team, reqs, heads_now = build_team(horizon, assumptions, people, params)
    path = cohort.expected(team)
    draws = cohort.simulate(team, params.trials, params.seed)
    hires = cohort.hire_paths(team)
    in_sim = horizon.in_period[horizon.sim_start :]
    value = np.einsum("gsm,gm->gs", hires.ramped[:, :, in_sim], team.productivity[:, in_sim])
    value_spread = np.einsum("gsm,gm->gs", hires.spread[:, :, in_sim], team.productivity[:, in_sim])
    ramped_period = team.productivity[:, in_sim].sum(axis=1)
    m_total = team.months
    earliest = max(assumptions.time_to_fill, 1)
    allowed = np.zeros((team.groups, m_total), dtype=bool)
    allowed[:, earliest:] = True
    if team.freeze is not None:
        allowed[:, team.freeze :] = False
    last_useful = [
        plan.last_useful(value[g], allowed[g], ramped_period[g], params.min_useful_share) for g in range(team.groups)
    ]
    useful = allowed & (value >= params.min_useful_share * ramped_period[:, None])
    confidence = CONFIDENCE_LEVEL[params.confidence]
    period_mask = horizon.in_period
    base = booked[:, period_mask].sum(axis=1)[None, :] + draws.capacity[:, :, in_sim].sum(axis=2)
    plans = []
    for g, ga in enumerate(assumptions.groups):
        target = float(targets[g, period_mask].sum())
        plans.append(
            plan.close_gap(
                base[:, g],
                draws.factor[:, g],
                draws.delta[:, g],
                value[g],
                value_spread[g],
                useful[g],
                target,
                confidence,
                ga.velocity,
            )
        )
    given = None
    if params.hires is not None:
        given = _given(params.hires, plans, value, useful, assumptions, horizon, hires_start)
    return Outcome(
        params=params,
        horizon=horizon,
        assumptions=assumptions,
        groups=assumptions.groups,
        team=team,
        path=path,
        draws=draws,
        hires=hires,
        booked=booked,
        targets=targets,
        target_source=target_source,
        target_by_group=list(target_by_group or []),
        value=value,
        value_spread=value_spread,
        ramped_period=ramped_period,
        allowed=useful,
        earliest_start=earliest,
        last_useful=last_useful,
        plans=plans,
        requisitions=reqs,
        headcount_now=heads_now,
        given=given,
    )


def _given(
    n: int,
    plans: list[plan.GroupPlan],
    value: np.ndarray,
    useful: np.ndarray,
    assumptions: Assumptions,
    horizon: Horizon,
    start: date | None,
) -> GivenHires:
    """Where `n` given hires go: the plan's most valuable seats, or all in the month given.

    A given month is the caller's decision, so it is used even where the plan would not hire
    (inside the time to fill, or late enough to add little); the tool has already refused months
    that are past, after the period or inside a freeze.
    """
    planned = np.stack([p.hires for p in plans])
    per_month: list[int | None] = [g.velocity for g in assumptions.groups]
    if start is None:
        placed = plan.first_hires(planned, value, useful, per_month, n)
        return GivenHires(n, placed, None)
    s = horizon.index(start)
    allowed = np.zeros_like(useful)
    allowed[:, s] = True
    placed = plan.first_hires(plan.moved_to(planned, s, per_month), value, allowed, per_month, n)
    return GivenHires(n, placed, s)
