"""The forecast tool: load (scoped), forecast every region x segment cell, sum the slices asked for.

Flow: bookings -> fiscal-period series per atom (tools/forecast/cells.py) -> a time series per
cell, summed for every requested series (series.py) -> open deals scored and simulated cell by
cell (pipeline.py) -> booked + pipeline + run-rate of business not yet in the pipeline, per
series (blend.py) -> rows, targets, coverage, recommendations and the summary (report.py).
The period the as-of date falls in is the period in progress, reported as `current_period`
(booked so far, the as-of day included, plus what is still expected); the forecast proper starts
with the next period. A what-if is computed on the same draws
as its baseline, so the difference is the levers', not the dice's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.forecast import report, warm_imports
from tools.forecast.blend import blend, new_business_share, ts_draws
from tools.forecast.cells import Atoms, Request, atom_dims, request, series_key
from tools.forecast.load import Loaded, load
from tools.forecast.models import ForecastInput, ForecastResult, WhatIf
from tools.forecast.pipeline import Pipeline, score
from tools.forecast.series import RunRate, run_rate
from tools.forecast.timeline import period_index
from warehouse.calendar import Period
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.identity import Scope

SEASON = {"month": 12, "quarter": 4}


@dataclass(frozen=True)
class Timeline:
    current: Period  # the period in progress (the as-of date's)
    history: list[Period]  # complete periods before it
    periods: list[Period]  # the periods forecast: the current one, then the horizon

    @property
    def horizon(self) -> list[Period]:
        return self.periods[1:]


def timeline(data: Loaded, params: ForecastInput) -> Timeline:
    cal, as_of, grain = data.ctx.calendar, data.ctx.as_of, params.grain
    current = cal.period_of(as_of, grain)
    horizon = [cal.shift(current, i + 1) for i in range(params.horizon)]
    first_day = data.bookings["date"].min().date()
    history = [p for p in cal.periods(first_day, current.start, grain) if p.end <= current.start]
    if len(history) < 3:
        raise InputError(
            f"Only {len(history)} complete {grain}s of bookings before {current.start}: "
            "at least 3 are needed to forecast.",
            "Forecast by quarter instead of month, or import a longer bookings history.",
        )
    return Timeline(current, history, [current, *horizon])


@dataclass
class Forecast:
    """Everything computed for one request, before it becomes rows and words."""

    data: Loaded
    params: ForecastInput
    timeline: Timeline
    atoms: Atoms
    req: Request
    run_rate: RunRate
    pipeline: Pipeline | None
    history: np.ndarray  # [atoms, history periods] bookings
    booked: np.ndarray  # [atoms, periods] booked so far (the period in progress only)
    baseline: dict[str, np.ndarray]  # p10, p50, p90, mean: [nodes, periods]
    asked: dict[str, np.ndarray] | None  # the same under the what-if, when one is asked
    warnings: list[str]


def run_forecast(warehouse: Warehouse, params: ForecastInput, *, scope: Scope | None = None) -> ForecastResult:
    warm_imports.start()  # the model libraries import while the warehouse loads
    data = load(warehouse, params, scope or Scope.everything())
    warm_imports.wait()
    return report.build(compute(data, params))


def compute(data: Loaded, params: ForecastInput, *, keep_samples: bool = False) -> Forecast:
    """The forecast of `params` on `data`; `keep_samples` keeps the baseline's draws (for sums over periods)."""
    tl = timeline(data, params)
    dims = atom_dims(params.by, {d: list(v) for d, v in data.selection.filters.items()})
    frames = [data.bookings, data.pipeline, data.closed]
    atoms = Atoms.of(dims, frames)
    req = request(atoms, params.by, data.selection.filters.get("product"))
    history, booked = _atom_history(data.bookings, atoms, tl)
    eligible = _in_seat(atoms, data.reps, data.ctx.as_of) if "rep" in dims else None
    rr = run_rate(
        history,
        atoms,
        req,
        eligible=eligible,
        season=SEASON[params.grain],
        horizon=len(tl.periods),
        method=params.method,
    )
    keys = [series_key(row) for row in req.members @ history]
    pipe = None
    if data.has_opportunities and not data.pipeline.empty:
        pipe = score(
            open_deals=data.pipeline,
            training=data.training,
            closed=data.closed,
            stage_defaults=data.stage_defaults,
            atoms=atoms,
            periods=tl.periods,
            calendar=data.ctx.calendar,
            as_of=data.ctx.as_of,
            seed=params.seed,
            cache_key=data.data_key(),
            sample_every=data.deal_sample,
        )
    if pipe is None:
        baseline = _time_series_only(rr, req, booked, tl)
        if keep_samples:  # like the quantiles: the series covers whole periods, the booked part included
            draws = np.maximum(
                ts_draws(rr.mean, rr.lo, rr.hi, trials=params.trials, seed=params.seed + 1, keys=keys), 0.0
            )
            draws[:, :, 0] = np.maximum(draws[:, :, 0], (req.members @ booked)[None, :, 0])
            baseline["samples"] = draws
        asked = None if params.what_if.is_baseline() else _scaled(baseline, params.what_if)
        notes = [] if params.what_if.is_baseline() else ["what_if_scaled"]
    else:
        share = _new_business_share(data, atoms, rr, pipe, tl)
        baseline = _blended(atoms, req, rr, pipe, share, booked, keys, WhatIf(), params, keep=keep_samples)
        asked = None
        if not params.what_if.is_baseline():
            asked = _blended(atoms, req, rr, pipe, share, booked, keys, params.what_if, params)
        notes = []
    return Forecast(data, params, tl, atoms, req, rr, pipe, history, booked, baseline, asked, notes)


def _atom_history(bookings: pd.DataFrame, atoms: Atoms, tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """([atoms, history periods] bookings per complete period, [atoms, periods] booked so far now)."""
    t = period_index([*tl.history, tl.current], bookings["date"])
    atom = atoms.index(bookings)
    amount = bookings["amount"].to_numpy(dtype=float)
    history = np.zeros((atoms.n, len(tl.history)))
    past = (t >= 0) & (t < len(tl.history))
    np.add.at(history, (atom[past], t[past]), amount[past])
    booked = np.zeros((atoms.n, len(tl.periods)))
    now = t == len(tl.history)
    np.add.at(booked[:, 0], atom[now], amount[now])
    return history, booked


def _in_seat(atoms: Atoms, reps: pd.DataFrame, as_of: object) -> np.ndarray:
    """[atoms] the atom's rep is employed on the as-of date (who still books a run-rate)."""
    gone = set(reps.loc[reps["end_date"].notna() & (reps["end_date"] <= pd.Timestamp(as_of)), "rep_id"])
    known = set(reps["rep_id"])
    return np.array([(rep := atoms.value(a, "rep")) in known and rep not in gone for a in range(atoms.n)], dtype=bool)


def _time_series_only(rr: RunRate, req: Request, booked: np.ndarray, tl: Timeline) -> dict[str, np.ndarray]:
    """No opportunities: the time series alone, plus what is booked in the period in progress."""
    now = req.members @ booked
    out = {"p10": rr.lo + now, "p50": rr.mean + now, "p90": rr.hi + now, "mean": rr.mean + now}
    for k in out:  # the series forecasts the whole period in progress; part of it is already booked
        out[k][:, 0] = np.maximum(out[k][:, 0] - now[:, 0], now[:, 0])
    return out


def _scaled(baseline: dict[str, np.ndarray], what_if: WhatIf) -> dict[str, np.ndarray]:
    scale = (1 + what_if.deal_size_pct / 100) * (1 + what_if.pipeline_growth_pct / 100)
    return {k: v * scale for k, v in baseline.items()}


def _new_business_share(data: Loaded, atoms: Atoms, rr: RunRate, pipe: Pipeline, tl: Timeline) -> np.ndarray:
    """[cells, periods]: the share of each period's run-rate still to come from deals not created
    yet, from the cell's own history; where the cell has too little history to say, the run-rate
    less what today's pipeline is expected to bring."""
    cells = atoms.cell_of[atoms.index(data.bookings)]
    masks = np.arange(len(atoms.cells))[:, None] == cells[None, :]
    offsets = [(p.start - data.ctx.as_of).days for p in tl.periods]
    share = new_business_share(
        data.bookings, masks, [p.start for p in tl.history], [p.end for p in tl.history], offsets
    )
    missing = np.isnan(share)
    if missing.any():
        cell_pipe = atoms.cell_matrix() @ pipe.expected(atoms, len(tl.periods))
        cell_ts = atoms.cell_matrix() @ rr.atom_mean
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = np.where(cell_ts > 0, 1 - cell_pipe / cell_ts, 1.0)
        share = np.where(missing, np.clip(rest, 0.0, 1.0), share)
    return share


def _blended(
    atoms: Atoms,
    req: Request,
    rr: RunRate,
    pipe: Pipeline,
    share: np.ndarray,
    booked: np.ndarray,
    keys: list[int],
    levers: WhatIf,
    params: ForecastInput,
    keep: bool = False,
) -> dict[str, np.ndarray]:
    """Booked + simulated pipeline + the share of the run-rate not yet in the pipeline, per series."""
    periods = share.shape[1]
    samples = pipe.draws(atoms, periods, levers, trials=params.trials, seed=params.seed)
    rate = pipe.win_rate
    size = 1 + levers.deal_size_pct / 100
    growth = 1 + levers.pipeline_growth_pct / 100
    lifted = np.where(rate > 0, np.maximum(rate + levers.win_rate_pts / 100, 0.0) / np.where(rate > 0, rate, 1), 1.0)
    factor = size * growth * lifted  # [cells]: business not yet created moves with the levers too
    new = (np.clip(share, 0.0, 1.0) * factor[:, None])[atoms.cell_of] * rr.atom_mean
    with np.errstate(divide="ignore", invalid="ignore"):
        effective = np.where(rr.mean > 0, (req.members @ new) / rr.mean, 0.0)
    node_samples = np.einsum("na,tap->tnp", req.members, samples, optimize=True)
    return blend(
        rr.mean, rr.lo, rr.hi, node_samples, effective, req.members @ booked, seed=params.seed + 1, keys=keys, keep=keep
    )
