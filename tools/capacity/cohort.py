"""Month-by-month cohort model of a sales team's selling capacity. Pure numpy.

Each group (a region x segment) counts its reps by tenure bucket: bucket k < K-1 holds reps in
their (k+1)-th month in seat, bucket K-1 every rep past the ramp. Month m, in order:

1. hires starting in month m join bucket 0: open requisitions and planned hires (`starts`) and,
   with backfill on, the replacements of reps who left `backfill_delay` + 1 months earlier
   (the time to fill). Nothing starts in or after the `freeze` month.
2. the reps in seat sell:
       capacity[g, m] = productivity[g, m] x F[g] x sum_k (ramp[g, k] + delta x spread[g, k]) x N[g, k]
   where F is the group's productivity factor (lognormal, mean 1; shared market part plus the
   group's own) and delta ~ Uniform(-1, 1) moves the ramp between a slower and a faster curve
   (one draw per segment: a segment's groups ramp alike). In the expected model F = 1, delta = 0.
3. at month end each rep leaves with the group's monthly hazard h. The Monte Carlo draws the
   group's departures D ~ Binomial(headcount, h) and takes them from the tenure buckets in
   proportion to their size; the expected model takes h x N from every bucket. The survivors
   move one bucket up (bucket K-1 keeps its reps).

Reps with a known leaving date (`scheduled`) sell in their bucket until then and are outside
the random attrition.

Why this shape: every step is linear in the counts, and F, delta and the departures are
independent with E[F] = 1, E[delta] = 0 and E[D | N] = h N, so the Monte Carlo mean equals the
expected model exactly (a test holds them together). Drawing departures per group rather than per
bucket costs one binomial per group and month instead of one per bucket (10x faster at 10,000
trials); it keeps the headcount distribution exact and puts the tenure mix of the leavers at its
expectation, which understates capacity variance only by the spread in who leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Team:
    """Everything the cohort model needs, for G groups over M months (K tenure buckets)."""

    ramp: np.ndarray  # [G, K] productivity share by tenure bucket; the last column is 1
    spread: np.ndarray  # [G, K] half-width of the ramp-speed uncertainty, 0 <= spread <= ramp
    hazard: np.ndarray  # [G] probability that a rep in seat leaves at the end of a month
    productivity: np.ndarray  # [G, M] bookings of one fully ramped rep in month m
    sigma: np.ndarray  # [G] log-sd of the group's own productivity factor
    initial: np.ndarray  # [G, K] reps in seat at the start of month 0, by tenure bucket
    starts: np.ndarray  # [G, M] hires starting in month m (requisitions, planned hires)
    scheduled: np.ndarray  # [G, M, K] reps with a known leaving date, in seat by bucket
    ramp_group: np.ndarray  # [G] index of the ramp-speed draw the group shares (its segment)
    backfill_delay: int | None = None  # months from a departure to its replacement; None: no backfill
    freeze: int | None = None  # no hire starts in this month or later
    market_sigma: float = 0.0  # log-sd of the productivity factor all groups share

    def __post_init__(self) -> None:
        g, k = self.ramp.shape
        m = self.productivity.shape[1]
        shapes = {
            "spread": (self.spread.shape, (g, k)),
            "hazard": (self.hazard.shape, (g,)),
            "productivity": (self.productivity.shape, (g, m)),
            "sigma": (self.sigma.shape, (g,)),
            "initial": (self.initial.shape, (g, k)),
            "starts": (self.starts.shape, (g, m)),
            "scheduled": (self.scheduled.shape, (g, m, k)),
            "ramp_group": (self.ramp_group.shape, (g,)),
        }
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f"{name} has shape {got}, expected {want}")
        if not np.allclose(self.ramp[:, -1], 1.0):
            raise ValueError("the last ramp bucket must be 1 (fully ramped)")
        if (self.hazard < 0).any() or (self.hazard >= 1).any():
            raise ValueError("monthly hazard must be in [0, 1)")
        if (self.spread < -1e-12).any() or (self.spread > self.ramp + 1e-12).any():
            raise ValueError("spread must lie in [0, ramp]")
        for name in ("initial", "starts", "scheduled", "productivity", "sigma"):
            if (getattr(self, name) < 0).any():
                raise ValueError(f"{name} must be non-negative")
        if self.backfill_delay is not None and self.backfill_delay < 0:
            raise ValueError("backfill delay must be >= 0")

    @property
    def groups(self) -> int:
        return self.ramp.shape[0]

    @property
    def months(self) -> int:
        return self.productivity.shape[1]


@dataclass(frozen=True)
class Path:
    """The expected model, month by month ([G, M] each)."""

    capacity: np.ndarray
    headcount: np.ndarray  # reps in seat during the month
    ramped_fte: np.ndarray  # sum of ramp factors of the reps in seat
    starts: np.ndarray  # hires starting, backfills included
    departures: np.ndarray


@dataclass(frozen=True)
class Draws:
    """Monte Carlo capacity and the random factors behind it (for common random numbers)."""

    capacity: np.ndarray  # [T, G, M]
    factor: np.ndarray  # [T, G] productivity factor F
    delta: np.ndarray  # [T, G] ramp-speed draw of each group (shared within a ramp group)


Depart = Callable[[int, np.ndarray], np.ndarray]  # (month, heads [B, G] at risk) -> departures [B, G]
Visit = Callable[[int, np.ndarray, np.ndarray, np.ndarray], None]  # (month, ramped, spread, heads), [B, G] each


def _evolve(
    team: Team,
    initial: np.ndarray,
    scheduled: np.ndarray,
    starts: np.ndarray,
    batch: int,
    depart: Depart,
    visit: Visit,
) -> np.ndarray:
    """Run the monthly recursion for `batch` independent copies; returns the starts [B, G, M].

    Departures thin every cohort of a group by the same factor, so a cohort's size is its
    start count times the group's survival product since it started. The loop keeps, per copy
    and group, the product P and each start normalised by P at its start (u_s = c_s / P_s):
    cohort s then holds P_m u_s reps in month m, and a month costs O(K) instead of a pass over
    every tenure bucket with a shift.
    """
    g, m_total, k = team.groups, team.months, team.ramp.shape[1]
    ramp, spread = team.ramp, team.spread
    age = np.minimum(np.arange(k)[:, None] + np.arange(m_total)[None, :], k - 1)  # [K, M]
    init_ramp = np.einsum("gk,gkm->gm", initial, ramp[:, age])
    init_spread = np.einsum("gk,gkm->gm", initial, spread[:, age])
    init_heads = initial.sum(axis=-1)
    sched_heads = scheduled.sum(axis=-1)
    sched_ramp = np.einsum("gmk,gk->gm", scheduled, ramp)
    sched_spread = np.einsum("gmk,gk->gm", scheduled, spread)

    survival = np.ones((batch, g))
    alive = np.ones((batch, g))  # 0 once a copy's group emptied: its initial reps are gone
    pool = np.zeros((batch, g))  # normalised starts old enough to be fully ramped
    # Month-major, so a month's slice is contiguous.
    u = np.zeros((m_total, batch, g))
    departed = np.zeros((m_total, batch, g))
    started = np.zeros((m_total, batch, g))
    for m in range(m_total):
        add = np.broadcast_to(starts[..., m], (batch, g)).astype(np.float64)
        if team.backfill_delay is not None and m - team.backfill_delay - 1 >= 0:
            add = add + departed[m - team.backfill_delay - 1]
        if team.freeze is not None and m >= team.freeze:
            add = np.zeros_like(add)
        started[m] = add
        u[m] = add / survival
        if m - (k - 1) >= 0:
            pool += u[m - (k - 1)]
        lo = max(0, m - (k - 2))
        window = u[lo : m + 1]
        ages = m - np.arange(lo, m + 1)
        in_ramp = np.einsum("sbg,gs->bg", window, ramp[:, ages]) if len(ages) else 0.0
        in_spread = np.einsum("sbg,gs->bg", window, spread[:, ages]) if len(ages) else 0.0
        at_risk = survival * (alive * init_heads + pool + window.sum(axis=0))
        visit(
            m,
            survival * (alive * init_ramp[:, m] + pool + in_ramp) + sched_ramp[:, m],
            survival * (alive * init_spread[:, m] + in_spread) + sched_spread[:, m],
            at_risk + sched_heads[:, m],
        )
        d = depart(m, at_risk)
        departed[m] = d
        keep = np.divide(at_risk - d, at_risk, out=np.ones_like(at_risk), where=at_risk > 1e-12)
        empty = keep <= 1e-12
        survival *= keep
        if empty.any():
            # Everyone left: restart the product so later starts can still be normalised.
            survival[empty], alive[empty], pool[empty] = 1.0, 0.0, 0.0
            u[:, empty] = 0.0
    return started.transpose(1, 2, 0)


def expected(team: Team) -> Path:
    """The expected model: departures are h x headcount, F = 1, delta = 0."""
    g, m = team.groups, team.months
    capacity, headcount, fte, departures = (np.zeros((g, m)) for _ in range(4))

    def visit(month: int, ramped: np.ndarray, spread: np.ndarray, heads: np.ndarray) -> None:
        headcount[:, month] = heads[0]
        fte[:, month] = ramped[0]
        capacity[:, month] = team.productivity[:, month] * ramped[0]

    def depart(month: int, at_risk: np.ndarray) -> np.ndarray:
        departures[:, month] = at_risk[0] * team.hazard
        return at_risk * team.hazard

    started = _evolve(team, team.initial, team.scheduled, team.starts[None], 1, depart, visit)
    return Path(capacity, headcount, fte, started[0], departures)


def factors(team: Team, trials: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(F [T, G], delta [T, G]): lognormal productivity factors with mean 1, ramp-speed draws."""
    g = team.groups
    market = team.market_sigma * rng.standard_normal((trials, 1))
    own = team.sigma[None, :] * rng.standard_normal((trials, g))
    factor = np.exp(market + own - (team.market_sigma**2 + team.sigma[None, :] ** 2) / 2)
    ramp_draws = rng.uniform(-1.0, 1.0, size=(trials, int(team.ramp_group.max()) + 1 if g else 0))
    return factor, ramp_draws[:, team.ramp_group]


CHUNKS = 2  # trials run in this many independent streams, on threads (numpy releases the GIL)


def simulate(team: Team, trials: int, seed: int) -> Draws:
    """Monte Carlo capacity [trials, G, M] (seeded; the same for any machine)."""
    from concurrent.futures import ThreadPoolExecutor

    sizes = [trials // CHUNKS + (1 if i < trials % CHUNKS else 0) for i in range(CHUNKS)]
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(CHUNKS)]
    with ThreadPoolExecutor(CHUNKS) as pool:
        parts = list(pool.map(lambda job: _simulate_chunk(team, *job), zip(sizes, streams, strict=True)))
    return Draws(*(np.concatenate(arrays) for arrays in zip(*parts, strict=True)))


def _simulate_chunk(team: Team, trials: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    factor, delta = factors(team, trials, rng)
    capacity = np.zeros((trials, team.groups, team.months))

    def visit(month: int, ramped: np.ndarray, spread: np.ndarray, heads: np.ndarray) -> None:
        capacity[:, :, month] = team.productivity[None, :, month] * factor * (ramped + delta * spread)

    def depart(month: int, at_risk: np.ndarray) -> np.ndarray:
        # Head counts stay whole numbers: starts are whole and departures are binomial draws.
        return rng.binomial(np.rint(at_risk).astype(np.int64), team.hazard[None, :]).astype(np.float64)

    _evolve(team, team.initial, team.scheduled, team.starts[None], trials, depart, visit)
    return capacity, factor, delta


@dataclass(frozen=True)
class HirePaths:
    """What one extra hire starting in month s adds, in expectation ([G, S=M, M] each)."""

    ramped: np.ndarray  # sum of ramp factors (x productivity[g, m] = expected capacity)
    spread: np.ndarray  # sum of ramp-speed spreads (x delta of a trial)
    headcount: np.ndarray


def hire_paths(team: Team) -> HirePaths:
    """Expected contribution of a single hire for every start month, backfills of it included."""
    g, m, k = team.groups, team.months, team.ramp.shape[1]
    starts = np.zeros((m, g, m))
    for s in range(m):
        starts[s, :, s] = 1.0
    ramped, spread, heads = np.zeros((m, g, m)), np.zeros((m, g, m)), np.zeros((m, g, m))

    def visit(month: int, r: np.ndarray, sp: np.ndarray, h: np.ndarray) -> None:
        ramped[:, :, month], spread[:, :, month], heads[:, :, month] = r, sp, h

    _evolve(team, np.zeros((g, k)), np.zeros((g, m, k)), starts, m, lambda month, n: n * team.hazard, visit)
    # [S, G, M] -> [G, S, M]
    return HirePaths(ramped.transpose(1, 0, 2), spread.transpose(1, 0, 2), heads.transpose(1, 0, 2))
