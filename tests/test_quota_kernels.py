"""Quota kernels: exact allocations, payout pieces, Monte Carlo invariants, fairness."""

from __future__ import annotations

import numpy as np
import pytest

from tools.core.estimators import lognormal_sigma
from tools.quota.allocate import AllocationInput, allocate, round_exact, water_fill
from tools.quota.fairness import decile_spread, gini
from tools.quota.payout import CompPlan, payout_multiple
from tools.quota.simulate import SimulationInput, run
from warehouse.errors import InputError

REPS = ["R1", "R2", "R3", "R4"]


def _data(capacity: list[float] | None = None) -> AllocationInput:
    return AllocationInput(
        rep_ids=REPS,
        history=np.array([100.0, 300.0, 0.0, 600.0]),
        potential=np.array([200.0, 200.0, 400.0, 200.0]),
        capacity=np.array(capacity or [1.0, 1.0, 1.0, 1.0]),
    )


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("historical", [100_000, 300_000, 0, 600_000]),
        ("potential", [200_000, 200_000, 400_000, 200_000]),
        ("equal", [250_000, 250_000, 250_000, 250_000]),
        ("blended", [150_000, 250_000, 200_000, 400_000]),  # 50/50 of the two shares
    ],
)
def test_methods_give_hand_computed_allocations(method: str, expected: list[float]) -> None:
    assert allocate(_data(), total=1_000_000, method=method).tolist() == expected


def test_weights_and_over_assignment() -> None:
    q = allocate(_data(), total=1_000_000 * 1.1, method="blended", weights=(0.8, 0.2))
    # 0.8 x history share + 0.2 x potential share = [0.12, 0.28, 0.08, 0.52], times 1.1M
    assert q.tolist() == [132_000, 308_000, 88_000, 572_000]


def test_ramping_reps_carry_less() -> None:
    q = allocate(_data([1.0, 1.0, 0.5, 0.25]), total=1_000_000, method="equal")
    # weights 1 : 1 : 0.5 : 0.25 of 2.75
    assert q.tolist() == pytest.approx([363_636, 363_636, 181_818, 90_909], abs=1_000)
    assert q.sum() == 1_000_000


@pytest.mark.parametrize("total", [1_000_000.0, 999_999.99, 1_234_567.0, 10.0])
@pytest.mark.parametrize("unit", [1.0, 1_000.0, 5_000.0])
def test_quotas_always_add_up_exactly(total: float, unit: float) -> None:
    rng = np.random.default_rng(int(total) % 97)
    data = AllocationInput(
        rep_ids=[f"R{i:02d}" for i in range(13)],
        history=rng.uniform(1, 100, 13),
        potential=rng.uniform(1, 100, 13),
        capacity=rng.uniform(0.2, 1, 13),
    )
    q = allocate(data, total=total, method="blended", unit=unit)
    assert q.sum() == pytest.approx(total, abs=1e-6)
    off_unit = np.abs(q / unit - np.round(q / unit)) > 1e-6
    assert off_unit.sum() <= (0 if (total / unit).is_integer() else 1)  # only the sub-unit leftover


def test_rounding_is_deterministic_and_by_largest_remainder() -> None:
    q = round_exact(np.array([333.4, 333.3, 333.3]), ["b", "a", "c"], 100, 1000)
    assert q.tolist() == [400, 300, 300]  # 33.4 > 33.3; the rest goes by remainder, then id
    q2 = round_exact(np.array([333.3, 333.3, 333.4]), ["b", "a", "c"], 100, 1000)
    assert q2.tolist() == [300, 300, 400]


def test_floors_and_caps_water_fill() -> None:
    q = water_fill(np.array([1.0, 1.0, 8.0]), 100.0, np.array([20.0, 20.0, 0.0]), np.array([np.inf, np.inf, 50.0]))
    assert q.tolist() == pytest.approx([25.0, 25.0, 50.0])
    capped = allocate(_data(), total=1_000_000, method="historical", floor=100_000, cap=400_000)
    assert capped.sum() == 1_000_000 and capped.max() <= 400_000 and capped.min() >= 100_000


def test_invalid_allocations_name_the_problem() -> None:
    with pytest.raises(InputError, match="negative"):
        allocate(_data(), total=-5, method="equal")
    with pytest.raises(InputError, match="Unknown allocation method"):
        allocate(_data(), total=5, method="vibes")
    with pytest.raises(InputError, match="sum to 1"):
        allocate(_data(), total=5, method="blended", weights=(0.7, 0.7))
    with pytest.raises(InputError, match="no reps"):
        allocate(AllocationInput([], np.array([]), np.array([]), np.array([])), total=5, method="equal")
    with pytest.raises(InputError, match="floors add up"):
        allocate(_data(), total=100, method="equal", floor=50)
    with pytest.raises(InputError, match="trailing bookings"):
        allocate(AllocationInput(REPS, np.zeros(4), np.ones(4), np.ones(4)), total=5, method="historical")


PLAN = CompPlan(variable_share=0.5, threshold=0.4, decelerator=0.8, accelerators=((1.0, 1.6), (1.5, 2.0)), cap=3.0)


@pytest.mark.parametrize(
    ("attainment", "multiple"),
    [
        (0.0, 0.0),
        (0.39, 0.0),  # below the gate
        (0.4, 0.8 * 0.4),  # at the gate: decelerated rate from the first dollar
        (0.9, 0.8 * 0.9),
        (1.0, 0.8),
        (1.2, 0.8 + 1.6 * 0.2),  # first accelerator tier
        (1.7, 0.8 + 1.6 * 0.5 + 2.0 * 0.2),  # both tiers
        (5.0, 3.0),  # capped
    ],
)
def test_payout_pieces(attainment: float, multiple: float) -> None:
    assert payout_multiple(np.array([attainment]), PLAN)[0] == pytest.approx(multiple)


def test_plain_plan_pays_target_variable_at_plan() -> None:
    plain = CompPlan(variable_share=0.5)
    assert payout_multiple(np.array([0.5, 1.0, 2.0]), plain).tolist() == [0.5, 1.0, 1.0]
    with pytest.raises(InputError):
        CompPlan(variable_share=0.5, accelerators=((1.5, 2.0), (1.0, 1.5)))


def _sim(sigma: float = 0.4, market: float = 0.15, hazard: float = 0.0) -> SimulationInput:
    rng = np.random.default_rng(0)
    n = 200
    return SimulationInput(
        expected=rng.uniform(50, 150, n),
        sigma=np.full(n, sigma),
        sigma_market=market,
        attrition_per_month=hazard,
        months=3.0,
    )


def _payout(quotas: np.ndarray):  # type: ignore[no-untyped-def]
    tv = np.full(len(quotas), 10.0)
    return lambda attainment: payout_multiple(attainment, PLAN) * tv


def test_zero_variance_reproduces_the_deterministic_case() -> None:
    inp = _sim(sigma=0.0, market=0.0)
    quotas = inp.expected * np.where(np.arange(len(inp.expected)) % 2 == 0, 0.9, 1.1)
    s = run(inp, {"plan": quotas}, {"plan": _payout(quotas)}, trials=300, seed=1)["plan"]
    assert (s.share_at_quota == 0.5).all()
    assert s.mean_attainment == pytest.approx(inp.expected / quotas)
    assert s.total_bookings == pytest.approx(np.full(300, inp.expected.sum()))
    expected_pay = (payout_multiple(inp.expected / quotas, PLAN) * 10).sum()
    assert s.total_payout == pytest.approx(np.full(300, expected_pay))


def test_lognormal_draws_match_the_closed_form() -> None:
    inp = _sim(sigma=0.5, market=0.0)
    s = run(inp, {"p": inp.expected}, {"p": _payout(inp.expected)}, trials=20_000, seed=2)["p"]
    # Each rep's mean attainment against quota = expected is 1 (mean-one lognormal).
    assert s.mean_attainment.mean() == pytest.approx(1.0, abs=0.01)
    # P(hit) = P(lognormal >= its mean) = Phi(-sigma/2).
    from scipy.stats import norm

    assert s.p_hit.mean() == pytest.approx(norm.cdf(-0.25), abs=0.01)
    assert lognormal_sigma(np.sqrt(np.exp(0.25) - 1)) == pytest.approx(0.5)


def test_market_factor_correlates_reps() -> None:
    inp = _sim(sigma=0.3, market=0.3)
    s = run(inp, {"p": inp.expected}, {"p": _payout(inp.expected)}, trials=4_000, seed=3)["p"]
    independent = run(
        _sim(sigma=0.3, market=0.0), {"p": inp.expected}, {"p": _payout(inp.expected)}, trials=4_000, seed=3
    )["p"]
    # A shared factor makes good and bad quarters hit everyone: the share at quota spreads out.
    assert s.share_at_quota.std() > 3 * independent.share_at_quota.std()


def test_attrition_lowers_expected_bookings_by_the_survival_factor() -> None:
    hazard, months = 0.05, 3.0
    inp = _sim(sigma=0.0, market=0.0, hazard=hazard)
    s = run(inp, {"p": inp.expected}, {"p": _payout(inp.expected)}, trials=40_000, seed=4)["p"]
    factor = (1 - np.exp(-hazard * months)) / (hazard * months)  # E[min(T, months)] / months
    assert s.total_bookings.mean() == pytest.approx(inp.expected.sum() * factor, rel=0.005)


def test_determinism_and_convergence() -> None:
    inp = _sim()
    q = inp.expected * 1.1
    a = run(inp, {"p": q}, {"p": _payout(q)}, trials=5_000, seed=7)["p"]
    b = run(inp, {"p": q}, {"p": _payout(q)}, trials=5_000, seed=7)["p"]
    c = run(inp, {"p": q}, {"p": _payout(q)}, trials=5_000, seed=8)["p"]
    assert np.array_equal(a.share_at_quota, b.share_at_quota)
    err = 4 * a.share_at_quota.std() / np.sqrt(5_000)
    assert abs(a.share_at_quota.mean() - c.share_at_quota.mean()) < err


def test_common_random_numbers_across_quota_sets() -> None:
    inp = _sim()
    low, high = inp.expected * 0.9, inp.expected * 1.2
    s = run(inp, {"low": low, "high": high}, {"low": _payout(low), "high": _payout(high)}, trials=2_000, seed=5)
    assert np.array_equal(s["low"].total_bookings, s["high"].total_bookings)
    assert (s["low"].share_at_quota >= s["high"].share_at_quota).all()  # same dice, easier quotas


def test_fairness_measures() -> None:
    assert gini(np.ones(10)) == pytest.approx(0.0)
    assert gini(np.array([0.0, 0.0, 0.0, 1.0])) == pytest.approx(0.75)
    assert decile_spread(np.linspace(0, 1, 20)) == pytest.approx(1 - 0.5 * (1 / 19) * 2, abs=0.06)
