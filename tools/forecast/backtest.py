"""Forecast accuracy on rolling-origin backtests: MASE, WAPE, bias, interval coverage.

MASE scales each series' absolute errors by the in-sample mean absolute error of the seasonal
naive forecast (lag = season length) on the history before the first backtest origin, so 1.0
means "as good as repeating last season"; a series too short for a seasonal lag, or with a
zero seasonal error, uses the one-step naive error instead (and 1 if that is zero too).
WAPE = sum|error| / sum|actual|; bias = sum(forecast - actual) / sum|actual| (positive = over-
forecast); coverage_80 = share of actuals inside the 80% interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def mase_scale(history: np.ndarray, season_length: int) -> float:
    """In-sample MAE of the seasonal naive forecast over `history` (1-d)."""
    for lag in (season_length, 1):
        if len(history) > lag:
            scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
            if scale > 0:
                return scale
    return 1.0


@dataclass(frozen=True)
class Accuracy:
    mase: float
    wape: float
    bias: float
    coverage_80: float | None
    points: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "mase": round(self.mase, 3),
            "wape": round(self.wape, 3),
            "bias": round(self.bias, 3),
            "coverage_80": None if self.coverage_80 is None else round(self.coverage_80, 3),
            "points": self.points,
        }


def accuracy(cv: pd.DataFrame, scales: dict[str, float]) -> Accuracy:
    """Accuracy of backtest rows with columns unique_id, y, yhat and optionally lo, hi."""
    if cv.empty:
        return Accuracy(float("nan"), float("nan"), float("nan"), None, 0)
    err = cv["yhat"].to_numpy() - cv["y"].to_numpy()
    scale = cv["unique_id"].map(scales).fillna(1.0).to_numpy()
    denom = float(np.abs(cv["y"]).sum()) or 1.0
    coverage = None
    if "lo" in cv and "hi" in cv and cv["lo"].notna().all():
        inside = (cv["y"] >= cv["lo"]) & (cv["y"] <= cv["hi"])
        coverage = float(inside.mean())
    return Accuracy(
        mase=float(np.mean(np.abs(err) / scale)),
        wape=float(np.abs(err).sum() / denom),
        bias=float(err.sum() / denom),
        coverage_80=coverage,
        points=len(cv),
    )


def accuracy_by_series(cv: pd.DataFrame, scales: dict[str, float]) -> dict[str, Accuracy]:
    return {sid: accuracy(group, scales) for sid, group in cv.groupby("unique_id", sort=False)}
