"""Ramp curves: the share of a fully ramped rep's bookings a rep makes in each month of tenure.

A curve lists month 1, month 2, ... and ends at 1.0 (fully ramped from then on): `[0, 0.25,
0.5, 0.75, 1]` is a rep who sells nothing in the first month and is fully productive from the
fifth. `--ramp-months N` is the linear curve `[0, 1/N, ..., (N-1)/N, 1]`. Pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from warehouse.errors import InputError

MAX_RAMP_MONTHS = 36


def linear(months: int) -> np.ndarray:
    """N months to ramp: month k (0-based) sells k/N, month N+1 onwards 100%."""
    if months < 0 or months > MAX_RAMP_MONTHS:
        raise InputError(
            f"Ramp of {months} months is outside 0-{MAX_RAMP_MONTHS}.", "Give --ramp-months between 0 and 36."
        )
    return np.append(np.arange(months) / months if months else np.zeros(0), 1.0)


def validate(curve: Sequence[float]) -> np.ndarray:
    """An explicit curve, checked: values in [0, 1] and the last one 100%."""
    values = np.asarray(list(curve), dtype=float)
    example = "Example: --ramp-curve 0,0.25,0.5,0.75,1"
    if values.size == 0:
        raise InputError("The ramp curve is empty.", example)
    if values.size > MAX_RAMP_MONTHS + 1:
        raise InputError(f"The ramp curve has {values.size} months; the most is {MAX_RAMP_MONTHS + 1}.", example)
    if not np.isfinite(values).all() or (values < 0).any() or (values > 1).any():
        raise InputError("Ramp curve values must be shares between 0 and 1 (100% = fully ramped).", example)
    if abs(values[-1] - 1.0) > 1e-9:
        raise InputError(
            f"The ramp curve ends at {values[-1]:.0%}; it must end at 100% (the fully ramped month).", example
        )
    values[-1] = 1.0
    return values


def parse(text: str) -> np.ndarray:
    """'0,25,50,75,100' (percent) or '0,0.25,0.5,0.75,1' (shares)."""
    try:
        values = [float(v.strip().rstrip("%")) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"Ramp curve {text!r} is not a list of numbers.", "Example: --ramp-curve 0,0.25,0.5,0.75,1"
        ) from None
    if values and (max(values) > 1 or "%" in text):
        values = [v / 100 for v in values]
    return validate(values)


def months_to_ramp(curve: np.ndarray) -> int:
    """Months before the rep is fully ramped (the index of the first 100% month)."""
    return int(len(curve) - 1)


def pad(curve: np.ndarray, buckets: int) -> np.ndarray:
    """The curve over `buckets` tenure buckets (fully ramped = 1 after its end)."""
    if len(curve) > buckets:
        raise ValueError("curve longer than the bucket count")
    return np.concatenate([curve, np.ones(buckets - len(curve))])


def at(curve: np.ndarray, tenure: np.ndarray) -> np.ndarray:
    """The curve at fractional tenure months (linear between months, 1 after the end)."""
    grid = np.arange(len(curve), dtype=float)
    return np.interp(tenure, grid, curve, right=1.0)


def speed_spread(curve: np.ndarray, speed: float) -> np.ndarray:
    """Half-width of the band between a ramp `speed` faster and `speed` slower, month by month.

    A faster rep at tenure k is where the expected rep is at k x (1 + speed); a slower one at
    k / (1 + speed). The band is made symmetric (the smaller side) so that a symmetric draw
    inside it keeps the expected curve as its mean; it never exceeds the curve itself.
    """
    k = np.arange(len(curve), dtype=float)
    fast = at(curve, k * (1 + speed))
    slow = at(curve, k / (1 + speed))
    half = np.minimum(fast - curve, curve - slow)
    return np.clip(half, 0.0, curve)
