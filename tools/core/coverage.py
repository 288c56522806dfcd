"""Pipeline coverage, the coverage a slice needs, the pipeline still to build and the gap.

One computation for every tool that quotes them (the forecast's rows and advice, the metrics
tool's coverage KPI and its advice), so "build $X more pipeline" has one value:

* pipeline: open deals whose close date falls in the period;
* remaining: the period's target minus what is already booked in it (never below zero);
* coverage: pipeline / remaining;
* required coverage: 1 / the slice's value win rate over the last 12 months (deals closed by
  amount; at least `MIN_CLOSED` deals), else `DEFAULT_REQUIRED` (the rule-of-thumb 3x);
* to build: required x remaining - pipeline, when positive;
* gap: target - the forecast's P50.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_CLOSED = 10
DEFAULT_REQUIRED = 3.0
WIN_RATE_MONTHS = 12


def required_coverage(win_rate: float | None) -> float:
    return 1.0 / float(win_rate) if win_rate else DEFAULT_REQUIRED


def value_win_rate(won_amount: float, closed_amount: float, closed_deals: int) -> float | None:
    """Won / closed by amount, or None on too few deals to say."""
    if closed_deals < MIN_CLOSED or closed_amount <= 0:
        return None
    return float(won_amount) / float(closed_amount)


@dataclass(frozen=True)
class Coverage:
    pipeline: float
    remaining: float | None  # target left to book; None without a target
    win_rate: float | None

    @property
    def coverage(self) -> float | None:
        return None if not self.remaining else self.pipeline / self.remaining

    @property
    def required(self) -> float:
        return required_coverage(self.win_rate)

    @property
    def to_build(self) -> float | None:
        """Pipeline to add for the required coverage (0 when covered), None without a target."""
        if self.remaining is None:
            return None
        return max(self.required * self.remaining - self.pipeline, 0.0)


def coverage(pipeline: float, target: float | None, booked: float, win_rate: float | None) -> Coverage:
    remaining = None if target is None else max(target - booked, 0.0)
    return Coverage(float(pipeline), remaining, win_rate)


def gap(target: float | None, p50: float) -> float | None:
    return None if target is None else target - p50
