"""Time-series forecasts with statsforecast, the model picked per series by backtest.

Candidates: AutoETS, Dynamic Optimized Theta, seasonal naive and their equal-weight ensemble
(AutoARIMA on request: it costs ~50x more per fit and rarely wins on short sales series).
With `method="auto"` each series keeps the candidate with the lowest MASE on a rolling-origin
backtest (never the best in-sample fit). Intervals are the models' own 80% intervals; the
ensemble's are the mean of its members' bounds.

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
ENSEMBLE_MEMBERS = ("ets", "theta", "naive")
PREFERENCE = ("naive", "theta", "ets", "ensemble", "arima", "average")  # ties go to the simpler
MIN_PERIODS = 3
LOW_HISTORY = 8
Method = str  # auto | ets | arima | theta | naive | ensemble


@dataclass
class TsForecast:
    ids: list[str]
    mean: np.ndarray  # [series, horizon]
    lo: np.ndarray
    hi: np.ndarray
    chosen: list[str]  # model per series
    cv: pd.DataFrame  # backtest rows of the chosen model: unique_id, cutoff, ds, step, y, yhat, lo, hi
    fitted: np.ndarray | None  # in-sample fitted values of the chosen model [series, T]
    cv_fitted: pd.DataFrame | None  # per-cutoff in-sample fits (for reconciliation backtests)
    scales: dict[str, float]
    season_length: int
    warnings: list[str] = field(default_factory=list)


def _models(names: list[str], season_length: int) -> list[object]:
    from statsforecast.models import (
        AutoARIMA,
        AutoETS,
        DynamicOptimizedTheta,
        HistoricAverage,
        Naive,
        SeasonalNaive,
    )

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


def _plan(periods: int, season_length: int, method: Method) -> tuple[list[str], int, list[str]]:
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
    if method == "auto":
        return list(ENSEMBLE_MEMBERS), m, notes
    if method == "ensemble":
        return list(ENSEMBLE_MEMBERS), m, notes
    return [method], m, notes


def _frame(values: np.ndarray, ids: list[str]) -> pd.DataFrame:
    n, t = values.shape
    return pd.DataFrame({"unique_id": np.repeat(ids, t), "ds": np.tile(np.arange(t), n), "y": values.reshape(-1)})


def _add_ensemble(frame: pd.DataFrame, members: tuple[str, ...], with_bounds: bool) -> None:
    frame["ensemble"] = frame[list(members)].mean(axis=1)
    if with_bounds:
        for side in ("lo", "hi"):
            frame[f"ensemble-{side}-{LEVEL}"] = frame[[f"{m}-{side}-{LEVEL}" for m in members]].mean(axis=1)


def forecast_series(
    values: np.ndarray,
    ids: list[str],
    *,
    season_length: int,
    horizon: int,
    method: Method = "auto",
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
    candidates = names + (["ensemble"] if method in ("auto", "ensemble") and names == list(ENSEMBLE_MEMBERS) else [])
    if method == "ensemble" and "ensemble" in candidates:
        candidates = ["ensemble"]
    df = _frame(values.astype(float), ids)
    sf = StatsForecast(models=_models(names, m), freq=1, n_jobs=1, fallback_model=Naive())

    min_train = max(2 * m, LOW_HISTORY if periods >= LOW_HISTORY else 2)
    h_cv = max(1, min(horizon, periods - min_train))
    windows = max(0, min(max_windows, periods - min_train - h_cv + 1))
    scales = {
        sid: mase_scale(values[i, : periods - h_cv - windows + 1], m if m > 1 else season_length)
        for i, sid in enumerate(ids)
    }

    cv = pd.DataFrame()
    cv_fitted = None
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        if windows >= 1:
            cv = sf.cross_validation(df=df, h=h_cv, n_windows=windows, step_size=1, level=[LEVEL], fitted=want_fitted)
            if want_fitted:
                cv_fitted = sf.cross_validation_fitted_values()
        fc = sf.forecast(df=df, h=horizon, level=[LEVEL], fitted=want_fitted)
        fitted_df = sf.forecast_fitted_values() if want_fitted else None

    if "ensemble" in candidates:
        for frame in (cv, fc):
            if not frame.empty:
                _add_ensemble(frame, ENSEMBLE_MEMBERS, with_bounds=True)
        if fitted_df is not None:
            _add_ensemble(fitted_df, ENSEMBLE_MEMBERS, with_bounds=False)
        if cv_fitted is not None:
            _add_ensemble(cv_fitted, ENSEMBLE_MEMBERS, with_bounds=False)

    # Pick per series by backtest MASE; without a backtest, the first candidate's default.
    chosen: dict[str, str] = {}
    if not cv.empty and len(candidates) > 1:
        scale = cv["unique_id"].map(scales).to_numpy()
        scores = {
            c: pd.Series(np.abs(cv[c].to_numpy() - cv["y"].to_numpy()) / scale)
            .groupby(cv["unique_id"].to_numpy())
            .mean()
            for c in candidates
        }
        table = pd.DataFrame(scores)
        order = sorted(candidates, key=PREFERENCE.index)
        table = table[order]
        chosen = table.idxmin(axis=1).to_dict()
    default = "ensemble" if "ensemble" in candidates else candidates[0]
    if not cv.empty and len(candidates) == 1:
        default = candidates[0]
    picks = [chosen.get(sid, default) for sid in ids]
    if cv.empty:
        notes.append("Too little history to backtest: accuracy figures are not available.")

    fc = fc.set_index("unique_id").loc[ids].reset_index()
    mean = np.zeros((n, horizon))
    lo = np.zeros((n, horizon))
    hi = np.zeros((n, horizon))
    for i, (sid, pick) in enumerate(zip(ids, picks, strict=True)):
        rows = fc[fc["unique_id"] == sid].sort_values("ds")
        mean[i] = rows[pick].to_numpy()
        lo[i] = rows[f"{pick}-lo-{LEVEL}"].to_numpy()
        hi[i] = rows[f"{pick}-hi-{LEVEL}"].to_numpy()

    chosen_cv = pd.DataFrame()
    if not cv.empty:
        pick_of = dict(zip(ids, picks, strict=True))
        cv = cv.copy()
        cv["pick"] = cv["unique_id"].map(pick_of)
        cols = {}
        for part, suffix in (("yhat", ""), ("lo", f"-lo-{LEVEL}"), ("hi", f"-hi-{LEVEL}")):
            cols[part] = np.choose(
                cv["pick"].map({c: k for k, c in enumerate(candidates)}).to_numpy(),
                [cv[f"{c}{suffix}"].to_numpy() for c in candidates],
            )
        chosen_cv = pd.DataFrame(
            {
                "unique_id": cv["unique_id"].to_numpy(),
                "cutoff": cv["cutoff"].to_numpy(),
                "ds": cv["ds"].to_numpy(),
                "step": (cv["ds"] - cv["cutoff"]).to_numpy(),
                "y": cv["y"].to_numpy(),
                **cols,
            }
        )
        if cv_fitted is not None:
            cv_fitted = cv_fitted.copy()
            cv_fitted["yhat"] = np.choose(
                cv_fitted["unique_id"].map(pick_of).map({c: k for k, c in enumerate(candidates)}).to_numpy(),
                [cv_fitted[c].to_numpy() for c in candidates],
            )
            cv_fitted = cv_fitted[["unique_id", "cutoff", "ds", "y", "yhat"]]

    fitted = None
    if fitted_df is not None:
        fitted = np.zeros((n, periods))
        for i, (sid, pick) in enumerate(zip(ids, picks, strict=True)):
            fitted[i] = fitted_df[fitted_df["unique_id"] == sid].sort_values("ds")[pick].to_numpy()
        fitted = np.nan_to_num(fitted, nan=0.0)
    return TsForecast(
        ids=list(ids),
        mean=mean,
        lo=lo,
        hi=hi,
        chosen=picks,
        cv=chosen_cv,
        fitted=fitted,
        cv_fitted=cv_fitted,
        scales=scales,
        season_length=m,
        warnings=notes,
    )
