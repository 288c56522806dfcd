"""Vetted SQL for the KPI lookups. Dimensions come from fixed allow-lists, values are bound
parameters, and the caller's selection (scope and filters, tools/core/selection.py) is ANDed
into every query: nothing the model writes ever reaches SQL as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from tools.core.selection import Selection, Subject
from warehouse.connection import ReadCursor

# Breakdown dimension -> SQL expression, per source. `b` bookings, `o` opportunities (+ `a`
# accounts), `r` the rep the row belongs to.
BY_COLUMN: dict[str, dict[str, str]] = {
    "bookings": {"region": "b.region", "segment": "b.segment", "product": "b.product", "rep": "b.rep_id"},
    "opportunities": {"region": "a.region", "segment": "a.segment", "product": "o.product", "rep": "o.owner_rep_id"},
    "reps": {"region": "r.region", "segment": "r.segment", "rep": "r.rep_id"},
}
MANAGER = "r.manager_id"


@dataclass(frozen=True)
class Query:
    """A KPI lookup's rows: the selection, and the breakdown."""

    selection: Selection
    by: tuple[str, ...]

    def select(self, source: str) -> str:
        """The breakdown columns for `source`, each named after its dimension."""
        cols = [f"{MANAGER if d == 'manager' else BY_COLUMN[source][d]} AS {d}" for d in self.by]
        return ", ".join(cols) + ", " if cols else ""

    def where(self, subject: Subject, alias: str, account_alias: str | None = None) -> tuple[str, list[Any]]:
        return self.selection.where(subject, alias, account_alias)

    def group(self) -> str:
        return "GROUP BY ALL" if self.by else ""


def bookings(cur: ReadCursor, q: Query, start: date, stop: date) -> pd.DataFrame:
    where, params = q.where("bookings", "b")
    return cur.query_df(
        f"""SELECT {q.select("bookings")}sum(b.amount) AS value, count(*) AS deals
            FROM bookings b LEFT JOIN reps r ON r.rep_id = b.rep_id
            WHERE b.date >= ? AND b.date < ? AND {where} {q.group()}""",
        [start, stop, *params],
    )


def pipeline(cur: ReadCursor, q: Query, start: date, stop: date) -> pd.DataFrame:
    """Open deals closing in [start, stop): amount, stage-weighted amount, count."""
    where, params = q.where("opportunities", "o", "a")
    return cur.query_df(
        f"""SELECT {q.select("opportunities")}coalesce(sum(o.amount), 0) AS value,
                   coalesce(sum(o.amount * coalesce(s.default_probability, 0)), 0) AS weighted, count(o.opp_id) AS deals
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id LEFT JOIN stages s ON s.name = o.stage
            WHERE NOT o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where} {q.group()}""",
        [start, stop, *params],
    )


def closed(cur: ReadCursor, q: Query, start: date, stop: date) -> pd.DataFrame:
    """Deals closed in [start, stop): won/closed counts and amounts, won deal sizes and cycle days."""
    where, params = q.where("opportunities", "o", "a")
    return cur.query_df(
        f"""SELECT {q.select("opportunities")}count(*) FILTER (WHERE o.is_won) AS won, count(*) AS closed,
                   coalesce(sum(o.amount) FILTER (WHERE o.is_won), 0) AS won_amount,
                   coalesce(sum(o.amount), 0) AS closed_amount,
                   avg(o.amount) FILTER (WHERE o.is_won) AS avg_won_amount,
                   avg(date_diff('day', o.created_date, o.close_date)) FILTER (WHERE o.is_won) AS cycle_days
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
            WHERE o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where} {q.group()}""",
        [start, stop, *params],
    )


def rep_bookings_and_quotas(
    cur: ReadCursor, q: Query, start: date, stop: date, quota_periods: list[tuple[str, float]]
) -> pd.DataFrame:
    """Per AE with a quota overlapping the period: bookings in [start, stop) and pro-rated quota."""
    where, params = q.where("reps", "r")
    if not quota_periods:
        return pd.DataFrame(columns=["rep", "name", "region", "segment", "manager", "quota", "booked"])
    values = ", ".join("(?, ?)" for _ in quota_periods)
    weights = [v for pair in quota_periods for v in pair]
    return cur.query_df(
        f"""WITH w(period, weight) AS (VALUES {values}),
            quota AS (
                SELECT q.rep_id, sum(q.amount * w.weight) AS quota
                FROM quotas q JOIN w ON w.period = q.period GROUP BY 1),
            booked AS (
                SELECT b.rep_id, sum(b.amount) AS booked FROM bookings b
                WHERE b.date >= ? AND b.date < ? GROUP BY 1)
            SELECT r.rep_id AS rep, r.name, r.region, r.segment, r.manager_id AS manager,
                   quota.quota, coalesce(booked.booked, 0) AS booked
            FROM reps r JOIN quota ON quota.rep_id = r.rep_id LEFT JOIN booked ON booked.rep_id = r.rep_id
            WHERE r.role = 'AE' AND quota.quota > 0 AND {where} ORDER BY r.rep_id""",
        [*weights, start, stop, *params],
    )


def headcount(cur: ReadCursor, q: Query, on: date, reqs_before: date) -> pd.DataFrame:
    """AEs in seat on `on`, and open AE requisitions starting before `reqs_before` (requisitions
    belong to a region and segment: a team, a rep or a product selection has none)."""
    where, params = q.where("reps", "r")
    seated = cur.query_df(
        f"""SELECT {q.select("reps")}count(*) AS value FROM reps r
            WHERE r.role = 'AE' AND coalesce(r.hire_date, DATE '1900-01-01') <= ?
              AND (r.end_date IS NULL OR r.end_date > ?) AND {where} {q.group()}""",
        [on, on, *params],
    )
    if "manager" in q.by or "rep" in q.by:
        seated["open_requisitions"] = 0
        return seated
    h_where, h_params = q.where("headcount", "h")
    dims = ", ".join(f"h.{d} AS {d}" for d in q.by)
    reqs = cur.query_df(
        f"""SELECT {dims + ", " if dims else ""}count(*) AS open_requisitions FROM headcount_plan h
            WHERE h.status = 'open' AND h.role = 'AE' AND h.planned_start < ? AND {h_where} {q.group()}""",
        [reqs_before, *h_params],
    )
    if q.by:
        return seated.merge(reqs, on=list(q.by), how="outer").fillna({"value": 0, "open_requisitions": 0})
    seated["open_requisitions"] = int(reqs["open_requisitions"].iloc[0]) if len(reqs) else 0
    return seated
