"""Single days from words, for questions about change over time ("since last Monday").

Understood, with the run's as-of date and the fiscal calendar: an ISO date (`2026-11-23`),
`today`, `yesterday`, a weekday (`Monday`, `last Monday`: the latest one before today),
`N days|weeks|months ago`, `last week` / `a week ago` (seven days back), `last month` (a month
back), and the start of the fiscal period in progress (`quarter start`, `start of the month`,
`beginning of the year`, `QTD`). A phrase outside these is an error naming them.
"""

from __future__ import annotations

import calendar as gregorian
import re
from datetime import date, timedelta

from warehouse.calendar import FiscalCalendar, add_months
from warehouse.errors import InputError

DAY_FORMS = (
    "2026-11-23, today, yesterday, Monday / last Monday, 3 days ago, 2 weeks ago, last week, last month, "
    "quarter start, start of the month, start of the year"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7}
_NUMBERS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_GRAINS = {"quarter": "quarter", "month": "month", "year": "year", "fiscal year": "year", "half": "half"}


def parse_day(text: str, as_of: date, calendar: FiscalCalendar) -> date:
    """The day `text` names, relative to `as_of` (today)."""
    phrase = re.sub(r"\s+", " ", text.strip().lower()).removeprefix("since ").removeprefix("on ").strip()
    phrase = re.sub(r"^the ", "", phrase)
    try:
        return date.fromisoformat(phrase)
    except ValueError:
        pass
    if phrase == "today":
        return as_of
    if phrase == "yesterday":
        return as_of - timedelta(days=1)
    if phrase in ("last week", "a week ago", "this week", "past week", "the past week"):
        return as_of - timedelta(days=7)
    if phrase in ("last month", "a month ago", "past month"):
        return _months_back(as_of, 1)
    m = re.fullmatch(r"(?:last |this past |past )?(" + "|".join(WEEKDAYS) + r")", phrase)
    if m:
        back = (as_of.weekday() - WEEKDAYS.index(m[1])) % 7 or 7  # the latest one before today
        return as_of - timedelta(days=back)
    m = re.fullmatch(r"(\d{1,3}|" + "|".join(_NUMBERS) + r") (days?|weeks?|months?) ago", phrase)
    if m:
        n = int(m[1]) if m[1].isdigit() else _NUMBERS[m[1]]
        if m[2].startswith("month"):
            return _months_back(as_of, n)
        return as_of - timedelta(days=n * _UNITS[m[2]])
    m = re.fullmatch(
        r"(?:(?:start|beginning) of (?:the |this )?(quarter|month|year|fiscal year|half)"
        r"|(quarter|month|year|half)[- ]start|(q|m|y)td)",
        phrase,
    )
    if m:
        grain = _GRAINS.get(m[1] or m[2] or "", {"q": "quarter", "m": "month", "y": "year"}.get(m[3] or ""))
        # The period starts on its first day; the pipeline "at the start" is the one at the end
        # of the day before, so a deal created on day one counts as new.
        return calendar.period_of(as_of, grain).start - timedelta(days=1)  # type: ignore[arg-type]
    raise InputError(f"{text!r} is not a day I know.", f"Use {DAY_FORMS}.")


def _months_back(d: date, n: int) -> date:
    """The same day of the month `n` months earlier (the month's last day when it is shorter)."""
    first = add_months(d.replace(day=1), -n)
    return first.replace(day=min(d.day, gregorian.monthrange(first.year, first.month)[1]))
