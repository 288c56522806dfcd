"""The forecast's SQL: bookings history, targets, and opportunities as they stood on a date.

Every query applies the caller's scope and filters. Opportunities are reconstructed from
`opportunity_history` with an ASOF join, so a forecast "as of" a past date sees each deal's
stage, amount, close date, pushes and time in stage as they were then, never what came later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from tools.scope import Scope
from warehouse.connection import ReadCursor

# Bookings columns for each grouping dimension.
BOOKING_COLUMN = {"region": "region", "segment": "segment", "product": "product", "rep": "rep_id"}
# Opportunity columns (o = opportunities, a = accounts) for each dimension.
OPP_COLUMN = {
    "region": "a.region",
    "segment": "a.segment",
    "product": "o.product",
    "rep": "o.owner_rep_id",
}
NONE = "(none)"


@dataclass(frozen=True)
class Query:
    """Scope and filters, turned into SQL conditions per table."""

    scope: Scope
    filters: dict[str, list[str]]

    def bookings(self, alias: str = "b") -> tuple[str, list[Any]]:
        sql, params = self.scope.predicate("bookings", alias)
        parts, values = [sql], list(params)
        for dim, vals in self.filters.items():
            parts.append(f"{alias}.{BOOKING_COLUMN[dim]} IN ({', '.join('?' for _ in vals)})")
            values += vals
        return " AND ".join(parts), values

    def opportunities(self) -> tuple[str, list[Any]]:
        sql, params = self.scope.predicate("opportunities", "o", account_alias="a")
        parts, values = [sql], list(params)
        for dim, vals in self.filters.items():
            parts.append(f"{OPP_COLUMN[dim]} IN ({', '.join('?' for _ in vals)})")
            values += vals
        return " AND ".join(parts), values


def bookings(cur: ReadCursor, query: Query, dims: Sequence[str], before: date) -> pd.DataFrame:
    """Booked amounts before `before`, one row per booking, with the grouping columns and the
    creation date of the deal behind it (NULL for bookings imported without a deal)."""
    where, params = query.bookings()
    cols = ", ".join(f"coalesce(b.{BOOKING_COLUMN[d]}, '{NONE}') AS {d}" for d in dims)
    frame = cur.query_df(
        f"""
        SELECT b.date, b.amount, o.created_date AS opp_created{", " + cols if cols else ""}
        FROM bookings b LEFT JOIN opportunities o ON o.opp_id = b.opp_id
        WHERE b.date < ? AND {where}
        ORDER BY b.date, b.booking_id
        """,
        [before, *params],
    )
    for col in ("date", "opp_created"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def targets(cur: ReadCursor, query: Query, periods: list[str]) -> pd.DataFrame:
    """Target rows (period, region, segment, amount) of the given quarter names, in scope."""
    if not periods:
        return pd.DataFrame(columns=["period", "region", "segment", "amount"])
    sql, params = query.scope.predicate("targets", "t")
    marks = ", ".join("?" for _ in periods)
    return cur.query_df(
        f"SELECT period, region, segment, amount FROM targets t WHERE period IN ({marks}) AND {sql} "
        "ORDER BY period, region, segment",
        [*periods, *params],
    )


def quotas(cur: ReadCursor, query: Query, periods: list[str]) -> pd.DataFrame:
    """Quota rows (rep_id, period, amount) of the given period names, in scope."""
    if not periods:
        return pd.DataFrame(columns=["rep_id", "period", "amount"])
    sql, params = query.scope.predicate("quotas", "q")
    marks = ", ".join("?" for _ in periods)
    return cur.query_df(
        f"SELECT rep_id, period, amount FROM quotas q WHERE period IN ({marks}) AND {sql} ORDER BY rep_id, period",
        [*periods, *params],
    )


def stage_defaults(cur: ReadCursor) -> dict[str, float]:
    return dict(cur.execute("SELECT name, default_probability FROM stages").fetchall())


def has_history(cur: ReadCursor) -> bool:
    return bool(cur.scalar("SELECT count(*) > 0 FROM opportunity_history"))


_SNAPSHOT_SQL = """
WITH h AS (
    SELECT opp_id, seq, changed_date, stage, amount, close_date, forecast_category,
           coalesce(close_date > lag(close_date) OVER w, false) AS pushed,
           CASE WHEN stage IS DISTINCT FROM lag(stage) OVER w THEN changed_date END AS stage_start
    FROM opportunity_history WINDOW w AS (PARTITION BY opp_id ORDER BY seq)
), h2 AS (
    SELECT *, sum(pushed::INT) OVER w AS pushes, max(stage_start) OVER w AS in_stage_since
    FROM h WINDOW w AS (PARTITION BY opp_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
), live AS (
    SELECT s.d, o.opp_id, o.account_id, o.created_date, o.owner_rep_id, o.product, o.type, o.is_closed,
           o.is_won, o.close_date AS final_close, a.region, a.segment, r.hire_date
    FROM _snapshot_dates s
    JOIN opportunities o ON o.created_date <= s.d AND (NOT o.is_closed OR o.close_date > s.d)
    LEFT JOIN accounts a ON a.account_id = o.account_id
    LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
    WHERE {where} {sample}
)
SELECT l.d AS snapshot, l.opp_id, l.account_id, l.region, l.segment, l.product, l.type, l.owner_rep_id,
       h2.stage, h2.amount, h2.close_date, h2.forecast_category, h2.pushes AS push_count,
       date_diff('day', coalesce(h2.in_stage_since, l.created_date), l.d) AS days_in_stage,
       date_diff('day', l.created_date, l.d) AS deal_age,
       date_diff('day', l.d, h2.close_date) AS days_to_close,
       date_diff('day', l.hire_date, l.d) AS rep_tenure,
       l.is_closed AND l.final_close < ? AS labelled, l.is_won AS won, l.final_close
FROM live l
ASOF JOIN h2 ON h2.opp_id = l.opp_id AND h2.changed_date <= l.d
JOIN stages st ON st.name = h2.stage AND NOT st.is_closed
ORDER BY l.d, l.opp_id
"""

_CURRENT_SQL = """
SELECT ?::DATE AS snapshot, o.opp_id, o.account_id, a.region, a.segment, o.product, o.type, o.owner_rep_id,
       o.stage, o.amount, o.close_date, o.forecast_category, o.push_count,
       date_diff('day', coalesce(o.stage_changed_date, o.created_date), ?::DATE) AS days_in_stage,
       date_diff('day', o.created_date, ?::DATE) AS deal_age,
       date_diff('day', ?::DATE, o.close_date) AS days_to_close,
       date_diff('day', r.hire_date, ?::DATE) AS rep_tenure,
       false AS labelled, NULL::BOOLEAN AS won, NULL::DATE AS final_close
FROM opportunities o
LEFT JOIN accounts a ON a.account_id = o.account_id
LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
JOIN stages st ON st.name = o.stage AND NOT st.is_closed
WHERE NOT o.is_closed AND {where}
ORDER BY o.opp_id
"""


def snapshots(
    cur: ReadCursor,
    query: Query,
    dates: list[date],
    label_before: date,
    sample_every: int = 1,
    keep_all_on: date | None = None,
) -> pd.DataFrame:
    """Open deals as they stood on each date, with their outcome when it was known before
    `label_before`. `sample_every` > 1 keeps a deterministic 1-in-N sample of deals (each kept
    deal with all its snapshots), except on `keep_all_on`, where every deal is kept."""
    where, params = query.opportunities()
    sample = ""
    if sample_every > 1:
        keep = f"s.d = DATE '{keep_all_on.isoformat()}' OR " if keep_all_on is not None else ""
        sample = f"AND ({keep}hash(o.opp_id) % {int(sample_every)} = 0)"
    sql = _SNAPSHOT_SQL.format(where=where, sample=sample).replace("_snapshot_dates", "(SELECT unnest(?::DATE[]) AS d)")
    frame = cur.query_df(sql, [list(dates), *params, label_before])
    return _finish(frame)


def open_pipeline(cur: ReadCursor, query: Query, as_of: date, *, use_history: bool) -> pd.DataFrame:
    """Deals open on `as_of`: from history when the warehouse has it, else their current state."""
    if use_history:
        return snapshots(cur, query, [as_of], label_before=as_of)
    where, params = query.opportunities()
    frame = cur.query_df(_CURRENT_SQL.format(where=where), [as_of] * 5 + params)
    return _finish(frame)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("snapshot", "close_date", "final_close"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("region", "segment", "product", "type", "owner_rep_id", "forecast_category"):
        frame[col] = frame[col].fillna(NONE)
    frame["rep_tenure"] = frame["rep_tenure"].fillna(-1)
    return frame


def closed_deals(cur: ReadCursor, query: Query, since: date, before: date) -> pd.DataFrame:
    """Deals closed in [since, before), for win rates: group columns, amount, is_won."""
    where, params = query.opportunities()
    frame = cur.query_df(
        f"""
        SELECT a.region, a.segment, o.product, o.owner_rep_id, o.amount, o.is_won
        FROM opportunities o LEFT JOIN accounts a ON a.account_id = o.account_id
        WHERE o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where}
        ORDER BY o.opp_id
        """,
        [since, before, *params],
    )
    for col in ("region", "segment", "product", "owner_rep_id"):
        frame[col] = frame[col].fillna(NONE)
    return frame


def opportunity_count(cur: ReadCursor, query: Query) -> int:
    where, params = query.opportunities()
    return int(
        cur.scalar(
            f"SELECT count(*) FROM opportunities o LEFT JOIN accounts a ON a.account_id = o.account_id WHERE {where}",
            params,
        )
    )
