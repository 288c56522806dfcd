"""Fiscal calendar: names and bounds of fiscal years, halves, quarters and months.

A fiscal year is named by the calendar year in which it ends: with a February start, FY2027
runs from 1 February 2026 to 31 January 2027. Months keep their calendar names (`2026-09`);
years, halves and quarters carry the fiscal year (`FY2027`, `FY2027-H2`, `FY2027-Q3`).
Every period is a half-open date interval [start, end), so periods tile time without gaps.
A span (year to date, the trailing 12 months) is a period too, with its own start and end and
grain `span`: it can be read and pro-rated like the others but not shifted or split.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from warehouse.errors import InputError

Grain = Literal["month", "quarter", "half", "year"]
GRAINS: tuple[Grain, ...] = ("month", "quarter", "half", "year")
PeriodGrain = Literal["month", "quarter", "half", "year", "span"]
_MONTHS_PER: dict[Grain, int] = {"month": 1, "quarter": 3, "half": 6, "year": 12}


def add_months(d: date, months: int) -> date:
    """First day of the month `months` after the month of `d` (day is dropped on purpose)."""
    total = d.year * 12 + (d.month - 1) + months
    return date(total // 12, total % 12 + 1, 1)


def month_index(d: date) -> int:
    """Months since year 0: a monotone integer for month arithmetic."""
    return d.year * 12 + d.month - 1


@dataclass(frozen=True)
class Period:
    """A named fiscal period: [start, end) with its grain and position in the fiscal year."""

    name: str
    grain: PeriodGrain
    start: date
    end: date
    fiscal_year: int
    # 1-based position in the fiscal year (quarter 1-4, half 1-2, month 1-12); 0 for a year
    number: int

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)

    @property
    def months(self) -> int:
        return month_index(self.end) - month_index(self.start)

    def contains(self, d: date) -> bool:
        return self.start <= d < self.end

    def __lt__(self, other: Period) -> bool:
        return (self.start, self.end) < (other.start, other.end)

    def __str__(self) -> str:
        return self.name


_YEAR = r"(?:FY)?\s*'?(?P<year>\d{4}|\d{2})"
_PATTERNS: tuple[tuple[Grain, re.Pattern[str]], ...] = (
    ("month", re.compile(r"^(?P<cy>\d{4})-(?P<m>\d{1,2})$")),
    ("year", re.compile(r"^FY\s*'?(?P<year>\d{4}|\d{2})$")),
    ("quarter", re.compile(rf"^{_YEAR}\s*[-/ ]?\s*Q(?P<n>[1-4])$")),
    ("quarter", re.compile(rf"^Q(?P<n>[1-4])\s*[-/ ]?\s*{_YEAR}$")),
    ("half", re.compile(rf"^{_YEAR}\s*[-/ ]?\s*H(?P<n>[12])$")),
    ("half", re.compile(rf"^H(?P<n>[12])\s*[-/ ]?\s*{_YEAR}$")),
)


class FiscalCalendar:
    """Maps dates to fiscal periods for a fiscal year starting on the first of `start_month`."""

    def __init__(self, start_month: int = 1) -> None:
        if not 1 <= start_month <= 12:
            raise InputError(
                f"Fiscal-year start month must be 1-12, got {start_month}.",
                "Use 1 for January, 2 for February, and so on.",
            )
        self.start_month = start_month

    def __repr__(self) -> str:
        return f"FiscalCalendar(start_month={self.start_month})"

    def fiscal_year_of(self, d: date) -> int:
        if self.start_month == 1:
            return d.year
        return d.year + 1 if d.month >= self.start_month else d.year

    def year_start(self, fiscal_year: int) -> date:
        if self.start_month == 1:
            return date(fiscal_year, 1, 1)
        return date(fiscal_year - 1, self.start_month, 1)

    def fiscal_month_number(self, d: date) -> int:
        """1 for the first month of the fiscal year, 12 for the last."""
        return (d.month - self.start_month) % 12 + 1

    # --- constructors -------------------------------------------------------------------

    def year(self, fiscal_year: int) -> Period:
        start = self.year_start(fiscal_year)
        return Period(f"FY{fiscal_year}", "year", start, add_months(start, 12), fiscal_year, 0)

    def half(self, fiscal_year: int, number: int) -> Period:
        start = add_months(self.year_start(fiscal_year), 6 * (number - 1))
        return Period(f"FY{fiscal_year}-H{number}", "half", start, add_months(start, 6), fiscal_year, number)

    def quarter(self, fiscal_year: int, number: int) -> Period:
        start = add_months(self.year_start(fiscal_year), 3 * (number - 1))
        return Period(
            f"FY{fiscal_year}-Q{number}",
            "quarter",
            start,
            add_months(start, 3),
            fiscal_year,
            number,
        )

    def month(self, year: int, month: int) -> Period:
        start = date(year, month, 1)
        return Period(
            f"{year:04d}-{month:02d}",
            "month",
            start,
            add_months(start, 1),
            self.fiscal_year_of(start),
            self.fiscal_month_number(start),
        )

    def span(self, name: str, start: date, end: date) -> Period:
        """A named date range [start, end) that is not one fiscal period (year to date, ...)."""
        if end <= start:
            raise InputError(f"{name} is empty: it ends ({end}) where it starts ({start}).")
        return Period(name, "span", start, end, self.fiscal_year_of(start), 0)

    def period_of(self, d: date, grain: Grain) -> Period:
        """The period of `grain` that contains `d`."""
        fy = self.fiscal_year_of(d)
        n = self.fiscal_month_number(d)
        if grain == "month":
            return self.month(d.year, d.month)
        if grain == "quarter":
            return self.quarter(fy, (n - 1) // 3 + 1)
        if grain == "half":
            return self.half(fy, (n - 1) // 6 + 1)
        if grain == "year":
            return self.year(fy)
        raise InputError(f"Unknown grain {grain!r}.", f"Use one of: {', '.join(GRAINS)}.")

    # --- navigation ---------------------------------------------------------------------

    def shift(self, period: Period, n: int) -> Period:
        """The period `n` steps after (n > 0) or before (n < 0) `period`, same grain."""
        if period.grain == "span":
            raise InputError(f"{period.name} is a date range, not a fiscal period: it has no next or previous one.")
        return self.period_of(add_months(period.start, n * _MONTHS_PER[period.grain]), period.grain)

    def periods(self, start: date, end: date, grain: Grain) -> list[Period]:
        """Periods of `grain` overlapping [start, end), in order."""
        if end <= start:
            return []
        out = [self.period_of(start, grain)]
        while out[-1].end < end:
            out.append(self.shift(out[-1], 1))
        return out

    def children(self, period: Period, grain: Grain) -> list[Period]:
        """The sub-periods of `grain` that tile `period` (the months of a quarter, ...)."""
        if period.grain == "span":
            raise InputError(f"{period.name} is a date range, not a fiscal period: it does not split into {grain}s.")
        if _MONTHS_PER[grain] > _MONTHS_PER[period.grain]:
            raise InputError(f"A {grain} does not fit inside the {period.grain} {period.name}.")
        return self.periods(period.start, period.end, grain)

    # --- parsing ------------------------------------------------------------------------

    def parse(self, text: str) -> Period:
        """Parse a period name: `FY2027`, `FY27`, `FY2027-Q2`, `Q2 FY27`, `FY2027-H1`, `2026-09`."""
        raw = text.strip().upper().replace("_", "-")
        for grain, pattern in _PATTERNS:
            m = pattern.match(raw)
            if not m:
                continue
            if grain == "month":
                month = int(m["m"])
                if not 1 <= month <= 12:
                    break
                return self.month(int(m["cy"]), month)
            year = int(m["year"])
            fiscal_year = year + 2000 if year < 100 else year
            if grain == "year":
                return self.year(fiscal_year)
            if grain == "quarter":
                return self.quarter(fiscal_year, int(m["n"]))
            return self.half(fiscal_year, int(m["n"]))
        raise InputError(
            f"{text!r} is not a fiscal period name.",
            "Use FY2027 (year), FY2027-H1 (half), FY2027-Q2 (quarter) or 2026-09 (month).",
        )
