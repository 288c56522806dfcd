"""Time-series forecasts with statsforecast, weighted per series by backtest.

Models: AutoETS, Dynamic Optimized Theta and seasonal naive (AutoARIMA on request: it costs
~50x more per fit and rarely wins on short sales series). Every series gets a rolling-origin
backtest on its own history. `method="auto"` combines the three models with weights
proportional to 1 / MASE^2 on that backtest, so the model that forecast this series best
gets most of the say (never the best in-sample fit); `ensemble` weighs them equally; a model
name uses that model alone. Measured against AutoETS and seasonal naive in bench/RESULTS.md.

Intervals are the models' 80% intervals (weighted like the means), then widened per series
when they covered fewer than 80% of the backtest actuals (a conformal scale factor; series
with fewer than 12 backtest points share a pooled factor, or keep the model's intervals).

Short histories fall back: under two seasons, seasonality is not modelled; under 8 periods,
only naive and average forecasts are used; every fallback is reported in `warnings`.
"""

from __future__ import annotations

import warnings as pywarnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tools.forecast.backtest import mase_scale

LEVEL = 80
MEMBERS = ("ets", "theta", "naive")
MIN_PERIODS = 3
LOW_HISTORY = 8
MIN_POINTS_OWN_SCALE = 12
MIN_POINTS_POOLED_SCALE = 30


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


def _models(names: list[str], season_length: int) -> list[object]:
    from statsforecast.models import AutoARIMA, AutoETS, DynamicOptimizedTheta, HistoricAverage, Naive, SeasonalNaive

    seasonal = season_length > 1
    build = {
        "ets": lambda: AutoETS(season_length=season_length, alias="ets"),
        "theta": lambda: DynamicOptimizedTheta(season_length=season_length, alias="theta"),
        "naive": lambda: (
            SeasonalNaive(season_length=season_length, alias="naive") if seasonal else Naive(alias="naive")
        ),
        "arima": lambda: AutoARIMA(season_length=season_length, alias="arima"),
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


def _combine(frame: pd.DataFrame, names: list[str], weights: dict[str, np.ndarray], bounds: bool) -> pd.DataFrame:
    """yhat (and lo, hi) of each row as the weighted mix of the models' columns."""
    w = np.vstack([weights[s] for s in frame["unique_id"]])
    out = {"yhat": (frame[names].to_numpy() * w).sum(axis=1)}
    if bounds:
        for side in ("lo", "hi"):
            out[side] = (frame[[f"{m}-{side}-{LEVEL}" for m in names]].to_numpy() * w).sum(axis=1)
    return pd.DataFrame(out, index=frame.index)


def _scale_factor(cv: pd.DataFrame) -> float:
    """Factor (at least 1) that makes backtest intervals cover 80% of the backtest actuals."""
    upper = cv["y"] > cv["yhat"]
    half = np.where(upper, cv["hi"] - cv["yhat"], cv["yhat"] - cv["lo"])
    ratio = np.abs(cv["y"] - cv["yhat"]).to_numpy() / np.maximum(half, 1e-9)
    n = len(ratio)
    level = min(1.0, np.ceil((n + 1) * LEVEL / 100) / n)  # finite-sample (conformal) quantile
    return max(float(np.quantile(ratio, level)), 1.0)


def _calibrate(
    ids: list[str], mean: np.ndarray, lo: np.ndarray, hi: np.ndarray, cv: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Widen each series' intervals by its scale factor. Backtest intervals are widened
    cross-fitted (each origin by the factor learned on the other origins), so the reported
    backtest coverage stays out of sample."""
    pooled = _scale_factor(cv) if len(cv) >= MIN_POINTS_POOLED_SCALE else 1.0
    lo, hi, out = lo.copy(), hi.copy(), cv.copy()

    def factor(rows: pd.DataFrame) -> float:
        return _scale_factor(rows) if len(rows) >= MIN_POINTS_OWN_SCALE else pooled

    for i, sid in enumerate(ids):
        rows = cv[cv["unique_id"] == sid]
        k = factor(rows)
        lo[i] = mean[i] - k * (mean[i] - lo[i])
        hi[i] = mean[i] + k * (hi[i] - mean[i])
        for cutoff in rows["cutoff"].unique():
            kk = factor(rows[rows["cutoff"] != cutoff])
            sel = (out["unique_id"] == sid) & (out["cutoff"] == cutoff)
            yhat = out.loc[sel, "yhat"]
            out.loc[sel, "lo"] = yhat - kk * (yhat - out.loc[sel, "lo"])
            out.loc[sel, "hi"] = yhat + kk * (out.loc[sel, "hi"] - yhat)
    return lo, hi, out


def forecast_series(
    values: np.ndarray,
    ids: list[str],
    *,
    season_length: int,
    horizon: int,
    method: str = "auto",
    max_windows: int = 6,
    want_fitted: bool = False,
) -> TsForecast:
    """Forecast each row of `values` ([series, periods], oldest first) `horizon` steps ahead."""
    from statsforecast import StatsForecast
    from statsforecast.models import Naive

    n, periods = values.shape
    if periods < MIN_PERIODS:
        raise ValueError(f"need at least {MIN_PERIODS} periods of history, got {periods}")
    names, m, notes = _plan(periods, season_length, method)
    sf = StatsForecast(models=_models(names, m), freq=1, n_jobs=1, fallback_model=Naive())
    df = _frame(values.astype(float), ids)

    min_train = max(2 * m, LOW_HISTORY if periods >= LOW_HISTORY else 2)
    h_cv = max(1, min(horizon, periods - min_train))
    windows = max(0, min(max_windows, periods - min_train - h_cv + 1))
    first_train = periods - h_cv - windows + 1
    scales = {sid: mase_scale(values[i, :first_train], m if m > 1 else season_length) for i, sid in enumerate(ids)}

    cv = pd.DataFrame()
    cv_fitted = None
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        if windows >= 1:
            # Parameters are estimated once, on the history before the first origin, and the
            # models are then run forward through the later origins (refit=False): still out of
            # sample, and five times faster than re-estimating at every origin. (The average
            # model of very short histories cannot run forward; it is cheap to refit.)
            cv = sf.cross_validation(
                df=df,
                h=h_cv,
                n_windows=windows,
                step_size=1,
                level=[LEVEL],
                fitted=want_fitted,
                refit="average" in names,
            )
            if want_fitted:
                cv_fitted = sf.cross_validation_fitted_values()
        fc = sf.forecast(df=df, h=horizon, level=[LEVEL], fitted=want_fitted)
        fitted_df = sf.forecast_fitted_values() if want_fitted else None
    if cv.empty:
        notes.append("Too little history to backtest: accuracy figures are not available.")

    w = _weights(cv, names, ids, scales, method)
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
        lo, hi, backtest = _calibrate(ids, mean, lo, hi, backtest)
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
