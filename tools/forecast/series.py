"""The run-rate part of the forecast: a time series per cell, summed for every requested series.

Each region x segment cell is forecast from its own history (timeseries.forecast_series). A
requested series' mean is the sum of its atoms' shares of their cells' means, so means add up
across every breakdown. Its 80% range keeps the width of a model fitted to the series' own
history: cells of a slice move together, which the cells' own ranges cannot know. Its backtest
is the same construction at every backtest origin (shares as known then), so the accuracy
reported is the accuracy of the numbers shown.

A series too sparse to score (bookings in fewer than half of its periods, or in fewer than
six) gets no MASE: its seasonal-naive error, the MASE denominator, is mostly zeros and the
ratio would be meaningless; the backtest row says so instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tools.forecast.backtest import Accuracy, accuracy
from tools.forecast.cells import Atoms, Request, series_key, shares
from tools.forecast.timeseries import forecast_series

MIN_SCORED_PERIODS = 6
# Steps ahead each backtest origin scores, by season length: fixed, so the models chosen (and the
# figures) for next quarter are the same whether 1 or 8 quarters were asked for.
BACKTEST_STEPS = {4: 4, 12: 6}


@dataclass
class RunRate:
    mean: np.ndarray  # [nodes, horizon], coherent
    lo: np.ndarray  # [nodes, horizon], 80% range around `mean`
    hi: np.ndarray
    atom_mean: np.ndarray  # [atoms, horizon]
    node_model: list[str]  # model of each node's own-history fit (its range)
    cell_model: list[str]  # model of each cell (its mean)
    cell_weights: list[dict[str, float]]
    accuracy: list[Accuracy | None]  # per node; None: too sparse or too short to score
    sparse: list[bool]  # per node
    windows: int
    horizon: int
    warnings: list[str] = field(default_factory=list)


def _parts_of_cells(atoms: Atoms, req: Request) -> np.ndarray:
    """[nodes] the series holds part of a cell (not only whole cells)."""
    cells = atoms.cell_matrix()
    held = req.members @ cells.T  # [nodes, cells]: atoms of each cell in the series
    whole = cells.sum(axis=1)[None, :]
    return ((held > 0) & (held < whole)).any(axis=1)


def _scoreable(values: np.ndarray) -> bool:
    busy = int((np.abs(values) > 0).sum())
    return busy >= MIN_SCORED_PERIODS and busy * 2 >= len(values)


def run_rate(
    history: np.ndarray,
    atoms: Atoms,
    req: Request,
    *,
    eligible: np.ndarray | None,
    season: int,
    horizon: int,
    method: str,
) -> RunRate:
    """`history` [atoms, periods]: bookings per atom and complete history period."""
    cells_hist = atoms.cell_matrix() @ history
    node_hist = req.members @ history
    rows: dict[int, int] = {}  # series key -> row of the fit
    values: list[np.ndarray] = []

    def row(series: np.ndarray) -> int:
        key = series_key(series)
        if key not in rows:
            rows[key] = len(values)
            values.append(series)
        return rows[key]

    cell_row = [row(cells_hist[c]) for c in range(len(atoms.cells))]
    node_row = [row(node_hist[i]) for i in range(len(node_hist))]
    pools: list[set[int]] = [{j} for j in range(len(values))]
    for i, j in enumerate(node_row):  # a slice borrows interval calibration from its own cells only
        pools[j] |= {cell_row[c] for c in np.flatnonzero(req.cells[i])}
    ids = [f"s{j}" for j in range(len(values))]
    ts = forecast_series(
        np.vstack(values),
        ids,
        season_length=season,
        horizon=horizon,
        method=method,
        pools=[sorted(p) for p in pools],
        backtest_horizon=BACKTEST_STEPS.get(season),
    )
    share = shares(history, atoms, window=season, eligible=eligible)
    cell_mean = np.maximum(ts.mean[cell_row], 0.0)
    atom_mean = share[:, -1, None] * cell_mean[atoms.cell_of]
    mean = req.members @ atom_mean
    own_mean, own_lo, own_hi = ts.mean[node_row], ts.lo[node_row], ts.hi[node_row]
    down, up = np.maximum(own_mean - own_lo, 0.0), np.maximum(own_hi - own_mean, 0.0)
    # A part of a cell (a rep, a product) can spread no wider than its share of its cells' ranges
    # (the bound for parts that move together): a sparse rep series' own model can otherwise
    # return an unbounded interval, and a P90 of $10^17.
    partial = _parts_of_cells(atoms, req)
    if partial.any():
        cell_down = np.maximum(ts.mean[cell_row] - ts.lo[cell_row], 0.0)[atoms.cell_of]
        cell_up = np.maximum(ts.hi[cell_row] - ts.mean[cell_row], 0.0)[atoms.cell_of]
        weight = share[:, -1, None]
        down[partial] = np.minimum(down, req.members @ (weight * cell_down))[partial]
        up[partial] = np.minimum(up, req.members @ (weight * cell_up))[partial]
    lo = np.maximum(mean - down, 0.0)
    hi = np.maximum(mean + up, mean)

    sparse = [not _scoreable(node_hist[i]) for i in range(len(node_hist))]
    scored, windows = _backtest(ts, cell_row, node_row, share, atoms, req, node_hist, sparse)
    return RunRate(
        mean=mean,
        lo=lo,
        hi=hi,
        atom_mean=atom_mean,
        node_model=[ts.chosen[j] for j in node_row],
        cell_model=[ts.chosen[j] for j in cell_row],
        cell_weights=[ts.weights[j] for j in cell_row],
        accuracy=scored,
        sparse=sparse,
        windows=windows,
        horizon=int(ts.cv["step"].max()) if not ts.cv.empty else 0,
        warnings=list(ts.warnings),
    )


def _backtest(
    ts: Any,
    cell_row: list[int],
    node_row: list[int],
    share: np.ndarray,
    atoms: Atoms,
    req: Request,
    node_hist: np.ndarray,
    sparse: list[bool],
) -> tuple[list[Accuracy | None], int]:
    """Backtest of each node as the forecast builds it: its atoms' shares of their cells' backtest
    forecasts, with its own model's interval width."""
    cv = ts.cv
    if cv.empty:
        return [None] * len(node_row), 0
    cutoffs = np.sort(cv["cutoff"].unique())
    steps = np.sort(cv["step"].unique())
    index = {(c, s): k for k, (c, s) in enumerate((c, s) for c in cutoffs for s in steps)}
    frame = cv.assign(k=[index[(c, s)] for c, s in zip(cv["cutoff"], cv["step"], strict=True)])

    def grid(column: str) -> np.ndarray:
        """[fit rows, origin x step] of a backtest column."""
        out = np.full((len(ts.ids), len(index)), np.nan)
        rows = frame["unique_id"].str[1:].astype(int).to_numpy()
        out[rows, frame["k"].to_numpy()] = frame[column].to_numpy()
        return out

    yhat, lo, hi = grid("yhat"), grid("lo"), grid("hi")
    cell_yhat = np.maximum(yhat[cell_row], 0.0)  # [cells, k]
    origin = np.array([c for c in cutoffs for _ in steps]) + 1  # shares as known after the cutoff period
    atom_yhat = share[:, origin] * cell_yhat[atoms.cell_of]
    node_yhat = req.members @ atom_yhat
    target = np.array([c + s for c in cutoffs for s in steps])
    inside = target < node_hist.shape[1]
    results: list[Accuracy | None] = []
    for i, j in enumerate(node_row):
        if sparse[i]:
            results.append(None)
            continue
        own = yhat[j]
        keep = inside & np.isfinite(own)
        part = pd.DataFrame(
            {
                "unique_id": ts.ids[j],
                "cutoff": origin[keep] - 1,
                "step": np.tile(steps, len(cutoffs))[keep],
                "y": node_hist[i, target[keep]],
                "yhat": node_yhat[i, keep],
                "lo": np.maximum(node_yhat[i, keep] - np.maximum(own[keep] - lo[j, keep], 0.0), 0.0),
                "hi": node_yhat[i, keep] + np.maximum(hi[j, keep] - own[keep], 0.0),
            }
        )
        results.append(accuracy(part, {ts.ids[j]: ts.scales[ts.ids[j]]}))
    return results, len(cutoffs)
