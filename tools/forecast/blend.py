"""Blending the open pipeline with the run-rate of business not yet in the pipeline.

A period's bookings come from three sources, seen from the as-of date:
  A  already booked (only for the period in progress);
  B  deals already created: the open pipeline, simulated deal by deal;
  C  deals not created yet: for these only the time series knows the run-rate.
History tells how large C usually is: for every past period, the share of its bookings from
deals created after the date that sits as far before (or into) that period as the as-of date
sits before (or into) the forecast period. That share `c` times the time-series forecast of
the period is the expected C. Blended = A + B + c x TS, combined by simulation: B from the
pipeline Monte Carlo, TS drawn from a normal with the model's 80% interval (truncated at 0),
independent of B. Means add up across the hierarchy; quantiles are computed per series, each
from draws of its own random stream (keyed by the series), so a series' quantiles do not depend
on which other series were forecast with it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

Z80 = 1.2815515655446004  # standard normal quantile of 0.9
MIN_HISTORY_BOOKINGS = 30


def new_business_share(
    bookings: pd.DataFrame,
    node_masks: np.ndarray,
    history_starts: list[date],
    history_ends: list[date],
    offsets_days: list[int],
) -> np.ndarray:
    """c[node, k]: share of a past period's bookings from deals created on or after
    `period start - offsets_days[k]` (offset > 0: as-of before the period; < 0: inside it).

    `node_masks` [nodes, bookings] says which bookings belong to each series. Bookings without
    a linked deal count as not-yet-created business (nothing in a pipeline foretold them).
    Series with too few bookings to say get NaN: the caller decides what stands in.
    """
    dates = bookings["date"].to_numpy(dtype="datetime64[D]")
    created = bookings["opp_created"].to_numpy(dtype="datetime64[D]")
    amount = bookings["amount"].to_numpy(dtype=float)
    starts = np.asarray(history_starts, dtype="datetime64[D]")
    ends = np.asarray(history_ends, dtype="datetime64[D]")
    out = np.zeros((node_masks.shape[0], len(offsets_days)))
    period_of = np.searchsorted(starts, dates, side="right") - 1
    inside = (period_of >= 0) & (dates < ends[np.clip(period_of, 0, len(ends) - 1)])
    for k, offset in enumerate(offsets_days):
        origin = starts[np.clip(period_of, 0, len(starts) - 1)] - np.timedelta64(offset, "D")
        # Only periods whose origin is inside the history can say what was in pipeline then.
        usable = inside & (origin >= starts[0])
        is_new = np.isnat(created) | (created >= origin)
        for i, mask in enumerate(node_masks):
            sel = mask & usable
            total = amount[sel].sum()
            if sel.sum() >= MIN_HISTORY_BOOKINGS and total > 0:
                out[i, k] = amount[sel & is_new].sum() / total
            else:
                out[i, k] = np.nan
    return out


def ts_draws(
    ts_mean: np.ndarray, ts_lo: np.ndarray, ts_hi: np.ndarray, *, trials: int, seed: int, keys: list[int] | None = None
) -> np.ndarray:
    """[trials, nodes, periods]: normal draws with each series' 80% interval, from its own stream."""
    sigma = np.maximum(ts_hi - ts_lo, 0.0) / (2 * Z80)
    keys = list(range(len(ts_mean))) if keys is None else keys
    # Drawn period by period ([periods, trials]), so a period's draws do not depend on how many follow.
    noise = np.stack(
        [np.random.default_rng([seed, key]).standard_normal((ts_mean.shape[1], trials)).T for key in keys], axis=1
    )
    return ts_mean[None] + sigma[None] * noise


def blend(
    ts_mean: np.ndarray,
    ts_lo: np.ndarray,
    ts_hi: np.ndarray,
    pipeline: np.ndarray,
    share_new: np.ndarray,
    booked: np.ndarray,
    *,
    seed: int,
    keys: list[int] | None = None,
    keep: bool = False,
) -> dict[str, np.ndarray]:
    """Quantiles and mean of A + B + c*TS per series and period.

    ts_*: [nodes, periods]; pipeline: [trials, nodes, periods] draws of B; share_new: c
    [nodes, periods]; booked: A [nodes, periods] (zero except the period in progress);
    keys: one integer per series naming its random stream (default: its position); `keep`
    returns the draws too (`samples`, [trials, nodes, periods]), for sums over periods.
    """
    draws = ts_draws(ts_mean, ts_lo, ts_hi, trials=pipeline.shape[0], seed=seed, keys=keys)
    total = booked[None] + pipeline + share_new[None] * np.maximum(draws, 0.0)
    p10, p50, p90 = np.percentile(total, [10, 50, 90], axis=0)
    mean = booked + pipeline.mean(axis=0) + share_new * ts_mean
    out = {"p10": p10, "p50": p50, "p90": p90, "mean": mean}
    if keep:
        out["samples"] = total
    return out
