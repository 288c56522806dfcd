"""Monte Carlo of rep bookings over a quota period, and what they mean for quotas and pay.

Each rep's bookings in a trial are lognormal around their expectation, correlated through one
shared market factor:

    bookings_i = booked_i + mu_i * M * e_i * stay_i
    log M   ~ N(-s_m^2 / 2, s_m^2)        shared by every rep in the trial
    log e_i ~ N(-s_i^2 / 2, s_i^2)        the rep's own luck
    stay_i  = min(1, T_i / months), T_i ~ Exponential(attrition hazard per month)

so E[M] = E[e_i] = 1 and two reps' log bookings correlate by s_m^2 / sqrt((s_m^2 + s_i^2)(s_m^2 + s_j^2)).
Lognormal rather than gamma: bookings are positive and multiplicative (a big deal scales a
quarter), and the log scale makes a shared factor and per-rep volatility compose exactly;
the tests check the mean and coefficient of variation against the closed forms.
A rep who leaves books nothing after leaving (uniform booking within the period).
Every quota set passed in is evaluated on the same draws (common random numbers), so the
difference between a baseline and a what-if is the plan's, not the dice's.

When the forecast gives the distribution of the selection's total (its outlook), the trials are
quantile-matched to it (`match_totals`): trial t's bookings still to come are scaled so that the
t-th smallest total becomes the outlook's quantile of the same rank. Reps keep the split and the
correlation of this model; the total is the forecast's, so both tools quote one P50.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulationInput:
    expected: np.ndarray  # [reps] expected bookings still to come if the rep stays the whole period
    sigma: np.ndarray  # [reps] log-sd of the rep's own variation
    sigma_market: float  # log-sd of the shared market factor
    attrition_per_month: float  # hazard of leaving, per month
    months: float  # length of the simulated (remaining) period
    booked: np.ndarray | None = None  # [reps] already booked in the period (mid-period)


@dataclass
class Summary:
    """What a quota set leads to, across trials."""

    share_at_quota: np.ndarray  # [trials]
    p_hit: np.ndarray  # [reps]
    mean_attainment: np.ndarray  # [reps]
    total_bookings: np.ndarray  # [trials]
    total_payout: np.ndarray  # [trials]
    cost_of_sales: np.ndarray  # [trials]
    mean_payout: np.ndarray  # [reps]
    p90_bookings: np.ndarray  # [reps] the rep's bookings in a good (90th percentile) outcome


P90_SAMPLE = 5_000
PayoutFn = Callable[[np.ndarray], np.ndarray]  # attainment [trials, reps] -> payout [trials, reps]


def draw(inp: SimulationInput, rng: np.random.Generator, trials: int, scale: np.ndarray | None = None) -> np.ndarray:
    """Bookings [trials, reps] for one chunk of trials (`scale`: per trial, on what is still to come)."""
    n = len(inp.expected)
    sigma = np.asarray(inp.sigma, dtype=np.float64)
    market = np.exp(inp.sigma_market * rng.standard_normal(trials) - inp.sigma_market**2 / 2)
    own = np.exp(sigma * rng.standard_normal((trials, n)) - sigma**2 / 2)
    out = (inp.expected * own) * market[:, None]
    if inp.attrition_per_month > 0:
        leave = rng.exponential(1.0 / inp.attrition_per_month, size=(trials, n))
        out *= np.minimum(leave / inp.months, 1.0)
    if scale is not None:
        out *= scale[:, None]
    if inp.booked is not None:
        out += inp.booked
    return out


def totals(inp: SimulationInput, *, trials: int, seed: int, chunk: int = 1_000) -> np.ndarray:
    """[trials] total bookings, on the very draws `run` makes with the same seed and chunk."""
    rng = np.random.default_rng(seed)
    return np.concatenate([draw(inp, rng, min(chunk, trials - s)).sum(axis=1) for s in range(0, trials, chunk)])


def match_totals(totals: np.ndarray, target: np.ndarray, booked: float) -> np.ndarray:
    """Per-trial scale on the bookings still to come that gives the totals `target`'s distribution."""
    order = np.argsort(totals, kind="stable")
    ranks = np.empty(len(totals))
    ranks[order] = (np.arange(len(totals)) + 0.5) / len(totals)
    wanted = np.quantile(np.asarray(target, dtype=float), ranks)
    rest = totals - booked
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(rest > 0, np.maximum(wanted - booked, 0.0) / rest, 1.0)
    return scale


def run(
    inp: SimulationInput,
    quota_sets: dict[str, np.ndarray],
    payouts: dict[str, PayoutFn],
    *,
    trials: int,
    seed: int,
    chunk: int = 1_000,
    scale: np.ndarray | None = None,
) -> dict[str, Summary]:
    """Summaries of every quota set on the same `trials` draws (seeded); `scale` [trials] from
    `match_totals` fits the totals to a given distribution."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    n = len(inp.expected)
    rng = np.random.default_rng(seed)
    acc = {
        name: {
            "share": np.empty(trials),
            "hits": np.zeros(n),
            "attain": np.zeros(n),
            "book": np.empty(trials),
            "pay": np.empty(trials),
            "pay_rep": np.zeros(n),
        }
        for name in quota_sets
    }
    kept: list[np.ndarray] = []  # up to P90_SAMPLE trials, for per-rep percentiles
    for start in range(0, trials, chunk):
        stop = min(start + chunk, trials)
        bookings = draw(inp, rng, stop - start, None if scale is None else scale[start:stop])
        if start < P90_SAMPLE:
            kept.append(bookings[: P90_SAMPLE - start])
        total = bookings.sum(axis=1)
        for name, quotas in quota_sets.items():
            a = acc[name]
            carrying = quotas > 0  # reps without a quota neither hit nor miss it
            attainment = bookings / np.where(carrying, quotas, 1.0)
            hit = (attainment >= 1.0) & carrying
            a["share"][start:stop] = hit[:, carrying].mean(axis=1) if carrying.any() else 0.0
            a["hits"] += hit.sum(axis=0)
            a["attain"] += np.where(carrying, attainment, 0.0).sum(axis=0)
            a["book"][start:stop] = total
            pay = payouts[name](np.where(carrying, attainment, 0.0))
            a["pay"][start:stop] = pay.sum(axis=1)
            a["pay_rep"] += pay.sum(axis=0)
    p90 = np.percentile(np.concatenate(kept), 90, axis=0)
    out = {}
    for name, a in acc.items():
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = np.where(a["book"] > 0, a["pay"] / a["book"], np.nan)
        carrying = quota_sets[name] > 0
        out[name] = Summary(
            share_at_quota=a["share"],
            p_hit=np.where(carrying, a["hits"] / trials, np.nan),
            mean_attainment=np.where(carrying, a["attain"] / trials, np.nan),
            total_bookings=a["book"],
            total_payout=a["pay"],
            cost_of_sales=cos,
            mean_payout=a["pay_rep"] / trials,
            p90_bookings=p90,
        )
    return out
