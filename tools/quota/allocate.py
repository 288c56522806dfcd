"""Allocating a target to reps: shares by method, capacity for ramping reps, floors and caps,
rounding that keeps the total exact.

A rep's weight is its basis (trailing territory bookings, territory potential, a blend of the
two, or 1 for equal) times its capacity, the average share of a fully ramped rep it can be over
the period (new hires and open requisitions ramp up from their start date). Quotas are
proportional to the weights, clipped to per-rep floors and caps by water-filling (one scale
`lambda` with quota = clip(lambda * weight, floor, cap) that spends the total exactly), then
rounded to a unit. Rounding floors every quota to the unit and hands the remaining units out
by largest fractional part (ties by rep id), and any amount below one unit to the largest
quota (ties by rep id), so the quotas always add up to the total to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.errors import InputError

METHODS = ("historical", "potential", "blended", "equal")


@dataclass(frozen=True)
class AllocationInput:
    rep_ids: list[str]
    history: np.ndarray  # trailing territory bookings per rep
    potential: np.ndarray  # territory potential per rep
    capacity: np.ndarray  # 0-1: ramp and time in seat over the period


def basis(data: AllocationInput, method: str, weights: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    """Share of each rep before capacity: the method's view of what the territory can do."""
    n = len(data.rep_ids)
    if method == "equal":
        return np.full(n, 1.0 / n)
    hist = _share(data.history, "trailing bookings")
    pot = _share(data.potential, "potential")
    if method == "historical":
        return hist
    if method == "potential":
        return pot
    if method == "blended":
        w_h, w_p = weights
        if min(w_h, w_p) < 0 or not np.isclose(w_h + w_p, 1.0):
            raise InputError(
                f"Blend weights must be non-negative and sum to 1, got {w_h:g},{w_p:g}.",
                "Example: --weights 0.6,0.4 (history, potential).",
            )
        return w_h * hist + w_p * pot
    raise InputError(f"Unknown allocation method {method!r}.", f"Use one of: {', '.join(METHODS)}.")


def _share(values: np.ndarray, what: str) -> np.ndarray:
    values = np.clip(np.asarray(values, dtype=float), 0, None)
    total = values.sum()
    if total <= 0:
        raise InputError(
            f"No rep in the selection has any {what}, so it cannot be the basis of the allocation.",
            "Use --method equal or potential, or import the missing data.",
        )
    return values / total


def water_fill(weights: np.ndarray, total: float, floors: np.ndarray, caps: np.ndarray) -> np.ndarray:
    """q = clip(lambda * w, floor, cap) with sum(q) == total, for the lambda that achieves it."""
    if floors.sum() > total + 1e-6:
        raise InputError(
            f"The floors add up to {floors.sum():,.0f}, more than the {total:,.0f} to allocate.",
            "Lower --floor or raise the target.",
        )
    if caps.sum() < total - 1e-6:
        raise InputError(
            f"The caps add up to {caps.sum():,.0f}, less than the {total:,.0f} to allocate.",
            "Raise --cap, lower the target or the over-assignment.",
        )
    if weights.sum() <= 0:
        return floors + (total - floors.sum()) * (caps - floors) / max((caps - floors).sum(), 1e-12)
    lo, hi = 0.0, 1.0
    while np.clip(hi * weights, floors, caps).sum() < total:
        hi *= 2
        if hi > 1e30:
            break
    for _ in range(200):  # bisection: the sum is monotone in lambda
        mid = (lo + hi) / 2
        if np.clip(mid * weights, floors, caps).sum() < total:
            lo = mid
        else:
            hi = mid
    q = np.clip(hi * weights, floors, caps)
    free = (q > floors + 1e-9) & (q < caps - 1e-9)
    residual = total - q.sum()  # tiny bisection residue, spread over the unclipped reps
    if free.any():
        q[free] += residual * weights[free] / weights[free].sum()
    return q


def round_exact(quotas: np.ndarray, rep_ids: list[str], unit: float, total: float) -> np.ndarray:
    """Quotas rounded to `unit` that still add up to `total` exactly."""
    if unit <= 0:
        return quotas * (total / quotas.sum()) if quotas.sum() else quotas
    units = np.floor(quotas / unit + 1e-9)
    frac = quotas / unit - units
    out = units * unit
    extra = int(np.floor((total - out.sum()) / unit + 1e-9))
    order = sorted(range(len(rep_ids)), key=lambda i: (-frac[i], rep_ids[i]))
    for i in order[: max(extra, 0)]:
        out[i] += unit
    leftover = round(total - out.sum(), 6)
    if leftover:
        largest = min(range(len(rep_ids)), key=lambda i: (-out[i], rep_ids[i]))
        out[largest] += leftover
    return out


def allocate(
    data: AllocationInput,
    *,
    total: float,
    method: str,
    weights: tuple[float, float] = (0.5, 0.5),
    floor: float | None = None,
    cap: float | None = None,
    unit: float = 1_000.0,
) -> np.ndarray:
    """Quotas per rep adding up to `total` (target x (1 + over-assignment)) exactly.

    `floor` and `cap` are amounts for a fully ramped rep, scaled by each rep's capacity.
    """
    if total < 0:
        raise InputError(f"The amount to allocate is negative ({total:,.0f}).", "Give a positive target.")
    if not data.rep_ids:
        raise InputError("There are no reps to allocate the target to.", "Widen the filters or hire reps.")
    capacity = np.clip(np.asarray(data.capacity, dtype=float), 0, 1)
    if capacity.sum() <= 0:
        raise InputError("No rep in the selection is in seat during the period.", "Choose a later period.")
    w = basis(data, method, weights) * capacity
    floors = np.zeros(len(w)) if floor is None else floor * capacity
    caps = np.full(len(w), np.inf) if cap is None else np.maximum(cap * capacity, floors)
    if floor is not None and cap is not None and floor > cap:
        raise InputError(f"--floor {floor:,.0f} is above --cap {cap:,.0f}.")
    return round_exact(water_fill(w, total, floors, caps), data.rep_ids, unit, total)
