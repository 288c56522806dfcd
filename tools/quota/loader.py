"""The quota tool's SQL: reps and open requisitions in seat during the period, their
territories' accounts and bookings, history for volatility and attrition, targets, comp plans,
stored quotas and bookings so far. Every query applies the caller's scope and filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from tools.scope import Scope
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import ReadCursor


@dataclass(frozen=True)
class Selection:
    scope: Scope
    filters: dict[str, list[str]]

    def reps(self, alias: str = "r") -> tuple[str, list[Any]]:
        sql, params = self.scope.predicate("reps", alias)
        parts, values = [sql], list(params)
        for dim, vals in self.filters.items():
            marks = ", ".join("?" for _ in vals)
            if dim == "manager":
                parts.append(f"({alias}.manager_id IN ({marks}) OR {alias}.rep_id IN ({marks}))")
                values += vals + vals
            else:
                parts.append(f"{alias}.{dim} IN ({marks})")
                values += vals
        return " AND ".join(parts), values

    def accounts(self, alias: str = "a") -> tuple[str, list[Any]]:
        sql, params = self.scope.predicate("accounts", alias)
        parts, values = [sql], list(params)
        for dim, vals in self.filters.items():
            if dim in ("region", "segment"):
                parts.append(f"{alias}.{dim} IN ({', '.join('?' for _ in vals)})")
                values += vals
        return " AND ".join(parts), values

    def bookings(self, alias: str = "b") -> tuple[str, list[Any]]:
        sql, params = self.scope.predicate("bookings", alias)
        parts, values = [sql], list(params)
        for dim, vals in self.filters.items():
            marks = ", ".join("?" for _ in vals)
            if dim in ("region", "segment"):
                parts.append(f"{alias}.{dim} IN ({marks})")
                values += vals
            else:
                parts.append(
                    f"{alias}.rep_id IN (SELECT rep_id FROM reps WHERE manager_id IN ({marks}) OR rep_id IN ({marks}))"
                )
                values += vals + vals
        return " AND ".join(parts), values


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_datetime(frame[col])
    return frame


def reps_in_seat(cur: ReadCursor, sel: Selection, period: Period, as_of: date) -> pd.DataFrame:
    """AEs employed during the period and not gone by the as-of date."""
    where, params = sel.reps()
    frame = cur.query_df(
        f"""
        SELECT r.rep_id, r.name, r.region, r.segment, r.manager_id, r.territory_id, r.hire_date, r.end_date,
               r.ote, r.ramp_months, 'rep' AS kind
        FROM reps r
        WHERE r.role = 'AE' AND coalesce(r.hire_date, DATE '1900-01-01') < ?
          AND (r.end_date IS NULL OR (r.end_date > ? AND r.end_date > ?)) AND {where}
        ORDER BY r.rep_id
        """,
        [period.end, period.start, as_of, *params],
    )
    return _dates(frame, "hire_date", "end_date")


def open_requisitions(cur: ReadCursor, sel: Selection, period: Period) -> pd.DataFrame:
    """Open AE requisitions starting before the period ends (future hires ramp from then)."""
    if "manager" in sel.filters or sel.scope.kind in ("team", "own"):
        return pd.DataFrame(
            columns=[
                "rep_id",
                "name",
                "region",
                "segment",
                "manager_id",
                "territory_id",
                "hire_date",
                "end_date",
                "ote",
                "ramp_months",
                "kind",
            ]
        )
    sql, params = sel.scope.predicate("headcount", "h")
    parts, values = [sql], list(params)
    for dim, vals in sel.filters.items():
        parts.append(f"h.{dim} IN ({', '.join('?' for _ in vals)})")
        values += vals
    frame = cur.query_df(
        f"""
        SELECT h.req_id AS rep_id, 'Open requisition ' || h.req_id AS name, h.region, h.segment,
               NULL AS manager_id, h.territory_id, h.planned_start AS hire_date, NULL::DATE AS end_date,
               h.ote, NULL::INTEGER AS ramp_months, 'req' AS kind
        FROM headcount_plan h
        WHERE h.status = 'open' AND h.role = 'AE' AND h.planned_start < ? AND {" AND ".join(parts)}
        ORDER BY h.req_id
        """,
        [period.end, *values],
    )
    return _dates(frame, "hire_date", "end_date")


def accounts(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    where, params = sel.accounts()
    return cur.query_df(
        f"""SELECT a.account_id, a.owner_rep_id, a.territory_id, a.region, a.segment,
                   coalesce(a.potential, 0) AS potential
            FROM accounts a WHERE {where} ORDER BY a.account_id""",
        params,
    )


def account_bookings(cur: ReadCursor, sel: Selection, since: date, before: date) -> pd.DataFrame:
    """Bookings per account in [since, before), for territory run-rates."""
    where, params = sel.bookings()
    return cur.query_df(
        f"""SELECT b.account_id, b.segment, sum(b.amount) AS amount, count(*) AS deals
            FROM bookings b WHERE b.date >= ? AND b.date < ? AND b.account_id IS NOT NULL AND {where}
            GROUP BY ALL ORDER BY 1, 2""",
        [since, before, *params],
    )


def quarterly_bookings(
    cur: ReadCursor, sel: Selection, calendar: FiscalCalendar, quarters: list[Period]
) -> pd.DataFrame:
    """Bookings per rep (with segment) and fiscal quarter, for volatility."""
    if not quarters:
        return pd.DataFrame(columns=["rep_id", "segment", "quarter", "amount"])
    where, params = sel.bookings()
    frame = cur.query_df(
        f"""SELECT b.rep_id, b.segment, b.date, b.amount FROM bookings b
            WHERE b.date >= ? AND b.date < ? AND {where} ORDER BY b.date, b.booking_id""",
        [quarters[0].start, quarters[-1].end, *params],
    )
    starts = pd.to_datetime(pd.Series([q.start for q in quarters]))
    idx = starts.searchsorted(pd.to_datetime(frame["date"]), side="right") - 1
    frame["quarter"] = [quarters[i].name for i in idx]
    return frame.groupby(["rep_id", "segment", "quarter"], dropna=False)["amount"].sum().reset_index()


def ae_history(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    """Every AE ever employed in the selection: for the attrition rate."""
    where, params = sel.reps()
    return _dates(
        cur.query_df(f"SELECT r.hire_date, r.end_date FROM reps r WHERE r.role = 'AE' AND {where}", params),
        "hire_date",
        "end_date",
    )


def targets(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    sql, params = sel.scope.predicate("targets", "t")
    return cur.query_df(f"SELECT period, region, segment, amount FROM targets t WHERE {sql} ORDER BY 1, 2, 3", params)


def comp_plans(cur: ReadCursor) -> pd.DataFrame:
    return cur.query_df("SELECT * FROM comp_plans ORDER BY plan_id")


def stored_quotas(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    sql, params = sel.scope.predicate("quotas", "q")
    return cur.query_df(f"SELECT rep_id, period, amount FROM quotas q WHERE {sql} ORDER BY rep_id, period", params)


def booked_in_period(cur: ReadCursor, sel: Selection, period: Period, as_of: date) -> pd.DataFrame:
    where, params = sel.bookings()
    return cur.query_df(
        f"""SELECT b.rep_id, sum(b.amount) AS amount FROM bookings b
            WHERE b.date >= ? AND b.date < ? AND {where} GROUP BY 1 ORDER BY 1""",
        [period.start, min(as_of, period.end), *params],
    )


def trailing_window(as_of: date, days: int = 365) -> tuple[date, date]:
    return as_of - timedelta(days=days), as_of
