"""Vetted SQL for the KPI lookups. Dimensions and metrics come from fixed allow-lists, values
are bound parameters, and the caller's scope is ANDed into every query: nothing the model
writes ever reaches SQL as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from tools.scope import Scope
from warehouse.connection import ReadCursor

# Dimension -> SQL expression, per source. `b` bookings, `o` opportunities (+ `a` accounts),
# `r` the rep the row belongs to.
BOOKING_DIMS = {"region": "b.region", "segment": "b.segment", "product": "b.product", "rep": "b.rep_id"}
OPP_DIMS = {"region": "a.region", "segment": "a.segment", "product": "o.product", "rep": "o.owner_rep_id"}
REP_DIMS = {"region": "r.region", "segment": "r.segment", "rep": "r.rep_id"}
MANAGER = "r.manager_id"


@dataclass(frozen=True)
class Query:
    scope: Scope
    filters: dict[str, list[str]]
    by: list[str]

    def _where(self, dims: dict[str, str], rep: str) -> tuple[str, list[Any]]:
        parts, values = [], []
        for dim, vals in self.filters.items():
            marks = ", ".join("?" for _ in vals)
            if dim == "manager":
                parts.append(f"({MANAGER} IN ({marks}) OR {rep} IN ({marks}))")
                values += vals + vals
            elif dim in dims:
                parts.append(f"{dims[dim]} IN ({marks})")
                values += vals
            else:
                parts.append("FALSE")  # e.g. a product filter on headcount: nothing matches
        return " AND ".join(parts) or "TRUE", values

    def _select(self, dims: dict[str, str]) -> str:
        cols = [f"{MANAGER if d == 'manager' else dims[d]} AS {d}" for d in self.by]
        return ", ".join(cols) + ", " if cols else ""

    def bookings(self) -> tuple[str, str, list[Any]]:
        scope_sql, scope_params = self.scope.predicate("bookings", "b")
        where, params = self._where(BOOKING_DIMS, "b.rep_id")
        return self._select(BOOKING_DIMS), f"{scope_sql} AND {where}", [*scope_params, *params]

    def opportunities(self) -> tuple[str, str, list[Any]]:
        scope_sql, scope_params = self.scope.predicate("opportunities", "o", "a")
        where, params = self._where(OPP_DIMS, "o.owner_rep_id")
        return self._select(OPP_DIMS), f"{scope_sql} AND {where}", [*scope_params, *params]

    def reps(self) -> tuple[str, str, list[Any]]:
        scope_sql, scope_params = self.scope.predicate("reps", "r")
        where, params = self._where(REP_DIMS, "r.rep_id")
        return self._select(REP_DIMS), f"{scope_sql} AND {where}", [*scope_params, *params]


def _group(q: Query) -> str:
    return "GROUP BY ALL" if q.by else ""


def bookings(cur: ReadCursor, q: Query, start: date, stop: date) -> pd.DataFrame:
    cols, where, params = q.bookings()
    return cur.query_df(
        f"""SELECT {cols}sum(b.amount) AS value, count(*) AS deals
            FROM bookings b LEFT JOIN reps r ON r.rep_id = b.rep_id
            WHERE b.date >= ? AND b.date < ? AND {where} {_group(q)}""",
        [start, stop, *params],
    )


def pipeline(cur: ReadCursor, q: Query, start: date, stop: date) -> pd.DataFrame:
    """Open deals closing in [start, stop): amount, stage-weighted amount, count."""
    cols, where, params = q.opportunities()
    return cur.query_df(
        f"""SELECT {cols}coalesce(sum(o.amount), 0) AS value,
                   coalesce(sum(o.amount * coalesce(s.default_probability, 0)), 0) AS weighted, count(o.opp_id) AS deals
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id LEFT JOIN stages s ON s.name = o.stage
            WHERE NOT o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where} {_group(q)}""",
        [start, stop, *params],
    )


def closed(cur: ReadCursor, q: Query, start: date, stop: date) -> pd.DataFrame:
    """Deals closed in [start, stop): won/closed counts and amounts, won deal sizes and cycle days."""
    cols, where, params = q.opportunities()
    return cur.query_df(
        f"""SELECT {cols}count(*) FILTER (WHERE o.is_won) AS won, count(*) AS closed,
                   coalesce(sum(o.amount) FILTER (WHERE o.is_won), 0) AS won_amount,
                   coalesce(sum(o.amount), 0) AS closed_amount,
                   avg(o.amount) FILTER (WHERE o.is_won) AS avg_won_amount,
                   avg(date_diff('day', o.created_date, o.close_date)) FILTER (WHERE o.is_won) AS cycle_days
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
            WHERE o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where} {_group(q)}""",
        [start, stop, *params],
    )


def rep_bookings_and_quotas(
    cur: ReadCursor, q: Query, start: date, stop: date, quota_periods: list[tuple[str, float]]
) -> pd.DataFrame:
    """Per AE with a quota overlapping the period: bookings in [start, stop) and pro-rated quota."""
    _, where, params = q.reps()
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
    """AEs in seat on `on`, and open AE requisitions starting before `reqs_before`."""
    cols, where, params = q.reps()
    seated = cur.query_df(
        f"""SELECT {cols}count(*) AS value FROM reps r
            WHERE r.role = 'AE' AND coalesce(r.hire_date, DATE '1900-01-01') <= ?
              AND (r.end_date IS NULL OR r.end_date > ?) AND {where} {_group(q)}""",
        [on, on, *params],
    )
    if q.scope.kind in ("team", "own") or "rep" in q.filters or "manager" in q.filters or "manager" in q.by:
        seated["open_requisitions"] = 0
        return seated
    scope_sql, scope_params = q.scope.predicate("headcount", "h")
    parts, values = [scope_sql], list(scope_params)
    for dim in ("region", "segment"):
        if dim in q.filters:
            parts.append(f"h.{dim} IN ({', '.join('?' for _ in q.filters[dim])})")
            values += q.filters[dim]
    if "product" in q.filters:
        parts.append("FALSE")
    dims = ", ".join(f"h.{d} AS {d}" for d in q.by)
    reqs = cur.query_df(
        f"""SELECT {dims + ", " if dims else ""}count(*) AS open_requisitions FROM headcount_plan h
            WHERE h.status = 'open' AND h.role = 'AE' AND h.planned_start < ? AND {" AND ".join(parts)}
            {"GROUP BY ALL" if q.by else ""}""",
        [reqs_before, *values],
    )
    if q.by:
        return seated.merge(reqs, on=q.by, how="outer").fillna({"value": 0, "open_requisitions": 0})
    seated["open_requisitions"] = int(reqs["open_requisitions"].iloc[0]) if len(reqs) else 0
    return seated
