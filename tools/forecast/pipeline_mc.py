"""Monte Carlo of the open pipeline: which deals win, and in which period they land.

Each trial draws every deal's win (Bernoulli with its win probability) and, for wins, a slip
of 0, 1, 2, ... periods past its planned close period (the slip distribution observed on past
won deals). Overdue deals are planned for the first period. Deals are independent, so for one
period the total has mean sum(a * p * q) and variance sum(a^2 * p*q * (1 - p*q)), where q is
the chance of landing in that period; the tests hold the simulation to these closed forms.
Trials run in chunks so memory stays bounded (chunk x deals per thread), on all cores, and a
seed makes them repeatable.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np


@dataclass
class PipelineDraws:
    samples: np.ndarray  # [trials, groups, periods]
    mean: np.ndarray  # closed-form expectation [groups, periods]
    variance: np.ndarray  # closed-form variance [groups, periods]


def landing_probabilities(planned: np.ndarray, slip: np.ndarray, periods: int) -> np.ndarray:
    """q[deal, period]: chance a won deal lands in each period (planned + slip)."""
    q = np.zeros((len(planned), periods))
    for s, prob in enumerate(slip):
        target = planned + s
        inside = (target >= 0) & (target < periods)
        q[np.flatnonzero(inside), target[inside]] += prob
    return q


def simulate(
    amount: np.ndarray,
    p_win: np.ndarray,
    planned: np.ndarray,
    group: np.ndarray,
    *,
    groups: int,
    periods: int,
    slip: np.ndarray,
    trials: int,
    seed: int | Sequence[int],
    chunk: int = 256,
) -> PipelineDraws:
    """Bookings per group and period from the open deals, `trials` times.

    amount, p_win: per deal; planned: planned close period index (negative = overdue, treated
    as period 0); group: bottom-series index of each deal; slip: probabilities of slipping
    0, 1, 2, ... periods (sums to 1). `seed` may be a sequence of integers (the run's seed and
    the key of the cell simulated), so every cell draws from its own stream.
    """
    amount = np.asarray(amount, dtype=float)
    p_win = np.clip(np.asarray(p_win, dtype=float), 0.0, 1.0)
    planned = np.maximum(np.asarray(planned, dtype=np.int64), 0)
    group = np.asarray(group, dtype=np.int64)
    slip = np.asarray(slip, dtype=float)
    if amount.shape != p_win.shape or amount.shape != planned.shape or amount.shape != group.shape:
        raise ValueError("amount, p_win, planned and group must have one entry per deal")
    if not np.isclose(slip.sum(), 1.0) or (slip < 0).any():
        raise ValueError("slip probabilities must be non-negative and sum to 1")
    if trials < 1:
        raise ValueError("trials must be at least 1")

    q = landing_probabilities(planned, slip, periods)
    pq = p_win[:, None] * q
    mean = np.zeros((groups, periods))
    variance = np.zeros((groups, periods))
    np.add.at(mean, group, amount[:, None] * pq)
    np.add.at(variance, group, (amount**2)[:, None] * pq * (1 - pq))

    cumulative = np.cumsum(slip)
    cumulative[-1] = 1.0
    samples = np.zeros((trials, groups, periods))
    # Every deal that can win is drawn, wherever it lands: a deal's draws (and so every period's
    # figures) do not depend on how many periods were asked for.
    live = np.flatnonzero(p_win > 0)
    a, pl, g = amount[live], planned[live], group[live]
    p = p_win[live].astype(np.float32)
    n_live = len(live)
    cells = groups * periods
    starts = range(0, trials, chunk)
    # One random stream per chunk (spawned from the seed), so the draws are the same whatever
    # the number of threads; numpy releases the GIL while it draws and counts.
    streams = np.random.SeedSequence(seed).spawn(len(starts))

    def run_chunk(start: int, stream: np.random.SeedSequence) -> None:
        rng = np.random.default_rng(stream)
        stop = min(start + chunk, trials)
        c = stop - start
        # Draw wins for every deal, then slips only for the wins (a fifth of the work).
        wins = np.flatnonzero(rng.random((c, n_live), dtype=np.float32) < p)
        t_idx, d_idx = np.divmod(wins, n_live)
        landed = pl[d_idx] + np.searchsorted(cumulative, rng.random(len(wins)), side="right")
        keep = landed < periods
        flat = t_idx[keep] * cells + g[d_idx[keep]] * periods + landed[keep]
        sums = np.bincount(flat, weights=a[d_idx[keep]], minlength=c * cells)
        samples[start:stop] = sums.reshape(c, groups, periods)

    with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, len(starts))) as pool:
        list(pool.map(run_chunk, starts, streams))
    return PipelineDraws(samples=samples, mean=mean, variance=variance)


def slip_distribution(planned_period: np.ndarray, actual_period: np.ndarray, max_slip: int = 4) -> np.ndarray:
    """Observed share of won deals closing 0, 1, ..., max_slip (or more) periods after plan."""
    if len(planned_period) == 0:
        return np.array([1.0])
    slips = np.clip(np.asarray(actual_period) - np.asarray(planned_period), 0, max_slip)
    counts = np.bincount(slips.astype(int), minlength=max_slip + 1).astype(float)
    return counts / counts.sum()
