"""Closed-form and invariant tests of the capacity kernels: cohort model, ramp curves, hiring plan."""

from __future__ import annotations

import numpy as np
import pytest

from tools.capacity import cohort, plan, ramp
from warehouse.errors import InputError


def team(
    *,
    initial: list[list[float]],
    curve: list[float],
    months: int,
    hazard: float = 0.0,
    productivity: float = 100.0,
    starts: dict[int, float] | None = None,
    backfill: int | None = None,
    freeze: int | None = None,
    sigma: float = 0.0,
    market: float = 0.0,
    spread: float = 0.0,
    scheduled: np.ndarray | None = None,
) -> cohort.Team:
    g = len(initial)
    c = np.asarray(curve, dtype=float)
    s = np.zeros((g, months))
    for m, n in (starts or {}).items():
        s[:, m] = n
    return cohort.Team(
        ramp=np.tile(c, (g, 1)),
        spread=np.tile(ramp.speed_spread(c, spread) if spread else np.zeros(len(c)), (g, 1)),
        hazard=np.full(g, hazard),
        productivity=np.full((g, months), productivity),
        sigma=np.full(g, sigma),
        initial=np.asarray(initial, dtype=float),
        starts=s,
        scheduled=np.zeros((g, months, len(c))) if scheduled is None else scheduled,
        ramp_group=np.zeros(g, dtype=int),
        backfill_delay=backfill,
        freeze=freeze,
        market_sigma=market,
    )


def test_ramped_team_without_attrition_is_exact() -> None:
    t = team(initial=[[0, 0, 10]], curve=[0, 0.5, 1], months=12, productivity=1_000)
    path = cohort.expected(t)
    assert path.capacity.sum() == pytest.approx(10 * 1_000 * 12)
    assert np.allclose(path.headcount, 10)
    draws = cohort.simulate(t, trials=500, seed=1)
    # No randomness left: every trial books exactly the closed form.
    assert np.allclose(draws.capacity.sum(axis=2), 120_000)


def test_single_hire_contributes_its_ramp() -> None:
    curve = [0, 0.25, 0.5, 0.75, 1]
    t = team(initial=[[0, 0, 0, 0, 0]], curve=curve, months=12, productivity=100, starts={3: 1})
    path = cohort.expected(t)
    # Starts in month 3, so months 3..11 are tenure 0..8: 0 + .25 + .5 + .75 + 1 x 5.
    assert path.capacity.sum() == pytest.approx(100 * (0 + 0.25 + 0.5 + 0.75 + 5))
    assert path.capacity[0, 4] == pytest.approx(25)
    paths = cohort.hire_paths(t)
    assert paths.ramped[0, 3].sum() == pytest.approx(6.5)
    assert paths.ramped[0, 11].sum() == pytest.approx(0.0)  # a last-month start sells nothing (ramp month 1 = 0%)
    assert paths.ramped[0, 9].sum() == pytest.approx(0 + 0.25 + 0.5)


def test_attrition_reduces_capacity_by_the_survival_factor() -> None:
    h = 0.03
    t = team(initial=[[0, 20]], curve=[0.5, 1], months=12, hazard=h, productivity=50)
    path = cohort.expected(t)
    survival = (1 - h) ** np.arange(12)
    assert np.allclose(path.capacity[0], 20 * 50 * survival)
    assert np.allclose(path.departures[0], 20 * survival * h)


def test_backfill_starts_after_time_to_fill() -> None:
    h = 0.1
    t = team(initial=[[0, 10]], curve=[0, 1], months=8, hazard=h, backfill=2)
    path = cohort.expected(t)
    # Departures at the end of month 0 are replaced in month 0 + 1 + 2 = 3.
    assert path.starts[0, :3].sum() == 0
    assert path.starts[0, 3] == pytest.approx(10 * h)
    assert path.starts[0, 4] == pytest.approx(10 * (1 - h) * h)
    # The replacement sells nothing in its first month (ramp 0) and fully from its second.
    no_backfill = cohort.expected(team(initial=[[0, 10]], curve=[0, 1], months=8, hazard=h))
    assert path.capacity[0, 3] == pytest.approx(no_backfill.capacity[0, 3])
    assert path.capacity[0, 4] - no_backfill.capacity[0, 4] == pytest.approx(100 * 10 * h * (1 - h))


def test_freeze_stops_requisitions_and_backfills() -> None:
    t = team(initial=[[0, 10]], curve=[1, 1], months=10, hazard=0.1, backfill=0, starts={2: 3, 6: 2}, freeze=5)
    path = cohort.expected(t)
    assert path.starts[0, 5:].sum() == 0
    # Backfill delay 0: a month-end departure is replaced the next month, so headcount holds at 10
    # and month 2 gets 3 requisitions plus one replacement.
    assert path.starts[0, 2] == pytest.approx(3 + 10 * 0.1)
    assert path.headcount[0, 4] == pytest.approx(13)
    assert path.headcount[0, 6] < path.headcount[0, 5]  # frozen: departures are no longer replaced


def test_scheduled_leavers_sell_until_they_leave() -> None:
    sched = np.zeros((1, 6, 2))
    sched[0, :3, 1] = 1.0
    sched[0, 3, 1] = 0.5
    t = team(initial=[[0, 0]], curve=[0, 1], months=6, scheduled=sched, hazard=0.2)
    path = cohort.expected(t)
    assert np.allclose(path.capacity[0], [100, 100, 100, 50, 0, 0])


@pytest.mark.parametrize("backfill", [None, 1])
def test_monte_carlo_mean_matches_the_expected_model(backfill: int | None) -> None:
    curve = [0.0, 0.2, 0.5, 0.8, 1.0]
    t = team(
        initial=[[2, 1, 0, 3, 25], [0, 0, 1, 0, 6]],
        curve=curve,
        months=15,
        hazard=0.025,
        starts={2: 2, 5: 1},
        backfill=backfill,
        sigma=0.15,
        market=0.08,
        spread=0.25,
    )
    path = cohort.expected(t)
    draws = cohort.simulate(t, trials=40_000, seed=3)
    totals = draws.capacity.sum(axis=2)  # [T, G]
    se = totals.std(axis=0) / np.sqrt(totals.shape[0])
    assert np.all(np.abs(totals.mean(axis=0) - path.capacity.sum(axis=1)) < 4 * se)
    assert draws.factor.mean() == pytest.approx(1.0, abs=0.01)
    assert np.all(np.abs(draws.delta) <= 1)


def test_simulation_is_seeded() -> None:
    t = team(initial=[[0, 5]], curve=[0.5, 1], months=6, hazard=0.05, sigma=0.1, backfill=1)
    a, b = cohort.simulate(t, 2_000, seed=9), cohort.simulate(t, 2_000, seed=9)
    assert np.array_equal(a.capacity, b.capacity)
    assert not np.array_equal(a.capacity, cohort.simulate(t, 2_000, seed=10).capacity)


def test_team_rejects_inconsistent_inputs() -> None:
    with pytest.raises(ValueError, match="last ramp bucket"):
        team(initial=[[1, 1]], curve=[0, 0.5], months=3)
    with pytest.raises(ValueError, match="hazard"):
        team(initial=[[1, 1]], curve=[0, 1], months=3, hazard=-0.1)


def test_ramp_curves() -> None:
    assert list(ramp.linear(4)) == [0, 0.25, 0.5, 0.75, 1]
    assert list(ramp.linear(0)) == [1.0]
    assert list(ramp.parse("0,25,50,75,100")) == [0, 0.25, 0.5, 0.75, 1]
    assert list(ramp.parse("0, 0.5, 1")) == [0, 0.5, 1]
    assert ramp.months_to_ramp(ramp.linear(5)) == 5
    with pytest.raises(InputError, match="must end at 100%"):
        ramp.parse("0,0.25,0.5,0.75")
    with pytest.raises(InputError, match="between 0 and 1"):
        ramp.validate([0, -0.2, 1])
    with pytest.raises(InputError, match="empty"):
        ramp.validate([])
    with pytest.raises(InputError, match="not a list of numbers"):
        ramp.parse("zero,half,full")


def test_ramp_speed_spread_stays_inside_the_curve() -> None:
    curve = ramp.linear(6)
    half = ramp.speed_spread(curve, 0.25)
    assert half[-1] == 0  # a ramped rep has no ramp uncertainty
    assert np.all(half >= 0) and np.all(half <= curve)
    assert np.all(curve - half >= ramp.at(curve, np.arange(7) / 1.25) - 1e-12)


def _draws(n: int = 4_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = 1_000 * np.exp(0.2 * rng.standard_normal(n))
    factor = np.exp(0.1 * rng.standard_normal(n) - 0.005)
    delta = rng.uniform(-1, 1, n)
    return base, factor, delta


def test_hiring_plan_is_minimal() -> None:
    base, factor, delta = _draws()
    a = np.array([0.0, 0.0, 90.0, 80.0, 70.0, 50.0, 20.0, 5.0])
    b = a * 0.1
    allowed = np.array([False, False, True, True, True, True, True, False])
    result = plan.close_gap(base, factor, delta, a, b, allowed, target=1_300.0, confidence=0.8, per_month=2)
    assert result.closed
    assert plan.capacity_quantile(base + plan.contribution(result.hires, a, b, factor, delta), 0.8) >= 1_300
    assert result.hires[~allowed].sum() == 0
    assert np.all(result.hires <= 2)
    for s in np.flatnonzero(result.hires):
        fewer = result.hires.copy()
        fewer[s] -= 1
        assert plan.capacity_quantile(base + plan.contribution(fewer, a, b, factor, delta), 0.8) < 1_300


def test_hiring_plan_without_a_gap_hires_nobody() -> None:
    base, factor, delta = _draws()
    result = plan.close_gap(base, factor, delta, np.ones(3), np.zeros(3), np.ones(3, bool), 500.0, 0.5, None)
    assert result.total == 0 and result.closed


def test_hiring_plan_reports_what_it_cannot_close() -> None:
    base, factor, delta = _draws()
    a = np.array([100.0, 50.0])
    result = plan.close_gap(base, factor, delta, a, a * 0, np.ones(2, bool), 5_000.0, 0.5, per_month=3)
    assert not result.closed
    assert list(result.hires) == [3, 3]
    assert result.capacity < 5_000


def test_unlimited_hiring_uses_the_best_month() -> None:
    base, factor, delta = _draws()
    a = np.array([30.0, 100.0, 60.0])
    result = plan.close_gap(base, factor, delta, a, a * 0, np.ones(3, bool), 2_000.0, 0.5, per_month=None)
    assert result.closed and result.hires[0] == 0 and result.hires[2] == 0
    # The count is the closed form: the median of base + k x 100 x F first reaches 2,000 at k.
    k = result.hires[1]
    assert np.median(base + (k - 1) * 100 * factor) < 2_000 <= np.median(base + k * 100 * factor)


def test_last_useful_start() -> None:
    a = np.array([0.0, 9.0, 7.0, 4.0, 2.0, 0.0])
    assert plan.last_useful(a, np.ones(6, bool), ramped_period=12.0, share=0.3) == 3
    assert plan.last_useful(a, np.array([1, 1, 0, 0, 0, 0], bool), 12.0, 0.3) == 1
    assert plan.last_useful(a, np.ones(6, bool), 12.0, 0.9) is None


def test_given_hires_take_the_plans_most_valuable_seats_first() -> None:
    # Two groups, four start months; the plan wants 2 + 1 hires, at most 2 a month in group 0.
    value = np.array([[50.0, 40.0, 30.0, 0.0], [90.0, 80.0, 10.0, 0.0]])
    allowed = np.array([[True, True, True, False], [True, True, True, False]])
    planned = np.array([[2, 0, 0, 0], [1, 0, 0, 0]])
    per_month: list[int | None] = [2, 1]
    assert (plan.first_hires(planned, value, allowed, per_month, 3) == planned).all()  # the plan is its own total
    one = plan.first_hires(planned, value, allowed, per_month, 1)
    assert one[1, 0] == 1 and one.sum() == 1  # the plan's most valuable hire ($90 a head)
    more = plan.first_hires(planned, value, allowed, per_month, 5)
    assert (more >= planned).all() and more.sum() == 5
    assert more[1, 1] == 1 and more[0, 1] == 1  # beyond the plan: the best seats left ($80, then $40)
    assert (more[0] <= 2).all() and (more[1] <= 1).all() and more[:, 3].sum() == 0
    # Nested: the first k of n hires are the k asked on their own.
    for k in range(6):
        assert (plan.first_hires(planned, value, allowed, per_month, k) <= more).all()


def test_given_hires_stop_when_the_seats_run_out() -> None:
    value = np.array([[5.0, 4.0]])
    placed = plan.first_hires(np.zeros((1, 2), dtype=int), value, np.array([[True, False]]), [2], 7)
    assert placed.tolist() == [[2, 0]]  # the caller says only 2 of 7 fit


def test_a_given_start_month_takes_the_plan_within_the_monthly_limit() -> None:
    planned = np.array([[1, 2, 0], [0, 0, 0], [3, 0, 0]])
    moved = plan.moved_to(planned, 2, [2, 1, None])
    assert moved.tolist() == [[0, 0, 2], [0, 0, 0], [0, 0, 3]]
