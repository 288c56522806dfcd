"""The two date windows a variance compares: the period asked (up to the as-of day when it is in
progress) and its reference (the same period a fiscal year earlier, or the previous period of the
same grain), cut to the same number of days when the period is still running, so a period in
progress is compared like for like. Pure: dates and the fiscal calendar in, dataclasses out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from warehouse.calendar import FiscalCalendar, Period
from warehouse.errors import InputError

# Steps of its own grain that take a period back one fiscal year.
_YEAR_BACK = {"month": 12, "quarter": 4, "half": 2, "year": 1}


@dataclass(frozen=True)
class Window:
    """[start, stop): the days whose deals a figure counts."""

    start: date
    stop: date

    @property
    def days(self) -> int:
        return (self.stop - self.start).days

    @property
    def last_day(self) -> date:
        return self.stop - timedelta(days=1)

    def describe(self) -> str:
        return f"{self.start.isoformat()} to {self.last_day.isoformat()}"


@dataclass(frozen=True)
class Comparison:
    """What is compared with what: `actual` (the period asked) and `baseline` (the window the
    drivers are compared with: last year's for `plan`, which has no driver plan)."""

    against: str
    period: Period
    actual: Window
    baseline_period: Period
    baseline: Window
    as_of: date

    @property
    def period_days(self) -> int:
        return (self.period.end - self.period.start).days

    @property
    def elapsed_days(self) -> int:
        return self.actual.days

    @property
    def in_progress(self) -> bool:
        return self.actual.stop < self.period.end

    @property
    def elapsed_share(self) -> float:
        return self.elapsed_days / self.period_days


def fiscal_period(period: Period, calendar: FiscalCalendar, as_of: date) -> Period:
    """`period` as a fiscal period: a "to date" span (YTD, QTD, MTD) is its period in progress,
    which is compared like for like anyway; other date ranges are refused."""
    if period.grain != "span":
        return period
    for grain in ("month", "quarter", "half", "year"):
        whole = calendar.period_of(period.start, grain)
        if whole.start == period.start and period.end == min(as_of + timedelta(days=1), whole.end):
            return whole
    raise InputError(
        f"{period.name} is a date range, not a fiscal period; a variance is explained for a fiscal period.",
        "Ask for a month, quarter, half or fiscal year (FY2027-Q3, FY2027); one in progress is compared "
        "like for like with the same days of its reference.",
    )


def reference_period(calendar: FiscalCalendar, period: Period, against: str) -> Period:
    """The same period a fiscal year earlier (last_year, plan's drivers) or the previous one (last_period)."""
    if against == "last_period":
        return calendar.shift(period, -1)
    return calendar.shift(period, -_YEAR_BACK[period.grain])


def compare(calendar: FiscalCalendar, period: Period, as_of: date, against: str) -> Comparison:
    """The windows of `period` (through `as_of` when in progress) and of its reference."""
    if period.start > as_of:
        raise InputError(
            f"{period.name} has not started yet (today is {as_of.isoformat()}), so it has no bookings to explain.",
            "Ask about the current or a past period, or forecast the future one (spm forecast).",
        )
    actual = Window(period.start, min(period.end, as_of + timedelta(days=1)))
    ref = reference_period(calendar, period, against)
    if actual.stop < period.end:  # in progress: the same number of days into the reference
        baseline = Window(ref.start, min(ref.end, ref.start + timedelta(days=actual.days)))
    else:
        baseline = Window(ref.start, ref.end)
    return Comparison(against, period, actual, ref, baseline, as_of)
