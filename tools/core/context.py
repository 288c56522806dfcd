"""A run's planning context: the as-of date, the fiscal calendar and the warehouse's meta.

Read once per tool run from the open cursor, so every figure of a run uses the same "today"
and the same calendar. The as-of date is the one asked for, else the warehouse's own (the demo
company's generation date, or a snapshot's date), else today. It is a whole day, the same for
every tool: what was booked on it is booked (`booked_until` is the exclusive bound), deals
open at its end are the pipeline, and the period it falls in is the period in progress.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from warehouse.calendar import FiscalCalendar


def warehouse_as_of(meta: Mapping[str, str]) -> date:
    """The as-of date the warehouse states (meta `as_of`), else today."""
    return date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today()


@dataclass(frozen=True)
class PlanContext:
    as_of: date
    calendar: FiscalCalendar
    meta: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def booked_until(self) -> date:
        """Exclusive end of what is booked so far: the day after the as-of date."""
        return self.as_of + timedelta(days=1)

    @classmethod
    def read(cls, cur: Any, as_of: date | None = None) -> PlanContext:
        """The context of a run on `cur`; `as_of` overrides the warehouse's date."""
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        return cls.of(meta, as_of)

    @classmethod
    def of(cls, meta: Mapping[str, str], as_of: date | None = None) -> PlanContext:
        calendar = FiscalCalendar(int(meta.get("fiscal_year_start_month", "1")))
        return cls(as_of or warehouse_as_of(meta), calendar, MappingProxyType(dict(meta)))
