"""The fewest hires that close a group's gap at a confidence level, and where a given number of
hires goes. Pure numpy.

A hire starting in month s adds, in trial t, F_t x (a_s + delta_t x b_s) to the period's
capacity: a_s is its expected contribution (ramp x survival x seasonal productivity, its
backfills included), b_s the ramp-speed spread and F_t, delta_t the trial's productivity factor
and ramp-speed draw (common random numbers with the team's own Monte Carlo). Planned hires leave
at the expected rate rather than by draw: their count is small against the team's and keeping
them linear makes the plan's effect exact and monotone, which is what minimality rests on.

The gap is closed at confidence c when the (1 - c) quantile of capacity reaches the target
(P80: capacity reaches the target in 80% of trials). Start months are filled in order of
expected value (usually the earliest), at most `per_month` hires each; a binary search finds
the fewest, then a pruning pass drops any hire whose removal still leaves the gap closed, so
removing any remaining hire reopens it.

A given number of hires ("we got approval for 4") goes where the plan puts its most valuable
hires (`first_hires`), or all into one start month when that is given (`moved_to`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_HIRES = 10_000


def capacity_quantile(values: np.ndarray, confidence: float) -> float:
    """The capacity reached with probability `confidence`."""
    return float(np.quantile(values, 1.0 - confidence))


@dataclass(frozen=True)
class GroupPlan:
    hires: np.ndarray  # [S] hires by start month
    closed: bool  # the gap is closed at the confidence level
    capacity: float  # capacity at the confidence level with the plan
    base_capacity: float  # ... without it

    @property
    def total(self) -> int:
        return int(self.hires.sum())


def contribution(hires: np.ndarray, a: np.ndarray, b: np.ndarray, factor: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """Per-trial capacity the hires add: F x (sum x_s a_s + delta x sum x_s b_s)."""
    return factor * (float(hires @ a) + delta * float(hires @ b))


def close_gap(
    base: np.ndarray,
    factor: np.ndarray,
    delta: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    allowed: np.ndarray,
    target: float,
    confidence: float,
    per_month: int | None,
) -> GroupPlan:
    """The fewest hires over the `allowed` start months closing `target` at `confidence`.

    base, factor, delta: [T] the group's capacity without new hires and its trial draws.
    a, b: [S] what one hire starting in month s adds (see the module docstring).
    """
    months = np.flatnonzero(allowed & (a > 0))
    hires = np.zeros(len(a), dtype=np.int64)
    start = capacity_quantile(base, confidence)

    def met(x: np.ndarray) -> bool:
        return capacity_quantile(base + contribution(x, a, b, factor, delta), confidence) >= target

    if start >= target or not len(months):
        return GroupPlan(hires, start >= target, start, start)
    order = months[np.argsort(-a[months], kind="stable")]

    def first(j: int) -> np.ndarray:
        """The plan made of the j best slots."""
        x = np.zeros(len(a), dtype=np.int64)
        if per_month is None:
            x[order[0]] = j
            return x
        full, rest = divmod(j, per_month)
        x[order[:full]] = per_month
        if rest:
            x[order[full]] = rest
        return x

    slots = MAX_HIRES if per_month is None else per_month * len(order)
    hi = 1
    while hi < slots and not met(first(hi)):
        hi = min(hi * 2, slots)
    if not met(first(hi)):
        x = first(slots)
        return GroupPlan(x, False, capacity_quantile(base + contribution(x, a, b, factor, delta), confidence), start)
    lo = hi // 2  # met(first(lo)) is False (or lo == 0 and the base alone falls short)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if met(first(mid)) else (mid, hi)
    hires = first(hi)
    # Drop any hire whose removal keeps the gap closed (least valuable months first).
    changed = True
    while changed:
        changed = False
        for s in sorted(np.flatnonzero(hires), key=lambda s: a[s]):
            trial = hires.copy()
            trial[s] -= 1
            if met(trial):
                hires, changed = trial, True
                break
    return GroupPlan(hires, True, capacity_quantile(base + contribution(hires, a, b, factor, delta), confidence), start)


def last_useful(a: np.ndarray, allowed: np.ndarray, ramped_period: float, share: float) -> int | None:
    """The last allowed start month whose hire adds at least `share` of a ramped rep's period."""
    ok = np.flatnonzero(allowed & (a >= share * ramped_period))
    return int(ok.max()) if len(ok) else None


def first_hires(
    plan: np.ndarray,
    value: np.ndarray,
    allowed: np.ndarray,
    per_month: list[int | None],
    n: int,
) -> np.ndarray:
    """The `n` hires the optimiser would make first, as hires [G, S] by group and start month.

    plan: [G, S] the fewest-hires plan (`close_gap` per group); value: [G, S] expected period
    capacity one hire adds; allowed: [G, S] start months a hire may use; per_month: [G] the most
    hires a group can start in a month (None: no limit).

    The plan's own hires come first, most value per hire first: they are the ones that close
    gaps, so `n` equal to the plan's total is the plan itself and fewer are its most valuable
    part. Hires beyond the plan take the most valuable seats left (any allowed group and month,
    within the monthly limit). Ties keep group and month order, so the choice is deterministic
    and the first k of n hires are always the k asked on their own (capacity then rises with
    n in every trial). Fewer than `n` come back when the seats run out; the caller says so.
    """
    groups, months = value.shape
    seats: list[tuple[int, float, int, int, int]] = []  # (tier, -value, group, month, hires)
    for g in range(groups):
        limit = per_month[g]
        cap = n if limit is None else int(limit)
        for s in range(months):
            planned = int(plan[g, s])
            if planned:
                seats.append((0, -float(value[g, s]), g, s, planned))
            if allowed[g, s] and cap - planned > 0:
                seats.append((1, -float(value[g, s]), g, s, cap - planned))
    out = np.zeros((groups, months), dtype=np.int64)
    left = n
    for _, _, g, s, count in sorted(seats):
        if left <= 0:
            break
        take = min(count, left)
        out[g, s] += take
        left -= take
    return out


def moved_to(plan: np.ndarray, start: int, per_month: list[int | None]) -> np.ndarray:
    """The plan [G, S] with each group's hires all starting in month `start` (at most its monthly
    limit): where the optimiser wants people when the start month is given."""
    out = np.zeros_like(plan)
    totals = plan.sum(axis=1)
    out[:, start] = [
        t if limit is None else min(int(t), int(limit)) for t, limit in zip(totals, per_month, strict=True)
    ]
    return out
