"""Changing the warehouse's fiscal-year start: what it affects, and the change itself.

The calendar is one setting (`meta.fiscal_year_start_month`) that every tool, user and
interface reads, so changing it is a write like applying a scenario: described first, then
applied in one transaction by an approver. Stored period names (`FY2027-Q1` in targets and
quotas) are kept as they are and read under the new calendar; months keep their calendar
names. The description says how many stored rows carry fiscal period names, so the approver
knows what will be read differently.
"""

from __future__ import annotations

from calendar import month_name
from typing import Any

from warehouse.calendar import FiscalCalendar
from warehouse.errors import InputError

_FISCAL_NAMED = "period LIKE 'FY%'"


def current_start(cur: Any) -> int:
    row = cur.execute("SELECT value FROM meta WHERE key = 'fiscal_year_start_month'").fetchone()
    return int(row[0]) if row else 1


def describe_change(cur: Any, month: int) -> dict[str, Any]:
    """What setting the fiscal-year start to `month` would change."""
    FiscalCalendar(month)  # validates the month with a clear error
    now = current_start(cur)
    if month == now:
        raise InputError(
            f"The fiscal year already starts in {month_name[month]}.",
            "Nothing to change; `spm data summary` shows the calendar.",
        )
    rows = {
        t: int(cur.execute(f"SELECT count(*) FROM {t} WHERE {_FISCAL_NAMED}").fetchone()[0])
        for t in ("targets", "quotas")
    }
    named = ", ".join(f"{n:,} {t} rows" for t, n in rows.items() if n) or "no stored rows"
    return {
        "from_month": now,
        "to_month": month,
        "period_rows": rows,
        "summary": f"Change the fiscal-year start from {month_name[now]} to {month_name[month]} for every user and "
        f"tool; fiscal period names ({named}) will be read under the new calendar.",
    }


def set_fiscal_start(cur: Any, month: int) -> int:
    """Set the fiscal-year start to `month` inside the caller's transaction; returns the old start."""
    old = describe_change(cur, month)["from_month"]
    cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('fiscal_year_start_month', ?)", [str(month)])
    return old
