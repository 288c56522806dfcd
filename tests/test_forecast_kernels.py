"""Forecast kernels on seeded and closed-form data: Monte Carlo, backtests, hierarchy, blend."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from tools.forecast.backtest import accuracy, mase_scale
from tools.forecast.blend import blend, new_business_share
from tools.forecast.pipeline_mc import landing_probabilities, simulate, slip_distribution
from tools.forecast.timeseries import forecast_series


def _deals(n: int = 400, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "amount": rng.lognormal(10, 1, n),
        "p_win": rng.uniform(0, 1, n),
        "planned": rng.integers(-1, 3, n),
        "group": rng.integers(0, 3, n),
    }


def test_monte_carlo_matches_closed_form_without_slip() -> None:
    d = _deals()
    draws = simulate(
        d["amount"],
        d["p_win"],
        d["planned"],
        d["group"],
        groups=3,
        periods=3,
        slip=np.array([1.0]),
        trials=40_000,
        seed=3,
    )
    planned = np.maximum(d["planned"], 0)
    for g in range(3):
        for k in range(3):
            sel = (d["group"] == g) & (planned == k)
            mean = float(np.sum(d["amount"][sel] * d["p_win"][sel]))
            var = float(np.sum(d["amount"][sel] ** 2 * d["p_win"][sel] * (1 - d["p_win"][sel])))
            assert draws.mean[g, k] == pytest.approx(mean)
            assert draws.variance[g, k] == pytest.approx(var)
            sample = draws.samples[:, g, k]
            # Monte Carlo error of the mean is sd/sqrt(n): allow 4 standard errors.
            assert abs(sample.mean() - mean) < 4 * np.sqrt(var / len(sample)) + 1e-9
            assert sample.var() == pytest.approx(var, rel=0.05)


def test_monte_carlo_matches_closed_form_with_slip() -> None:
    d = _deals(seed=2)
    slip = np.array([0.6, 0.3, 0.1])
    draws = simulate(
        d["amount"],
        d["p_win"],
        d["planned"],
        d["group"],
        groups=3,
        periods=4,
        slip=slip,
        trials=40_000,
        seed=5,
    )
    q = landing_probabilities(np.maximum(d["planned"], 0), slip, 4)
    for g in range(3):
        for k in range(4):
            sel = d["group"] == g
            pq = d["p_win"][sel] * q[sel, k]
            mean = float(np.sum(d["amount"][sel] * pq))
            var = float(np.sum(d["amount"][sel] ** 2 * pq * (1 - pq)))
            sample = draws.samples[:, g, k]
            assert abs(sample.mean() - mean) < 4 * np.sqrt(var / len(sample)) + 1e-9
            assert sample.var() == pytest.approx(var, rel=0.06)


def test_monte_carlo_is_deterministic_per_seed_and_validates() -> None:
    d = _deals(60)
    kwargs = {"groups": 3, "periods": 3, "slip": np.array([0.7, 0.3]), "trials": 500}
    a = simulate(d["amount"], d["p_win"], d["planned"], d["group"], seed=9, **kwargs)
    b = simulate(d["amount"], d["p_win"], d["planned"], d["group"], seed=9, **kwargs)
    c = simulate(d["amount"], d["p_win"], d["planned"], d["group"], seed=10, **kwargs)
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    with pytest.raises(ValueError, match="sum to 1"):
        simulate(
            d["amount"],
            d["p_win"],
            d["planned"],
            d["group"],
            seed=1,
            groups=3,
            periods=3,
            slip=np.array([0.5]),
            trials=10,
        )


def test_monte_carlo_draws_do_not_depend_on_the_number_of_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks run on all cores, each with its own stream spawned from the seed: one core and
    eight give the same trials, so a seed reproduces a forecast on any machine."""
    import tools.forecast.pipeline_mc as mc

    d = _deals(80)
    kwargs = {"groups": 3, "periods": 4, "slip": np.array([0.6, 0.3, 0.1]), "trials": 1500, "seed": 4, "chunk": 128}
    runs = []
    for cores in (1, 8):
        monkeypatch.setattr(mc.os, "cpu_count", lambda cores=cores: cores)
        runs.append(simulate(d["amount"], d["p_win"], d["planned"], d["group"], **kwargs).samples)
    assert np.array_equal(runs[0], runs[1])
    assert len({runs[0][i].tobytes() for i in range(0, 1500, 128)}) == 12  # every chunk draws its own trials


def test_certain_deals_land_exactly() -> None:
    draws = simulate(
        np.array([100.0, 50.0]),
        np.array([1.0, 0.0]),
        np.array([0, 1]),
        np.array([0, 0]),
        groups=1,
        periods=2,
        slip=np.array([1.0]),
        trials=50,
        seed=0,
    )
    assert (draws.samples[:, 0, 0] == 100).all() and (draws.samples[:, 0, 1] == 0).all()


def test_slip_distribution_counts_periods_late() -> None:
    slip = slip_distribution(np.array([0, 0, 1, 2, 5]), np.array([0, 1, 1, 4, 4]), max_slip=2)
    assert slip.tolist() == pytest.approx([0.6, 0.2, 0.2])  # early closes count as on time


def test_seasonal_naive_is_exact_on_a_pure_seasonal_series() -> None:
    pattern = np.array([10.0, 20.0, 30.0, 80.0])
    values = np.tile(pattern, 6)[None, :]
    fc = forecast_series(values, ["s"], season_length=4, horizon=4, method="naive")
    assert fc.mean[0] == pytest.approx(pattern)
    acc = accuracy(fc.cv.rename(columns={}), fc.scales)
    assert acc.mase == pytest.approx(0.0, abs=1e-9) and acc.wape == pytest.approx(0.0, abs=1e-9)
    auto = forecast_series(values, ["s"], season_length=4, horizon=4, method="auto")
    assert auto.mean[0] == pytest.approx(pattern, rel=1e-6)
    noisy = values + np.random.default_rng(0).normal(0, 0.5, values.shape) * (np.arange(24) >= 12)
    weighted = forecast_series(noisy, ["s"], season_length=4, horizon=4, method="auto")
    assert abs(sum(weighted.weights[0].values()) - 1) < 1e-9 and weighted.chosen[0].startswith("weighted(")


def test_backtest_models_keep_the_form_and_fit_only_the_early_history() -> None:
    """The backtest re-estimates each model's chosen form on the history before the first
    origin: same form as the forecast's model, parameters of a fit on that early part only."""
    from statsforecast.models import AutoARIMA, AutoETS

    from tools.forecast.timeseries import _reestimated

    rng = np.random.default_rng(3)
    y = 100 + 10 * np.sin(np.arange(48) * np.pi / 6) + np.arange(48) + rng.normal(0, 2, 48)
    ets = AutoETS(season_length=12).fit(y)
    early = _reestimated(ets, y[:30])
    parts = ets.model_["components"]
    fresh = AutoETS(season_length=12, model=parts[:3], damped=parts[3] == "D").fit(y[:30])
    assert early.model_["components"] == parts and len(early.model_["residuals"]) == 30
    assert np.allclose(early.model_["par"], fresh.model_["par"], equal_nan=True)
    assert not np.allclose(early.model_["par"], ets.model_["par"], equal_nan=True)

    arima = AutoARIMA(season_length=12, nmodels=8).fit(y)
    for n in (40, 30):  # on 30 points this seasonal form cannot be estimated: searched again
        early = _reestimated(arima, y[:n])
        assert len(early.model_["residuals"]) == n
        assert early.model_["coef"] != pytest.approx(arima.model_["coef"])
    assert _reestimated(arima, y[:40]).model_["arma"] == arima.model_["arma"]


def test_combined_interval_is_the_mixture_of_the_models_distributions() -> None:
    """The combination's 80% bounds are the 10% and 90% quantiles of the weighted mixture of
    the models' normal forecasts: one model alone keeps its own interval, and models that
    disagree widen the interval beyond the weighted average of their bounds."""
    from scipy.stats import norm

    from tools.forecast.timeseries import _mixture_bounds

    z = norm.ppf(0.9)
    mu = np.array([[100.0, 130.0, 90.0], [50.0, 50.0, 50.0], [10.0, 200.0, 0.0]])
    sigma = np.array([[10.0, 20.0, 5.0], [4.0, 4.0, 4.0], [1.0, 1.0, 1.0]])
    w = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.5, 0.5, 0.0]])
    lo, hi = _mixture_bounds(mu, mu - z * sigma, mu + z * sigma, w)
    for row in range(3):
        cdf = (w[row] * norm.cdf((np.array([[lo[row]], [hi[row]]]) - mu[row]) / sigma[row])).sum(axis=1)
        assert cdf == pytest.approx([0.1, 0.9], abs=1e-9)
    assert (lo[1], hi[1]) == pytest.approx((50 - z * 4, 50 + z * 4))  # same forecast thrice: unchanged
    # Two far-apart forecasts, half the weight each: the band spans both (each side is the 20%
    # tail of one model); averaging the bounds would give 103.7 to 106.3, covering neither.
    assert (lo[2], hi[2]) == pytest.approx((10 + norm.ppf(0.2), 200 + norm.ppf(0.8)))

    one = _mixture_bounds(mu, mu - z * sigma, mu + z * sigma, np.array([[0, 1.0, 0]] * 3))
    assert one[0] == pytest.approx(mu[:, 1] - z * sigma[:, 1]) and one[1] == pytest.approx(mu[:, 1] + z * sigma[:, 1])


def test_a_series_forecast_does_not_depend_on_the_series_beside_it() -> None:
    """Each series is forecast by its own models whatever the other series and their order
    (statsforecast sorts series by id internally; ids here are deliberately unsorted and of
    very different scales)."""
    rng = np.random.default_rng(11)
    t = np.arange(40)
    values = np.vstack(
        [
            1000 + 40 * t + 100 * np.sin(t * np.pi / 2) + rng.normal(0, 20, 40),
            50 + 5 * np.cos(t * np.pi / 2) + rng.normal(0, 1, 40),
            300 - 2 * t + rng.normal(0, 15, 40),
        ]
    )
    ids = ["total", "region=b", "region=a"]
    together = forecast_series(values, ids, season_length=4, horizon=4)
    for i, sid in enumerate(ids):
        alone = forecast_series(values[i : i + 1], [sid], season_length=4, horizon=4)
        assert together.chosen[i] == alone.chosen[0]
        assert together.mean[i] == pytest.approx(alone.mean[0], rel=1e-9)


def test_mase_scale_closed_form() -> None:
    assert mase_scale(np.array([1.0, 2.0, 4.0, 7.0, 11.0]), 2) == pytest.approx(np.mean([3.0, 5.0, 7.0]))
    assert mase_scale(np.array([5.0, 5.0, 5.0]), 1) == 1.0


def test_low_history_falls_back_and_says_so() -> None:
    fc = forecast_series(np.array([[5.0, 6.0, 7.0, 6.0, 8.0, 7.0]]), ["s"], season_length=4, horizon=2, method="ets")
    assert any("Only 6 periods" in w for w in fc.warnings)
    assert set(fc.weights[0]) == {"naive", "average"}
    with pytest.raises(ValueError):
        forecast_series(np.array([[1.0, 2.0]]), ["s"], season_length=4, horizon=1)


def test_interval_ordering_from_models() -> None:
    rng = np.random.default_rng(0)
    values = 100 + rng.normal(0, 10, (3, 30)).cumsum(axis=1)
    fc = forecast_series(np.abs(values), ["a", "b", "c"], season_length=4, horizon=5)
    assert (fc.lo <= fc.mean + 1e-9).all() and (fc.mean <= fc.hi + 1e-9).all()


def test_blend_adds_booked_pipeline_and_new_business() -> None:
    ts_mean = np.array([[100.0]])
    pipeline = np.full((2000, 1, 1), 40.0)
    out = blend(ts_mean, ts_mean, ts_mean, pipeline, np.array([[0.5]]), np.array([[10.0]]), seed=0)
    assert out["mean"][0, 0] == pytest.approx(10 + 40 + 50)
    assert out["p10"][0, 0] == out["p50"][0, 0] == out["p90"][0, 0] == pytest.approx(100.0)


def test_new_business_share_from_history() -> None:
    # One period [Jan 1, Apr 1): 60 booked from a deal created in December, 40 from one in March.
    bookings = pd.DataFrame(
        {
            "date": pd.to_datetime(["2026-02-10", "2026-03-20"] * 15),
            "amount": [60.0, 40.0] * 15,
            "opp_created": pd.to_datetime(["2025-12-01", "2026-03-01"] * 15),
        }
    )
    masks = np.ones((1, len(bookings)), dtype=bool)
    share = new_business_share(
        bookings,
        masks,
        [date(2025, 10, 1), date(2026, 1, 1)],
        [date(2026, 1, 1), date(2026, 4, 1)],
        [0, 30],
    )
    # As of the period start, only the March deal was still to be created; 30 days before it, too.
    assert share[0, 0] == pytest.approx(0.4)
    assert share[0, 1] == pytest.approx(0.4)


def _backtest(ratios_by_step: list[list[float]]) -> pd.DataFrame:
    """Backtest rows of one series with yhat 100, a band of +-10 and errors `ratio` x 10 above."""
    rows = []
    for step, ratios in enumerate(ratios_by_step, start=1):
        for origin, r in enumerate(ratios):
            rows.append({"unique_id": "s", "cutoff": origin, "ds": origin + step, "step": step,
                         "y": 100 + 10 * r, "yhat": 100.0, "lo": 90.0, "hi": 110.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_intervals_are_calibrated_per_step_and_may_narrow() -> None:
    """Step 1 errors used a tenth of the band, steps 3-4 twice it: the forecast band narrows at
    step 1 (to the floor of half the models' band) and widens far out, each by its own step's
    backtest; steps past the backtest take its last step's factor."""
    from tools.forecast.timeseries import MIN_SCALE, _calibrate, _scale_factor

    near = [0.1] * 8
    far = [2.0] * 8
    cv = _backtest([near, near, far, far])
    mean, lo, hi = np.full((1, 5), 100.0), np.full((1, 5), 90.0), np.full((1, 5), 110.0)
    lo2, hi2, out = _calibrate(["s"], mean, lo, hi, cv)
    half = (hi2 - mean)[0]
    assert half[0] == pytest.approx(10 * MIN_SCALE)  # 0.1 would collapse it: the floor holds
    assert half[3] == pytest.approx(20.0) and half[4] == pytest.approx(20.0)  # step 5 = step 4's
    assert half[1] == pytest.approx(10 * _scale_factor(np.array(near * 2 + far)))  # steps 1-3 band
    assert np.allclose(mean - lo2, hi2 - mean)
    # Cross-fitted backtest bands: each origin scaled by the other origins only (all alike here).
    assert np.allclose(out.loc[out["step"] == 4, "hi"] - 100, 20.0)


def test_series_whose_combination_backtests_worse_than_naive_are_found() -> None:
    """Closed form: series a's mix of ets and naive missed by 6 on average, naive alone by 2;
    series b's mix missed by 1, naive by 4; series c's mix by 5.5, naive by 5 (within the margin)."""
    from tools.forecast.timeseries import _worse_than_naive

    cv = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b", "c", "c"],
            "y": [100.0, 100.0, 50.0, 50.0, 10.0, 10.0],
            "ets": [110.0, 110.0, 51.0, 49.0, 15.5, 4.5],
            "naive": [102.0, 98.0, 54.0, 46.0, 15.0, 5.0],
        }
    )
    w = np.array([[0.5, 0.5], [0.9, 0.1], [1.0, 0.0]])
    assert _worse_than_naive(cv, ["ets", "naive"], ["a", "b", "c"], w) == [0]
    assert _worse_than_naive(cv, ["ets"], ["a", "b", "c"], w[:, :1]) == []  # no naive member to fall back to


def test_a_series_that_loses_to_naive_forecasts_naive_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    import tools.forecast.timeseries as ts

    rng = np.random.default_rng(5)
    y = np.tile([10.0, 30, 20, 50], 12) + rng.normal(0, 2, 48)
    monkeypatch.setattr(ts, "_worse_than_naive", lambda cv, names, ids, w: [1])
    fc = forecast_series(np.vstack([y, y * 2]), ["a", "b"], season_length=4, horizon=4, method="auto")
    assert np.allclose(fc.mean[1], y[-4:] * 2)  # seasonal naive: last season repeated
    assert fc.chosen[1] == "naive (the combination backtested worse)" and fc.weights[1]["naive"] == 1.0
    assert not fc.chosen[0].startswith("naive")
    assert any("worse than seasonal naive (by over 20%) on 1 of 2 series (b)" in w for w in fc.warnings)
