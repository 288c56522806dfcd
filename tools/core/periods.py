"""Planning periods from words: one parser for every tool and for the offline planner.

Understood, with the fiscal calendar and the run's as-of date:
* names: `FY2027`, `FY27`, `FY2027-Q2`, `Q2 FY27`, `FY2027-H1`, `H2 FY28`, `2026-09`, `Sep 2026`;
  a quarter or half without a year (`Q3`, `H2`) is this fiscal year's;
* relative: this / next / last quarter, month, half or (fiscal) year; the first, front, second
  or back half (of this, next or last year);
* spans: year / quarter / month to date (`YTD`, `QTD`, `MTD`), the trailing N months or
  quarters (`trailing 12 months`, `TTM`, `last 6 months`).

`parse_period` reads a whole argument ("next quarter") and names every accepted form when it
cannot; `find_periods` finds every period mentioned in a sentence, in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from warehouse.calendar import FiscalCalendar, Period, add_months
from warehouse.errors import InputError

FORMS = (
    "FY2027 (a fiscal year), FY2027-H1 (half), FY2027-Q2 (quarter), 2026-09 (month), "
    "this/next/last quarter|half|year, the back half, YTD, QTD, trailing 12 months"
)
MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "nine": 9, "twelve": 12, "eighteen": 18}
_FISCAL_YEAR = r"(?:fy|fiscal(?: year)?)\s?'?(\d{4}|\d{2})(?!\d)"
_COUNT = r"(\d{1,2}|" + "|".join(NUMBER_WORDS) + r")"


@dataclass
class Found:
    """Periods named in a text, in order of appearance."""

    periods: list[Period] = field(default_factory=list)
    bare: set[str] = field(default_factory=set)  # quarter/half names read without a year ("Q3")
    quarters_ahead: int | None = None  # "the next 4 quarters"


def _year(text: str) -> int:
    value = int(text)
    return 2000 + value if value < 100 else value


def _count(text: str) -> int:
    return NUMBER_WORDS.get(text, 0) or int(text)


def _day_after(d: date) -> date:
    return d + timedelta(days=1)


def trailing(calendar: FiscalCalendar, as_of: date, months: int) -> Period:
    """The `months` months up to and including the as-of day."""
    end = _day_after(as_of)
    first = add_months(end, -months)
    start = first.replace(day=min(end.day, _month_length(first)))
    return calendar.span(f"trailing {months} months to {as_of.isoformat()}", start, end)


def _month_length(d: date) -> int:
    return (add_months(d, 1) - d.replace(day=1)).days


def _relative(calendar: FiscalCalendar, as_of: date) -> list[tuple[str, Callable[[re.Match[str]], Period]]]:
    """(pattern, period) for every relative expression, most specific first."""
    fy = calendar.fiscal_year_of(as_of)
    quarter = calendar.period_of(as_of, "quarter")
    month = calendar.period_of(as_of, "month")
    half = calendar.period_of(as_of, "half")
    step = {"next": 1, "the next": 1, "this": 0, "current": 0, "last": -1, "previous": -1, "prior": -1}

    def unit(word: str, offset: int) -> Period:
        if word == "quarter":
            return calendar.shift(quarter, offset)
        if word == "month":
            return calendar.shift(month, offset)
        if word == "half":
            return calendar.shift(half, offset)
        return calendar.year(fy + offset)

    def half_of(m: re.Match[str]) -> Period:
        n = 1 if m[1] in ("first", "front") else 2
        if m[2]:
            return calendar.half(fy + step[m[2]], n)
        this = calendar.half(fy, n)
        return this if this.end > as_of or n == 1 else calendar.half(fy + 1, n)

    def to_date(m: re.Match[str]) -> Period:
        word = m[0].lower()
        if word.startswith(("q", "quarter")):
            start, name = quarter.start, f"{quarter.name} to date"
        elif word.startswith(("m", "month")):
            start, name = month.start, f"{month.name} to date"
        else:
            start, name = calendar.year(fy).start, f"FY{fy} to date"
        return calendar.span(name, start, _day_after(as_of))

    def trailing_of(m: re.Match[str]) -> Period:
        if m[1] is None:  # TTM, LTM, T12M
            return trailing(calendar, as_of, 12)
        n = _count(m[1])
        months = n * 3 if m[2].startswith("quarter") else n
        if not 1 <= months <= 60:
            raise InputError(f"The trailing {m[0]} is outside 1-60 months.", "Ask for the trailing 12 months, say.")
        return trailing(calendar, as_of, months)

    return [
        (r"\b(first|second|front|back) half\b(?:\s+of\s+(next|this|last|the next)\s+(?:fiscal\s+)?year)?", half_of),
        (r"\b(?:f?ytd|(?:fiscal )?year[- ]to[- ]date|qtd|quarter[- ]to[- ]date|mtd|month[- ]to[- ]date)\b", to_date),
        (
            rf"\b(?:trailing|last|past|previous|prior)\s+{_COUNT}\s+(months?|quarters?)\b|\b(?:ttm|ltm|t12m|l12m)\b",
            trailing_of,
        ),
        (
            r"\b(this|current|next|last|previous|prior) (?:fiscal )?(quarter|month|half|year)\b",
            lambda m: unit(m[2], step[m[1]]),
        ),
    ]


def find_periods(text: str, calendar: FiscalCalendar, as_of: date) -> Found:
    """Every period `text` names, in order (each once)."""
    low = text.lower()
    found: list[tuple[int, Period]] = []
    claimed: list[tuple[int, int]] = []
    bare: set[str] = set()
    fy_now = calendar.fiscal_year_of(as_of)

    def free(span: tuple[int, int]) -> bool:
        return not any(a < span[1] and span[0] < b for a, b in claimed)

    for pattern, make in _relative(calendar, as_of):
        for m in re.finditer(pattern, low):
            if free(m.span()):
                found.append((m.start(), make(m)))
                claimed.append(m.span())
    for m in re.finditer(rf"\b(q[1-4]|h[12])\b[\s,-]*(?:of\s+)?(?:{_FISCAL_YEAR})?", low):
        if not free(m.span()):
            continue
        kind, number = m[1][0], int(m[1][1])
        fy = _year(m[2]) if m[2] else fy_now
        period = calendar.quarter(fy, number) if kind == "q" else calendar.half(fy, number)
        if not m[2]:
            bare.add(period.name)
        found.append((m.start(), period))
        claimed.append(m.span())
    for m in re.finditer(rf"\b{_FISCAL_YEAR}\b[\s,-]*(q[1-4]|h[12])?", low):
        if not free(m.span()):
            continue
        fy = _year(m[1])
        if m[2]:
            n = int(m[2][1])
            found.append((m.start(), calendar.quarter(fy, n) if m[2][0] == "q" else calendar.half(fy, n)))
        else:
            found.append((m.start(), calendar.year(fy)))
        claimed.append(m.span())
    for m in re.finditer(r"\b(20\d{2})-(0[1-9]|1[0-2])\b(?!-\d)", low):
        found.append((m.start(), calendar.month(int(m[1]), int(m[2]))))
    for m in re.finditer(r"\b(" + "|".join(MONTHS) + r")\s+(20\d{2})\b", low):
        found.append((m.start(), calendar.month(int(m[2]), MONTHS[m[1]])))
    halves = [p for _, p in found if p.grain == "half"]
    if halves:  # "the first half of next year" names a half, not the year around it
        found = [
            (i, p)
            for i, p in found
            if not (p.grain == "year" and any(h.start >= p.start and h.end <= p.end for h in halves))
        ]
    found.sort(key=lambda item: item[0])
    unique: list[Period] = []
    for _, p in found:
        if p not in unique:
            unique.append(p)
    ahead = re.search(rf"\bnext\s+{_COUNT}\s+quarters?\b", low)
    return Found(unique, bare, _count(ahead[1]) if ahead else None)


_FILLER = re.compile(r"^(?:for|in|during|over)?\s*(?:the\s+)?|[\s.?!]+$")


_NAMED_SPAN = (
    re.compile(r"^(?P<period>.+?) to date$"),  # "FY2027 to date": the names spans are given
    re.compile(r"^trailing (?P<months>\d{1,2}) months to (?P<day>\d{4}-\d{2}-\d{2})$"),
)


def _named_span(phrase: str, calendar: FiscalCalendar, as_of: date) -> Period | None:
    """A span by the name this module gives it, so a span passed on by name reads back the same."""
    m = _NAMED_SPAN[0].match(phrase)
    if m:
        try:
            inner = calendar.parse(m["period"])
        except InputError:
            return None
        return calendar.span(f"{inner.name} to date", inner.start, min(_day_after(as_of), inner.end))
    m = _NAMED_SPAN[1].match(phrase)
    if m:
        return trailing(calendar, date.fromisoformat(m["day"]), int(m["months"]))
    return None


def parse_period(text: str, calendar: FiscalCalendar, as_of: date) -> Period:
    """The one period `text` names ("FY2028-Q1", "next quarter", "YTD"), or an error listing the forms."""
    raw = text.strip()
    try:
        return calendar.parse(raw)
    except InputError:
        pass
    phrase = _FILLER.sub("", raw.lower()).strip()
    named = _named_span(phrase.replace("fy", "FY"), calendar, as_of)
    if named is not None:
        return named
    for pattern, make in _relative(calendar, as_of):
        m = re.fullmatch(pattern, phrase)
        if m:
            return make(m)
    found = find_periods(phrase, calendar, as_of)
    if len(found.periods) == 1 and re.fullmatch(r"[\w\s'/-]+", phrase) and len(phrase) <= 24:
        return found.periods[0]
    raise InputError(f"{text!r} is not a period I know.", f"Use {FORMS}.")


def require(period: Period, allowed: Iterable[str], what: str) -> Period:
    """`period` if its grain is one `what` is planned in, else an error naming the grains."""
    grains = tuple(allowed)
    if period.grain in grains:
        return period
    shown = {"year": "fiscal years", "half": "halves", "quarter": "quarters", "month": "months", "span": "date ranges"}
    kind = "a date range" if period.grain == "span" else f"a {period.grain}"
    raise InputError(
        f"{period.name} is {kind}; {what} is planned for {', '.join(shown[g] for g in grains)}.",
        "For example FY2028, FY2028-H1 or FY2028-Q1.",
    )
