"""Fiscal calendar: naming, bounds and parsing for any fiscal-year start month."""

from __future__ import annotations

import itertools
from datetime import date

import pytest

from warehouse.calendar import FiscalCalendar, add_months
from warehouse.errors import InputError


@pytest.mark.parametrize(
    ("start", "day", "fy", "quarter", "month_number"),
    [
        (1, date(2026, 1, 1), 2026, 1, 1),
        (1, date(2026, 12, 31), 2026, 4, 12),
        (2, date(2026, 1, 31), 2026, 4, 12),  # last day of FY2026
        (2, date(2026, 2, 1), 2027, 1, 1),  # first day of FY2027
        (2, date(2026, 11, 29), 2027, 4, 10),
        (7, date(2026, 6, 30), 2026, 4, 12),
        (7, date(2026, 7, 1), 2027, 1, 1),
        (10, date(2026, 9, 30), 2026, 4, 12),
        (10, date(2026, 10, 1), 2027, 1, 1),
        (12, date(2026, 12, 1), 2027, 1, 1),
        (12, date(2027, 11, 30), 2027, 4, 12),
        (2, date(2024, 2, 29), 2025, 1, 1),  # leap day
    ],
)
def test_fiscal_year_and_quarter(start: int, day: date, fy: int, quarter: int, month_number: int) -> None:
    cal = FiscalCalendar(start)
    assert cal.fiscal_year_of(day) == fy
    q = cal.period_of(day, "quarter")
    assert q.name == f"FY{fy}-Q{quarter}"
    assert q.contains(day)
    assert cal.fiscal_month_number(day) == month_number


def test_february_start_names_year_by_its_end() -> None:
    cal = FiscalCalendar(2)
    fy = cal.year(2027)
    assert (fy.start, fy.last_day) == (date(2026, 2, 1), date(2027, 1, 31))
    assert [q.name for q in cal.children(fy, "quarter")] == [f"FY2027-Q{i}" for i in range(1, 5)]
    assert cal.quarter(2027, 4).start == date(2026, 11, 1)
    assert cal.quarter(2027, 4).last_day == date(2027, 1, 31)
    assert cal.half(2027, 2).start == date(2026, 8, 1)


@pytest.mark.parametrize("start", range(1, 13))
def test_periods_tile_the_year_without_gaps(start: int) -> None:
    cal = FiscalCalendar(start)
    fy = cal.year(2027)
    for grain in ("month", "quarter", "half"):
        parts = cal.children(fy, grain)
        assert parts[0].start == fy.start and parts[-1].end == fy.end
        assert all(a.end == b.start for a, b in itertools.pairwise(parts))
        assert [p.number for p in parts] == list(range(1, len(parts) + 1))
        assert all(p.fiscal_year == 2027 for p in parts)
    assert len(cal.children(fy, "month")) == 12


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("FY2027", "FY2027"),
        ("fy27", "FY2027"),
        ("FY2027-Q2", "FY2027-Q2"),
        ("FY27 Q2", "FY2027-Q2"),
        ("Q2 FY27", "FY2027-Q2"),
        ("q3-fy2027", "FY2027-Q3"),
        ("FY2027-H1", "FY2027-H1"),
        ("H2 FY27", "FY2027-H2"),
        ("2026-09", "2026-09"),
        ("2026-9", "2026-09"),
    ],
)
def test_parse_accepts_common_spellings(text: str, name: str) -> None:
    assert FiscalCalendar(2).parse(text).name == name


@pytest.mark.parametrize("text", ["FY2027-Q5", "2026-13", "Q2", "next quarter", "", "FY-2027"])
def test_parse_rejects_with_a_hint(text: str) -> None:
    with pytest.raises(InputError) as info:
        FiscalCalendar(2).parse(text)
    assert "FY2027-Q2" in (info.value.hint or "")


def test_shift_and_periods_cross_year_boundaries() -> None:
    cal = FiscalCalendar(2)
    q4 = cal.quarter(2027, 4)
    assert cal.shift(q4, 1).name == "FY2028-Q1"
    assert cal.shift(q4, -4).name == "FY2026-Q4"
    assert cal.shift(cal.month(2027, 1), 1).name == "2027-02"
    months = cal.periods(date(2026, 11, 15), date(2027, 2, 2), "month")
    assert [m.name for m in months] == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert cal.month(2027, 1).fiscal_year == 2027 and cal.month(2027, 2).fiscal_year == 2028


def test_invalid_start_month_and_grain() -> None:
    with pytest.raises(InputError):
        FiscalCalendar(13)
    with pytest.raises(InputError):
        FiscalCalendar(1).children(FiscalCalendar(1).quarter(2026, 1), "year")


def test_add_months_handles_negative_and_december() -> None:
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 1)
    assert add_months(date(2026, 1, 31), -1) == date(2025, 12, 1)
    assert add_months(date(2026, 3, 1), -27) == date(2023, 12, 1)
