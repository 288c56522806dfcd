"""The bookings decomposition: bookings = deals closed x win rate x average deal size, and the
gap between two windows split across those three drivers by LMDI (the log-mean Divisia index,
Ang 2004), whose contributions add up exactly to the gap in money.

For a product V = x1 * x2 * x3 going from V0 to V1, driver k contributes
    L(V1, V0) * ln(x1k / x0k),  with L(a, b) = (a - b) / (ln a - ln b) and L(a, a) = a,
and the contributions sum to L * ln(V1 / V0) = V1 - V0. Where a window booked nothing, the
logarithm is undefined; the contributions are then their limit as the first zero driver goes to
zero (Ang & Liu 2007): that driver carries the whole gap, the others none (a win rate with no
closed deals, or a deal size with no won deals, does not exist and explains nothing).

Pure: numbers in, dataclasses out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DRIVERS = ("deals_closed", "win_rate", "deal_size")


@dataclass(frozen=True)
class Deals:
    """What a window's closed deals add up to."""

    closed: int  # deals closed, won or lost, by close date
    won: int
    won_amount: float

    @property
    def bookings(self) -> float:
        return self.won_amount

    @property
    def win_rate(self) -> float | None:
        return self.won / self.closed if self.closed else None

    @property
    def deal_size(self) -> float | None:
        return self.won_amount / self.won if self.won else None

    def drivers(self) -> tuple[float | None, float | None, float | None]:
        """(deals closed, win rate, deal size): their product is the bookings."""
        return (float(self.closed), self.win_rate, self.deal_size)


@dataclass(frozen=True)
class Decomposition:
    reference: tuple[float | None, ...]
    actual: tuple[float | None, ...]
    contributions: tuple[float, ...]  # money, in DRIVERS order; they sum to `gap`
    gap: float  # actual bookings - reference bookings

    def contribution(self, driver: str) -> float:
        return self.contributions[DRIVERS.index(driver)]


def log_mean(a: float, b: float) -> float:
    """L(a, b) = (a - b) / (ln a - ln b), L(a, a) = a; a, b > 0."""
    if a <= 0 or b <= 0:
        raise ValueError("the logarithmic mean needs two positive numbers")
    if math.isclose(a, b, rel_tol=1e-12):
        return (a + b) / 2
    return (a - b) / (math.log(a) - math.log(b))


def lmdi(reference: tuple[float | None, ...], actual: tuple[float | None, ...]) -> tuple[float, ...]:
    """Additive LMDI contributions of each factor to prod(actual) - prod(reference).

    A factor is None where it does not exist (a win rate with nothing closed); a product with a
    zero or missing factor is zero, and the first such factor carries the change (see above)."""
    if len(reference) != len(actual):
        raise ValueError("reference and actual need the same factors")
    v0, v1 = _product(reference), _product(actual)
    if v0 > 0 and v1 > 0:
        x0 = [float(x) for x in reference if x is not None]
        x1 = [float(x) for x in actual if x is not None]
        logs = [math.log(a) - math.log(b) for a, b in zip(x1, x0, strict=True)]
        total = sum(logs)
        if total == 0.0:  # every factor moved to offset the others exactly (or none moved)
            return tuple(v0 * g for g in logs)
        weight = (v1 - v0) / total  # = L(v1, v0), computed so the terms add up to v1 - v0
        return tuple(weight * g for g in logs)
    out = [0.0] * len(actual)
    if v0 == v1 == 0.0:
        return tuple(out)
    vanished = actual if v1 == 0.0 else reference
    out[_first_zero(vanished)] = v1 - v0
    return tuple(out)


def decompose(reference: Deals, actual: Deals) -> Decomposition:
    """The gap in bookings between two windows, split across deals closed, win rate and deal size."""
    ref, act = reference.drivers(), actual.drivers()
    return Decomposition(ref, act, lmdi(ref, act), actual.bookings - reference.bookings)


def with_reference_driver(reference: Deals, actual: Deals, driver: str) -> float | None:
    """Bookings of the actual window had `driver` been at its reference value (None when either is missing)."""
    k = DRIVERS.index(driver)
    ref, act = reference.drivers(), actual.drivers()
    if ref[k] is None or act[k] is None:
        return None
    factors = list(act)
    factors[k] = ref[k]
    return _product(tuple(factors))


def _product(factors: tuple[float | None, ...]) -> float:
    out = 1.0
    for x in factors:
        if x is None or x <= 0:
            return 0.0
        out *= float(x)
    return out


def _first_zero(factors: tuple[float | None, ...]) -> int:
    return next(i for i, x in enumerate(factors) if x is None or x <= 0)
