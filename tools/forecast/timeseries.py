"""Time-series forecasts with statsforecast, weighted per series by backtest.

Models: AutoETS, AutoARIMA (a short stepwise search), Dynamic Optimized Theta and seasonal
naive (adding Theta took the combination from 0.959 to 0.954 x AutoETS's geometric-mean MASE
on 400 M1/Tourism series; bench/RESULTS.md, forecast_competition).
Every series gets a rolling-origin backtest on its own history. `method="auto"` combines
the models with weights proportional to 1 / MASE^2 on that backtest, so the model that
forecast this series best gets most of the say (never the best in-sample fit); `ensemble`
weighs them equally; a model name uses that model alone. Each model form is searched once
per series (see `_fit_once`). Measured against AutoETS and seasonal naive in
bench/RESULTS.md.

A series whose combination backtested clearly worse than seasonal naive alone (by more than
NAIVE_MARGIN) uses seasonal naive, and the forecast says so.

Intervals are the 80% bounds of the weighted mixture of the models' forecast distributions
(wider than their averaged bounds when the models disagree), then scaled per series and per
horizon step so they would have covered 80% of the backtest actuals at that step (a conformal
factor read over neighbouring steps; it narrows bands the models drew too wide far out, down
to half, as well as widening; series with too few backtest points share a pooled factor, or
keep the mixture's intervals). Measured on M1 and Tourism in bench/RESULTS.md.

Short histories fall back: under two seasons, seasonality is not modelled; under 8 periods,
only naive and average forecasts are used; every fallback is reported in `warnings`.
"""

from __future__ import annotations

import hashlib
import os
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tools.core.lru import Lru
from tools.forecast import fit_store
from tools.forecast.backtest import mase_scale
from tools.forecast.blend import Z80

LEVEL = 80
MEMBERS = ("ets", "arima", "theta", "naive")
MIN_PERIODS = 3
ARIMA_SEARCH = 8  # candidate models in AutoARIMA's stepwise search (default 94): half the time, same accuracy (bench)
LOW_HISTORY = 8
MIN_POINTS_OWN_SCALE = 12
MIN_POINTS_POOLED_SCALE = 30
STEP_BAND = 1  # interval calibration at step s reads the backtest's steps s-1..s+1
MIN_SCALE = 0.5
# A series falls back to seasonal naive when its combination's backtest error is more than 20%
# above naive's: on 400 M1/Tourism series a switch at any margin cost 2% of accuracy (geometric-
# mean MASE 0.979 x AutoETS against 0.959 without it; six backtest origins are noisy), at 20% nothing.
NAIVE_MARGIN = 1.2


@dataclass
class TsForecast:
    ids: list[str]
    mean: np.ndarray  # [series, horizon]
    lo: np.ndarray
    hi: np.ndarray
    chosen: list[str]  # model (or "weighted") per series
    weights: list[dict[str, float]]  # model weights per series
    cv: pd.DataFrame  # backtest rows of the final combination: unique_id, cutoff, ds, step, y, yhat, lo, hi
    fitted: np.ndarray | None  # in-sample fitted values [series, T]
    cv_fitted: pd.DataFrame | None  # per-origin in-sample fits (for reconciliation backtests)
    scales: dict[str, float]
    season_length: int
    warnings: list[str] = field(default_factory=list)


def _quiet_library_warnings() -> None:
    """statsforecast, and the statsmodels and scipy optimiser code it calls, warn about routine
    numerics (a stepwise search stopped at its model limit, a zero variance on a flat series, a
    line search that did not converge); none is actionable for a user. A filter by module,
    added again on each call (filterwarnings replaces an equal filter, so the list does not
    grow); not catch_warnings() around each fit, which saves and restores process-wide state
    that concurrent forecasts (Slack and batch workers) race on."""
    warnings.filterwarnings("ignore", module=r"(statsforecast|statsmodels|scipy\.optimize)(\.|$)")


def _models(names: list[str], season_length: int) -> list[object]:
    from statsforecast.models import AutoARIMA, AutoETS, DynamicOptimizedTheta, HistoricAverage, Naive, SeasonalNaive

    seasonal = season_length > 1
    build = {
        "ets": lambda: AutoETS(season_length=season_length, alias="ets"),
        "theta": lambda: DynamicOptimizedTheta(season_length=season_length, alias="theta"),
        "naive": lambda: (
            SeasonalNaive(season_length=season_length, alias="naive") if seasonal else Naive(alias="naive")
        ),
        "arima": lambda: AutoARIMA(season_length=season_length, nmodels=ARIMA_SEARCH, alias="arima"),
        "average": lambda: HistoricAverage(alias="average"),
    }
    return [build[name]() for name in names]


def _plan(periods: int, season_length: int, method: str) -> tuple[list[str], int, list[str]]:
    """Models to fit, the season length to use, and what was given up for short history."""
    notes: list[str] = []
    m = season_length
    if periods < 2 * season_length and season_length > 1:
        m = 1
        notes.append(
            f"Only {periods} periods of history (fewer than two seasons of {season_length}): "
            "seasonality is not modelled."
        )
    if periods < LOW_HISTORY:
        notes.append(
            f"Only {periods} periods of history: using naive and average forecasts "
            f"instead of {method if method != 'auto' else 'model selection'}."
        )
        return ["naive", "average"], m, notes
    if method in ("auto", "ensemble"):
        return list(MEMBERS), m, notes
    return [method], m, notes


def _jobs(series: int) -> int:
    """Worker processes for statsforecast's model fitting: one per core for many series, one
    for a few (a process pool costs more than it saves), and one off the main thread: Slack
    and batch workers already run questions in parallel, and forking a process whose other
    threads hold locks is how pools deadlock."""
    if series < 8 or threading.current_thread() is not threading.main_thread():
        return 1
    return max(1, min(os.cpu_count() or 1, series // 4))


def _frame(values: np.ndarray, ids: list[str]) -> pd.DataFrame:
    n, t = values.shape
    return pd.DataFrame({"unique_id": np.repeat(ids, t), "ds": np.tile(np.arange(t), n), "y": values.reshape(-1)})


def _weights(cv: pd.DataFrame, names: list[str], ids: list[str], scales: dict[str, float], method: str) -> np.ndarray:
    """[series, models] combination weights."""
    equal = np.full((len(ids), len(names)), 1.0 / len(names))
    if method != "auto" or cv.empty or len(names) == 1:
        return equal
    scale = cv["unique_id"].map(scales).to_numpy()
    scores = pd.DataFrame(
        {m: np.abs(cv[m].to_numpy() - cv["y"].to_numpy()) / scale for m in names}, index=cv["unique_id"].to_numpy()
    )
    mase = scores.groupby(level=0).mean().reindex(ids)
    w = 1.0 / np.maximum(mase.to_numpy(), 1e-6) ** 2
    w = np.where(np.isfinite(w), w, 1.0)
    return w / w.sum(axis=1, keepdims=True)


def _worse_than_naive(cv: pd.DataFrame, names: list[str], ids: list[str], w: np.ndarray) -> list[int]:
    """Series whose weighted combination had a backtest error more than NAIVE_MARGIN times the naive
    member's alone."""
    if cv.empty or "naive" not in names or len(names) == 1:
        return []
    order = {sid: i for i, sid in enumerate(ids)}
    rows = cv["unique_id"].map(order).to_numpy()
    mu = cv[names].to_numpy()
    combined = (mu * w[rows]).sum(axis=1)
    y = cv["y"].to_numpy()
    errors = pd.DataFrame({"s": rows, "mix": np.abs(combined - y), "naive": np.abs(cv["naive"].to_numpy() - y)})
    mean = errors.groupby("s").mean()
    return [int(i) for i in mean.index[mean["mix"] > mean["naive"] * NAIVE_MARGIN]]


def _mixture_bounds(mu: np.ndarray, lo: np.ndarray, hi: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """80% bounds of the weighted mixture of the models' predictive distributions, per row.

    Each model's forecast is read as a normal distribution with its mean and the spread its
    80% interval implies; the combination's distribution is their weighted mixture. Its
    quantiles lie between the models' own (each model's CDF is below the level at the lowest
    bound and above it at the highest), so bisection on that bracket finds them. Unlike a
    weighted average of the bounds, this widens the interval when the models disagree, which
    is when the combination is least sure."""
    from scipy.special import ndtr

    sigma = np.maximum((hi - lo) / (2 * Z80), 1e-9 * np.maximum(np.abs(mu), 1.0))
    out = []
    for level, bound in ((1 - LEVEL / 100) / 2, lo), ((1 + LEVEL / 100) / 2, hi):
        a, b = bound.min(axis=1), bound.max(axis=1)
        for _ in range(50):  # bracket width shrinks 2^50-fold: far below a cent
            mid = (a + b) / 2
            below = (w * ndtr((mid[:, None] - mu) / sigma)).sum(axis=1) < level
            a, b = np.where(below, mid, a), np.where(below, b, mid)
        out.append((a + b) / 2)
    return out[0], out[1]


def _combine(frame: pd.DataFrame, names: list[str], weights: dict[str, np.ndarray], bounds: bool) -> pd.DataFrame:
    """yhat (and lo, hi) of each row: the weighted mix of the models' means and the 80% bounds
    of the mixture of their distributions."""
    w = np.vstack([weights[s] for s in frame["unique_id"]])
    mu = frame[names].to_numpy()
    out = {"yhat": (mu * w).sum(axis=1)}
    if bounds:
        lo, hi = (frame[[f"{m}-{side}-{LEVEL}" for m in names]].to_numpy() for side in ("lo", "hi"))
        out["lo"], out["hi"] = _mixture_bounds(mu, lo, hi, w)
    return pd.DataFrame(out, index=frame.index)


def _ratios(cv: pd.DataFrame) -> np.ndarray:
    """|error| / interval half-width on the side of the error, per backtest row."""
    y, yhat = cv["y"].to_numpy(), cv["yhat"].to_numpy()
    half = np.where(y > yhat, cv["hi"].to_numpy() - yhat, yhat - cv["lo"].to_numpy())
    return np.abs(y - yhat) / np.maximum(half, 1e-9)


def _scale_factor(ratio: np.ndarray) -> float:
    """Factor that makes backtest intervals cover 80% of the backtest actuals: below 1 narrows
    intervals that covered more (the models' own bands are often too wide far out), above 1
    widens them. Never below MIN_SCALE, so a few lucky backtest points cannot collapse a band."""
    n = len(ratio)
    level = min(1.0, np.ceil((n + 1) * LEVEL / 100) / n)  # finite-sample (conformal) quantile
    return max(float(np.quantile(ratio, level)), MIN_SCALE)


def _band_factors(ratios: np.ndarray, min_points: int) -> np.ndarray:
    """Per step, the scale factor of the ratios at steps within STEP_BAND of it, over every
    row given ([rows, steps], NaN where absent); NaN where fewer than `min_points`."""
    out = np.full(ratios.shape[1], np.nan)
    for t in range(ratios.shape[1]):
        values = ratios[:, max(0, t - STEP_BAND) : t + STEP_BAND + 1].ravel()
        values = values[np.isfinite(values)]
        if len(values) >= min_points:
            out[t] = _scale_factor(values)
    return out


def _calibrate(
    ids: list[str],
    mean: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    cv: pd.DataFrame,
    pools: list[list[int]] | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Scale each series' intervals per horizon step, by the factor its backtest needed at that
    step (read over the steps STEP_BAND either side, so each step has enough points; forecast
    steps beyond the backtest's horizon take its last step's). Backtest intervals are scaled
    cross-fitted (each origin by the factors learned on the other origins), so the reported
    backtest coverage stays out of sample. Where a series has too few backtest points of its
    own at a step, it borrows the pooled factor of its pool (`pools[i]`: series indices;
    default every series) at that step, or keeps its models' band."""
    ratio = _ratios(cv)
    series = cv["unique_id"].to_numpy()
    cutoffs = cv["cutoff"].to_numpy()
    steps = cv["step"].to_numpy().astype(int) - 1
    width = int(steps.max()) + 1
    origin_of = {c: k for k, c in enumerate(np.unique(cutoffs))}
    origins = np.array([origin_of[c] for c in cutoffs])
    grid = np.full((len(ids), len(origin_of), width), np.nan)  # [series, origin, step] ratios
    index = {sid: i for i, sid in enumerate(ids)}
    grid[np.array([index[x] for x in series]), origins, steps] = ratio

    pooled: dict[tuple[int, ...], np.ndarray] = {}

    def pool_factors(i: int) -> np.ndarray:
        members = tuple(pools[i]) if pools is not None else tuple(range(len(ids)))
        if members not in pooled:
            pooled[members] = _band_factors(grid[list(members)].reshape(-1, width), MIN_POINTS_POOLED_SCALE)
        return pooled[members]

    def filled(own: np.ndarray, i: int) -> np.ndarray:
        return np.where(np.isfinite(own), own, np.nan_to_num(pool_factors(i), nan=1.0))

    lo, hi = lo.copy(), hi.copy()
    k_rows = np.ones(len(cv))
    rows_of = {sid: np.flatnonzero(series == sid) for sid in ids}
    for i, sid in enumerate(ids):
        k = filled(_band_factors(grid[i], MIN_POINTS_OWN_SCALE), i)
        k_fc = k[np.minimum(np.arange(mean.shape[1]), width - 1)]
        lo[i] = mean[i] - k_fc * (mean[i] - lo[i])
        hi[i] = mean[i] + k_fc * (hi[i] - mean[i])
        mine = rows_of[sid]
        for o in np.unique(origins[mine]):
            others = np.delete(grid[i], o, axis=0)
            held = mine[origins[mine] == o]
            k_rows[held] = filled(_band_factors(others, MIN_POINTS_OWN_SCALE), i)[steps[held]]
    yhat = cv["yhat"].to_numpy()
    out = cv.assign(lo=yhat - k_rows * (yhat - cv["lo"].to_numpy()), hi=yhat + k_rows * (cv["hi"].to_numpy() - yhat))
    return lo, hi, out


def _reestimated(model: Any, y: np.ndarray) -> Any:
    """A model of the same form as the fitted `model`, its parameters estimated on `y` only.

    When that form cannot be estimated on `y` (a seasonal ARIMA on a short early history,
    say), the model searches its form again on `y`; if even that fails, a naive forecast
    stands in, as statsforecast's fallback model does. Never the given model itself: its
    parameters have seen data after `y`."""
    from statsforecast.models import ARIMA, AutoARIMA, AutoETS, Naive

    spec = getattr(model, "model_", None)
    attempts: list[Callable[[], Any]] = []
    if isinstance(model, AutoETS) and spec is not None:
        parts = spec["components"]
        attempts.append(lambda: AutoETS(season_length=model.season_length, model=parts[:3], damped=parts[3] == "D"))
    if isinstance(model, AutoARIMA) and spec is not None:
        p, q, sp, sq, m, d, sd = spec["arma"]
        attempts.append(
            lambda: ARIMA(
                order=(p, d, q),
                seasonal_order=(sp, sd, sq),
                season_length=m,
                include_mean="intercept" in spec["coef"],
                include_drift="drift" in spec["coef"],
            )
        )
    attempts += [model.new, Naive]
    for make in attempts:
        try:
            return make().fit(y)
        except Exception:  # numerical failure on a short history: try the next
            continue
    raise AssertionError("unreachable: the naive model fits any non-empty history")


def _fit_once(
    sf: Any,
    values: np.ndarray,
    ids: list[str],
    names: list[str],
    first_train: int,
    h_cv: int,
    horizon: int,
    want_fitted: bool,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame, pd.DataFrame | None]:
    """Forecast and backtest with one model search per series and model.

    The automatic models choose their form (ETS components, ARIMA orders) on the whole
    history, as a forecast made today would. The backtest re-estimates that form's parameters
    on the history before the first origin only and runs it forward through each origin, so
    every backtest error is out of sample in its parameters; only the choice of form has seen
    the later data (it is made by AICc inside the model, not by backtest error). The search,
    AutoARIMA's above all, is what costs: it now runs once instead of twice. Frames have
    statsforecast's cross_validation and forecast layout."""
    periods = values.shape[1]
    sf.fit(df=_frame(values.astype(float), ids))
    # statsforecast keeps its fitted models in sorted-id order, not in the order given.
    row_of = {str(uid): k for k, uid in enumerate(sf.uids)}
    fitted_models = [sf.fitted_[row_of[sid]] for sid in ids]  # [series][models], in `ids` order
    cv_rows: list[pd.DataFrame] = []
    cv_fit_rows: list[pd.DataFrame] = []
    fc_rows: list[pd.DataFrame] = []
    fit_rows: list[pd.DataFrame] = []

    def run(models: list[Any], y: np.ndarray, h: int, actual: np.ndarray | None = None, **key: Any) -> None:
        """Forecast rows (and in-sample fits) of every model from history `y`, `h` steps ahead;
        with the `actual` values that followed, they are backtest rows."""
        row: dict[str, Any] = {**key, "ds": np.arange(len(y), len(y) + h)}
        fit_row: dict[str, Any] = {**key, "ds": np.arange(len(y)), "y": y}
        for name, model in zip(names, models, strict=True):
            out = model.forward(y=y, h=h, level=[LEVEL], fitted=want_fitted)
            row |= {name: out["mean"], **{f"{name}-{b}-{LEVEL}": out[f"{b}-{LEVEL}"] for b in ("lo", "hi")}}
            if want_fitted:
                fit_row[name] = out["fitted"]
        backtest = actual is not None
        if backtest:
            row["y"] = actual
        (cv_rows if backtest else fc_rows).append(pd.DataFrame(row))
        if want_fitted:
            (cv_fit_rows if backtest else fit_rows).append(pd.DataFrame(fit_row))

    for i, sid in enumerate(ids):
        run(list(fitted_models[i]), values[i], horizon, unique_id=sid)
        early = [_reestimated(model, values[i, :first_train]) for model in fitted_models[i]]
        for cutoff in range(first_train, periods - h_cv + 1):
            actual = values[i, cutoff : cutoff + h_cv]
            run(early, values[i, :cutoff], h_cv, actual, unique_id=sid, cutoff=cutoff - 1)
    cv = pd.concat(cv_rows, ignore_index=True)
    fc = pd.concat(fc_rows, ignore_index=True)
    cv_fitted = pd.concat(cv_fit_rows, ignore_index=True) if want_fitted else None
    fitted_df = pd.concat(fit_rows, ignore_index=True) if want_fitted else None
    return cv, cv_fitted, fc, fitted_df


FIT_CACHE_SIZE = 1_024
_fits: Lru[tuple[int, list[pd.DataFrame | None]]] = Lru(FIT_CACHE_SIZE)
MIN_CACHED_HORIZON = 8


def clear_cache() -> None:
    """Forget every fit remembered in memory (benchmarks time a cold start with it and no store)."""
    _fits.clear()


@cache
def _code_version() -> str:
    """The fitting code and library a stored fit was made with: any change makes earlier fits misses."""
    import statsforecast

    source = hashlib.blake2b(Path(__file__).read_bytes(), digest_size=8).hexdigest()
    return f"{source}-statsforecast{statsforecast.__version__}"


def _stored_key(key: tuple[Any, ...]) -> str:
    return hashlib.blake2b(repr((key, _code_version())).encode(), digest_size=20).hexdigest()


def _remembered(key: tuple[Any, ...]) -> tuple[int, list[pd.DataFrame | None]] | None:
    hit = _fits.get(key)
    store = fit_store.current()
    if hit is None and store is not None and (hit := store.get(_stored_key(key))) is not None:
        _fits.put(key, hit)
    return hit


def _fit_cached(
    values: np.ndarray,
    ids: list[str],
    names: list[str],
    m: int,
    first_train: int,
    h_cv: int,
    horizon: int,
    want_fitted: bool,
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame, pd.DataFrame | None]:
    """`_fit_once`, remembered per series: a series' fits, forecasts and backtest rows depend on its
    own values only (never on the series beside it), so a cell forecast for one request serves every
    later request in the process (thread-safe; forecasts are kept for at least
    MIN_CACHED_HORIZON steps and cut to the horizon asked)."""
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    periods = values.shape[1]
    keys = [
        (hashlib.blake2b(values[i].astype(float).tobytes(), digest_size=16).digest(), periods, m, tuple(names),
         first_train, h_cv, want_fitted)
        for i in range(len(ids))
    ]  # fmt: skip
    found = {k: hit for k in keys if (hit := _remembered(k)) is not None and hit[0] >= horizon}
    missing = [i for i, k in enumerate(keys) if k not in found]
    if missing:
        sub_ids = [ids[i] for i in missing]
        sf = StatsForecast(models=_models(names, m), freq=1, n_jobs=_jobs(len(missing)), fallback_model=Naive())
        h_fit = max(horizon, MIN_CACHED_HORIZON)
        frames = _fit_once(sf, values[missing], sub_ids, names, first_train, h_cv, h_fit, want_fitted)
        for i, sid in zip(missing, sub_ids, strict=True):
            parts = [None if f is None else f[f["unique_id"] == sid].assign(unique_id="_") for f in frames]
            found[keys[i]] = (h_fit, parts)
            _fits.put(keys[i], found[keys[i]])
            if (store := fit_store.current()) is not None:
                store.put(_stored_key(keys[i]), found[keys[i]])

    def gather(k: int) -> pd.DataFrame | None:
        parts = [found[key][1][k] for key in keys]
        if any(p is None for p in parts):
            return None
        return pd.concat([p.assign(unique_id=sid) for p, sid in zip(parts, ids, strict=True)], ignore_index=True)  # type: ignore[union-attr]

    cv, cv_fitted, fc, fitted_df = (gather(k) for k in range(4))
    assert cv is not None and fc is not None
    return cv, cv_fitted, fc[fc["ds"] < periods + horizon].reset_index(drop=True), fitted_df


def forecast_series(
    values: np.ndarray,
    ids: list[str],
    *,
    season_length: int,
    horizon: int,
    method: str = "auto",
    max_windows: int = 6,
    want_fitted: bool = False,
    pools: list[list[int]] | None = None,
    backtest_horizon: int | None = None,
) -> TsForecast:
    """Forecast each row of `values` ([series, periods], oldest first) `horizon` steps ahead.

    `pools[i]` lists the series whose backtests calibrate series i's intervals when its own are
    too few (default: every series given); a forecast that must not depend on which other
    series it was computed with passes pools of related series only. `backtest_horizon` fixes
    how many steps each backtest origin scores (default: the horizon), so model weights and
    interval widths do not change with how far ahead a caller asked."""
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    _quiet_library_warnings()
    n, periods = values.shape
    if periods < MIN_PERIODS:
        raise ValueError(f"need at least {MIN_PERIODS} periods of history, got {periods}")
    names, m, notes = _plan(periods, season_length, method)

    min_train = max(2 * m, LOW_HISTORY if periods >= LOW_HISTORY else 2)
    h_cv = max(1, min(backtest_horizon or horizon, periods - min_train))
    windows = max(0, min(max_windows, periods - min_train - h_cv + 1))
    first_train = periods - h_cv - windows + 1
    scales = {sid: mase_scale(values[i, :first_train], m if m > 1 else season_length) for i, sid in enumerate(ids)}

    cv = pd.DataFrame()
    cv_fitted = None
    if windows >= 1 and "average" not in names:
        cv, cv_fitted, fc, fitted_df = _fit_cached(values, ids, names, m, first_train, h_cv, horizon, want_fitted)
    else:
        # The average model of very short histories cannot run forward; it is cheap to refit.
        sf = StatsForecast(models=_models(names, m), freq=1, n_jobs=_jobs(n), fallback_model=Naive())
        df = _frame(values.astype(float), ids)
        if windows >= 1:
            cv = sf.cross_validation(
                df=df, h=h_cv, n_windows=windows, step_size=1, level=[LEVEL], fitted=want_fitted, refit=True
            )
            if want_fitted:
                cv_fitted = sf.cross_validation_fitted_values()
        fc = sf.forecast(df=df, h=horizon, level=[LEVEL], fitted=want_fitted)
        fitted_df = sf.forecast_fitted_values() if want_fitted else None
    if cv.empty:
        notes.append("Too little history to backtest: accuracy figures are not available.")

    w = _weights(cv, names, ids, scales, method)
    naive_better = _worse_than_naive(cv, names, ids, w) if method == "auto" else []
    for i in naive_better:
        w[i] = np.array([1.0 if m == "naive" else 0.0 for m in names])
    if naive_better:
        shown = ", ".join(ids[i] for i in naive_better[:5]) + (" ..." if len(naive_better) > 5 else "")
        notes.append(
            f"The model combination backtested worse than seasonal naive (by over {NAIVE_MARGIN - 1:.0%}) on "
            f"{len(naive_better)} of {n} series "
            f"({shown}): those use the seasonal naive forecast (each period = the same period a season earlier)."
        )
    weights = {sid: w[i] for i, sid in enumerate(ids)}
    fc = fc.set_index("unique_id").loc[ids].reset_index().sort_values(["unique_id", "ds"], kind="stable")
    combined = _combine(fc, names, weights, bounds=True)
    order = {sid: i for i, sid in enumerate(ids)}
    row_of = fc["unique_id"].map(order).to_numpy()
    step = fc["ds"].to_numpy() - periods
    mean, lo, hi = (np.zeros((n, horizon)) for _ in range(3))
    mean[row_of, step] = combined["yhat"].to_numpy()
    lo[row_of, step] = combined["lo"].to_numpy()
    hi[row_of, step] = combined["hi"].to_numpy()

    backtest = pd.DataFrame()
    if not cv.empty:
        mixed = _combine(cv, names, weights, bounds=True)
        backtest = pd.DataFrame(
            {
                "unique_id": cv["unique_id"].to_numpy(),
                "cutoff": cv["cutoff"].to_numpy(),
                "ds": cv["ds"].to_numpy(),
                "step": (cv["ds"] - cv["cutoff"]).to_numpy(),
                "y": cv["y"].to_numpy(),
                "yhat": mixed["yhat"].to_numpy(),
                "lo": mixed["lo"].to_numpy(),
                "hi": mixed["hi"].to_numpy(),
            }
        )
        lo, hi, backtest = _calibrate(ids, mean, lo, hi, backtest, pools)
        if cv_fitted is not None:
            cv_fitted = cv_fitted.assign(yhat=_combine(cv_fitted, names, weights, bounds=False)["yhat"])
            cv_fitted = cv_fitted[["unique_id", "cutoff", "ds", "y", "yhat"]]

    fitted = None
    if fitted_df is not None:
        fitted_df = fitted_df.sort_values(["unique_id", "ds"], kind="stable")
        fit = _combine(fitted_df, names, weights, bounds=False)["yhat"].to_numpy()
        fitted = np.zeros((n, periods))
        fitted[fitted_df["unique_id"].map(order).to_numpy(), fitted_df["ds"].to_numpy()] = fit
        fitted = np.nan_to_num(fitted, nan=0.0)

    labels = []
    for i in range(n):
        if len(names) == 1:
            labels.append(names[0])
        elif i in naive_better:
            labels.append("naive (the combination backtested worse)")
        elif method == "auto" and not cv.empty:
            labels.append("weighted(" + ", ".join(f"{m} {x:.2f}" for m, x in zip(names, w[i], strict=True)) + ")")
        else:
            labels.append("ensemble(" + ", ".join(names) + ")")
    return TsForecast(
        ids=list(ids),
        mean=mean,
        lo=lo,
        hi=hi,
        chosen=labels,
        weights=[dict(zip(names, (float(x) for x in w[i]), strict=True)) for i in range(n)],
        cv=backtest,
        fitted=fitted,
        cv_fitted=cv_fitted,
        scales=scales,
        season_length=m,
        warnings=notes,
    )
