"""The pipeline part of the forecast: open deals scored and simulated, cell by cell.

Within each region x segment cell, from that cell's data only (tools/forecast/cells.py says
why): a win model trained on the cell's past snapshots (tools/forecast/win_model.py); open deals
with implausible amounts (robust z of log amount against the cell's deals) left out; the
cell's own distribution of how many periods won deals slip; and a Monte Carlo of the cell's
open deals drawn from a random stream of its own, so a deal's draws are the same in every
request that contains it. Models are cached per cell (data fingerprint, as-of, whose data,
seed), so a filtered forecast after a full one trains nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from tools.contract import DataWarning
from tools.core import format as fmt
from tools.core.lru import Lru
from tools.forecast.cells import Atoms
from tools.forecast.models import WhatIf
from tools.forecast.pipeline_mc import landing_probabilities, simulate, slip_distribution
from tools.forecast.timeline import period_index
from tools.forecast.win_model import WinModelReport, train_win_model
from warehouse.calendar import FiscalCalendar, Period

OUTLIER_Z = 5.0
STALE_DAYS = 120
MIN_SLIP_WINS = 30
CACHE_SIZE = 64

_cache: Lru[WinModelReport] = Lru(CACHE_SIZE)


def clear_cache() -> None:
    _cache.clear()


def cell_key(cell: tuple[str, str]) -> int:
    """A stable integer naming a cell's random stream."""
    digest = hashlib.blake2b("|".join(cell).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & 0x7FFF_FFFF_FFFF_FFFF


@dataclass
class Pipeline:
    deals: pd.DataFrame  # open deals on the as-of date (loader columns)
    p: np.ndarray  # win probability per deal (0 for amounts left out)
    atom: np.ndarray  # atom index per deal
    cell: np.ndarray  # cell index per deal
    planned: np.ndarray  # forecast period of the planned close (overdue deals: the first)
    slip: list[np.ndarray]  # per cell: probabilities of slipping 0, 1, 2, ... periods
    win_rate: np.ndarray  # per cell: share of deals closed in the last year that were won (by count)
    reports: list[WinModelReport]
    warnings: list[DataWarning] = field(default_factory=list)

    def closing(self, atoms: Atoms, periods: list[Period]) -> np.ndarray:
        """[atoms, periods]: open amount whose close date falls in each period (coverage's pipeline)."""
        out = np.zeros((atoms.n, len(periods)))
        if self.deals.empty:
            return out
        k = period_index(periods, self.deals["close_date"])
        inside = (k >= 0) & (k < len(periods))
        np.add.at(out, (self.atom[inside], k[inside]), self.deals["amount"].to_numpy(dtype=float)[inside])
        return out

    def expected(self, atoms: Atoms, periods: int) -> np.ndarray:
        """[atoms, periods]: expected bookings from today's open deals (closed form, no levers)."""
        out = np.zeros((atoms.n, periods))
        planned = np.maximum(self.planned, 0)
        amount = self.deals["amount"].to_numpy(dtype=float)
        for c in range(len(atoms.cells)):
            mine = np.flatnonzero(self.cell == c)
            if len(mine):
                q = landing_probabilities(planned[mine], self.slip[c], periods)
                np.add.at(out, self.atom[mine], (amount[mine] * self.p[mine])[:, None] * q)
        return out

    def draws(self, atoms: Atoms, periods: int, what_if: WhatIf, *, trials: int, seed: int) -> np.ndarray:
        """[trials, atoms, periods]: bookings from today's open deals, cell by cell."""
        out = np.zeros((trials, atoms.n, periods))
        size = 1 + what_if.deal_size_pct / 100
        amount = self.deals["amount"].to_numpy(dtype=float) * size
        p = np.clip(self.p + what_if.win_rate_pts / 100 * (self.p > 0), 0.0, 1.0)
        for c, cell in enumerate(atoms.cells):
            mine = np.flatnonzero(self.cell == c)
            local = np.flatnonzero(atoms.cell_of == c)
            if not len(mine) or not len(local):
                continue
            position = np.full(atoms.n, -1)
            position[local] = np.arange(len(local))
            slip = _shift_slip(self.slip[c], what_if.slip_rate_pts) if what_if.slip_rate_pts else self.slip[c]
            sim = simulate(
                amount[mine],
                p[mine],
                self.planned[mine],
                position[self.atom[mine]],
                groups=len(local),
                periods=periods,
                slip=slip,
                trials=trials,
                seed=[seed, cell_key(cell)],
            )
            out[:, local, :] = sim.samples
        return out


def _shift_slip(slip: np.ndarray, points: float) -> np.ndarray:
    """Move `points` of won deals from landing on plan to slipping one period (or back)."""
    out = np.append(slip, 0.0) if len(slip) < 2 else slip.copy()
    move = points / 100.0
    move = min(move, out[0]) if move > 0 else max(move, -out[1])
    out[0] -= move
    out[1] += move
    return out


def score(
    *,
    open_deals: pd.DataFrame,
    training: pd.DataFrame,
    closed: pd.DataFrame,
    stage_defaults: dict[str, float],
    atoms: Atoms,
    periods: list[Period],
    calendar: FiscalCalendar,
    as_of: Any,
    seed: int,
    cache_key: tuple[Any, ...],
    sample_every: dict[tuple[str, str], int] | None = None,
) -> Pipeline:
    """Win probabilities, planned periods and slip for the open deals, each cell on its own data.
    A cell's win model is cached under `cache_key`, the cell, its deal sample (`sample_every`: a
    model trained on 1 in N deals is not the model of all of them) and the seed."""
    warnings: list[DataWarning] = []
    deals = open_deals.reset_index(drop=True)
    cells_index = {c: i for i, c in enumerate(atoms.cells)}
    cell_of_deal = np.array([cells_index[(r, s)] for r, s in zip(deals["region"], deals["segment"], strict=True)], int)
    train_cell = (
        np.array([cells_index.get((r, s), -1) for r, s in zip(training["region"], training["segment"], strict=True)])
        if len(training)
        else np.zeros(0, int)
    )
    holdout_end = pd.Timestamp(as_of) - pd.Timedelta(days=90)
    p = np.zeros(len(deals))
    outlier = (deals["amount"] <= 0).to_numpy()
    slips: list[np.ndarray] = []
    reports: list[WinModelReport] = []
    span = calendar.periods(
        min(deals["close_date"].min(), pd.Timestamp(as_of)).date() - timedelta(days=1500),
        max(deals["close_date"].max().date(), periods[-1].end) + timedelta(days=1),
        periods[0].grain,  # type: ignore[arg-type]
    )
    for c, cell in enumerate(atoms.cells):
        mine = cell_of_deal == c
        rows = training[train_cell == c] if len(training) else training
        if mine.any() or len(rows):
            sample = rows if len(rows) else deals[mine].iloc[0:0].assign(labelled=False)
            report = _cache.get_or_make(
                (*cache_key, cell, (sample_every or {}).get(cell, 1), seed),
                partial(
                    train_win_model,
                    sample,
                    stage_defaults,
                    holdout_start=holdout_end - pd.Timedelta(days=182),
                    holdout_end=holdout_end,
                    seed=seed,
                ),
            )
            reports.append(report)
            warnings += [DataWarning(code="win_model", message=f"{' '.join(cell)}: {w}") for w in report.warnings]
            if mine.any():
                p[mine] = report.model.predict(deals[mine])
                outlier[mine] |= _outliers(deals[mine], rows)
        slips.append(_slip(rows, span))
    p[outlier] = 0.0
    warnings += _deal_warnings(deals, outlier, as_of)
    planned_date = deals["close_date"].where(
        deals["close_date"] >= pd.Timestamp(periods[0].start), pd.Timestamp(periods[0].start)
    )
    rates = np.zeros(len(atoms.cells))
    if len(closed):
        closed_cell = np.array(
            [cells_index.get((r, s), -1) for r, s in zip(closed["region"], closed["segment"], strict=True)]
        )
        for c in range(len(atoms.cells)):
            won = closed["is_won"].to_numpy()[closed_cell == c]
            rates[c] = float(won.mean()) if len(won) else 0.0
    return Pipeline(
        deals=deals,
        p=p,
        atom=atoms.index(deals),
        cell=cell_of_deal,
        planned=period_index(periods, planned_date),
        slip=slips,
        win_rate=rates,
        reports=reports,
        warnings=warnings,
    )


def _outliers(deals: pd.DataFrame, training: pd.DataFrame) -> np.ndarray:
    """Robust z of log amount against the cell's own deals (its training snapshots, else today's)."""
    log_amount = np.log(deals["amount"].clip(lower=1.0))
    reference = np.log(training["amount"].clip(lower=1.0)) if len(training) else log_amount
    med = float(np.median(reference))
    mad = max(float(np.median(np.abs(reference - med))), 0.05) * 1.4826
    return (np.abs(log_amount - med) / mad > OUTLIER_Z).to_numpy()


def _slip(training: pd.DataFrame, span: list[Period]) -> np.ndarray:
    """How many periods the cell's won deals closed after their plan (no slip on too few wins)."""
    if training.empty:
        return np.array([1.0])
    won = training[training["labelled"].astype(bool) & training["won"].astype(bool)]
    if len(won) < MIN_SLIP_WINS:
        return np.array([1.0])
    planned = won[["close_date", "snapshot"]].max(axis=1)
    return slip_distribution(period_index(span, planned), period_index(span, won["final_close"]))


def _deal_warnings(deals: pd.DataFrame, outlier: np.ndarray, as_of: Any) -> list[DataWarning]:
    out = []
    amount = deals["amount"]
    if outlier.any():
        out.append(
            DataWarning(
                code="amount_outliers",
                count=int(outlier.sum()),
                message=f"{int(outlier.sum())} open deals with implausible amounts "
                f"({fmt.money(float(amount[outlier].sum()))} in all) are left out of the pipeline; correct them in the CRM.",
            )
        )
    overdue = (deals["close_date"] < pd.Timestamp(as_of)).to_numpy()
    if overdue.any():
        out.append(
            DataWarning(
                code="zombie_opportunities",
                count=int(overdue.sum()),
                message=f"{int(overdue.sum())} open deals ({fmt.money(float(amount[overdue].sum()))}) are past their "
                "close date; the model scores them low and plans them for the first period.",
            )
        )
    stale = ((deals["days_in_stage"] > STALE_DAYS) & ~overdue).to_numpy()
    if stale.any():
        out.append(
            DataWarning(
                code="stale_stages",
                count=int(stale.sum()),
                message=f"{int(stale.sum())} open deals have not changed stage in over {STALE_DAYS} days "
                "(time in stage lowers their win probability in the model).",
            )
        )
    return out
