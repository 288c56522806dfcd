"""The forecast's SQL: bookings history, opportunities as they stood on a date, reps.

Every query applies the caller's selection except the product filter: a product is a slice
of its region x segment cells, which are forecast whole (see tools/forecast/cells.py), so the
cells are read whole and the slice is taken after. Opportunities are reconstructed from
`opportunity_history` with an ASOF join, so a forecast "as of" a past date sees each deal's
stage, amount, close date, pushes and time in stage as they were then, never what came later.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from tools.core.selection import Selection
from warehouse.connection import ReadCursor

NONE = "(none)"
CELL_COLUMNS = ("region", "segment")


def _cells(sel: Selection) -> Selection:
    return sel.without("product")


def bookings(cur: ReadCursor, sel: Selection, before: date) -> pd.DataFrame:
    """Booked amounts before `before`, one row per booking, with region, segment, product and rep
    and the creation date of the deal behind it (NULL for bookings imported without a deal)."""
    where, params = _cells(sel).where("bookings", "b")
    frame = cur.query_df(
        f"""
        SELECT b.date, b.amount, o.created_date AS opp_created,
               coalesce(b.region, '{NONE}') AS region, coalesce(b.segment, '{NONE}') AS segment,
               coalesce(b.product, '{NONE}') AS product, coalesce(b.rep_id, '{NONE}') AS rep
        FROM bookings b LEFT JOIN opportunities o ON o.opp_id = b.opp_id
        WHERE b.date < ? AND {where}
        ORDER BY b.date, b.booking_id
        """,
        [before, *params],
    )
    for col in ("date", "opp_created"):
        frame[col] = pd.to_datetime(frame[col])
    return frame


def reps(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    """Every rep the selection's bookings or deals may name: id, name, end date, home cell."""
    where, params = _cells(sel).without("region", "segment").where("reps", "r")
    frame = cur.query_df(
        f"SELECT r.rep_id, r.name, r.role, r.region, r.segment, r.end_date FROM reps r WHERE {where} ORDER BY r.rep_id",
        params,
    )
    frame["end_date"] = pd.to_datetime(frame["end_date"])
    return frame


def stage_defaults(cur: ReadCursor) -> dict[str, float]:
    return dict(cur.execute("SELECT name, default_probability FROM stages").fetchall())


def has_history(cur: ReadCursor) -> bool:
    return bool(cur.scalar("SELECT count(*) > 0 FROM opportunity_history"))


def opportunity_counts(cur: ReadCursor, sel: Selection) -> dict[tuple[str, str], int]:
    """Opportunities per region x segment cell of the selection."""
    where, params = _cells(sel).where("opportunities", "o", "a")
    rows = cur.execute(
        f"""SELECT coalesce(a.region, '{NONE}'), coalesce(a.segment, '{NONE}'), count(*)
            FROM opportunities o LEFT JOIN accounts a ON a.account_id = o.account_id
            WHERE {where} GROUP BY ALL""",
        params,
    ).fetchall()
    return {(str(r), str(s)): int(n) for r, s, n in rows}


_SNAPSHOT_SQL = """
WITH every AS (
    SELECT * FROM (VALUES {every}) AS t(region, segment, n)
), kept AS (
    -- The deals the snapshots can show (the 1-in-N sample of each cell, and every deal open on
    -- the keep date), so the history windows below run over their changes only.
    SELECT o.opp_id, o.account_id, o.created_date, o.owner_rep_id, o.product, o.type, o.is_closed,
           o.is_won, o.close_date AS final_close, a.region, a.segment, r.hire_date,
           hash(o.opp_id) % coalesce(e.n, 1) = 0 AS sampled
    FROM opportunities o
    LEFT JOIN accounts a ON a.account_id = o.account_id
    LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
    LEFT JOIN every e ON e.region = coalesce(a.region, '{none}') AND e.segment = coalesce(a.segment, '{none}')
    WHERE {where} AND (hash(o.opp_id) % coalesce(e.n, 1) = 0 {keep_open})
), h AS (
    SELECT opp_id, seq, changed_date, stage, amount, close_date, forecast_category,
           coalesce(close_date > lag(close_date) OVER w, false) AS pushed,
           CASE WHEN stage IS DISTINCT FROM lag(stage) OVER w THEN changed_date END AS stage_start
    FROM opportunity_history WHERE opp_id IN (SELECT opp_id FROM kept)
    WINDOW w AS (PARTITION BY opp_id ORDER BY seq)
), h2 AS (
    SELECT *, sum(pushed::INT) OVER w AS pushes, max(stage_start) OVER w AS in_stage_since
    FROM h WINDOW w AS (PARTITION BY opp_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
), h3 AS (
    -- The last change of each day: several changes on one date would make the ASOF join's pick
    -- (and so the deal's stage and amount) depend on the query plan.
    SELECT * FROM h2 QUALIFY row_number() OVER (PARTITION BY opp_id, changed_date ORDER BY seq DESC) = 1
), live AS (
    SELECT s.d, k.*
    FROM (SELECT unnest(?::DATE[]) AS d) s
    JOIN kept k ON k.created_date <= s.d AND (NOT k.is_closed OR k.final_close > s.d)
    WHERE {keep} k.sampled
)
SELECT l.d AS snapshot, l.opp_id, l.account_id, l.region, l.segment, l.product, l.type, l.owner_rep_id,
       h2.stage, h2.amount, h2.close_date, h2.forecast_category, h2.pushes AS push_count,
       date_diff('day', coalesce(h2.in_stage_since, l.created_date), l.d) AS days_in_stage,
       date_diff('day', l.created_date, l.d) AS deal_age,
       date_diff('day', l.d, h2.close_date) AS days_to_close,
       date_diff('day', l.hire_date, l.d) AS rep_tenure,
       l.is_closed AND l.final_close < ? AS labelled, l.is_won AS won, l.final_close
FROM live l
ASOF JOIN h3 h2 ON h2.opp_id = l.opp_id AND h2.changed_date <= l.d
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
    sel: Selection,
    dates: list[date],
    label_before: date,
    sample_every: dict[tuple[str, str], int] | None = None,
    keep_all_on: date | None = None,
) -> pd.DataFrame:
    """Open deals as they stood on each date, with their outcome when it was known before
    `label_before`. `sample_every[(region, segment)]` > 1 keeps a deterministic 1-in-N sample
    of that cell's deals (each kept deal with all its snapshots), except on `keep_all_on`,
    where every deal is kept."""
    where, params = _cells(sel).where("opportunities", "o", "a")
    every = [(r, s, int(n)) for (r, s), n in (sample_every or {}).items() if n > 1] or [(NONE, NONE, 1)]
    values = ", ".join("(?, ?, ?)" for _ in every)
    keep = f"s.d = DATE '{keep_all_on.isoformat()}' OR" if keep_all_on is not None else ""
    keep_open = (
        f"OR (o.created_date <= DATE '{keep_all_on.isoformat()}' "
        f"AND (NOT o.is_closed OR o.close_date > DATE '{keep_all_on.isoformat()}'))"
        if keep_all_on is not None
        else ""
    )
    sql = _SNAPSHOT_SQL.format(every=values, none=NONE, where=where, keep=keep, keep_open=keep_open)
    frame = cur.query_df(sql, [v for row in every for v in row] + [*params, list(dates), label_before])
    return _finish(frame)


def open_pipeline(cur: ReadCursor, sel: Selection, as_of: date) -> pd.DataFrame:
    """Deals open now, in their current state (for warehouses without opportunity history)."""
    where, params = _cells(sel).where("opportunities", "o", "a")
    frame = cur.query_df(_CURRENT_SQL.format(where=where), [as_of] * 5 + params)
    return _finish(frame)


def _finish(frame: pd.DataFrame) -> pd.DataFrame:
    for col in ("snapshot", "close_date", "final_close"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("region", "segment", "product", "type", "owner_rep_id", "forecast_category"):
        frame[col] = frame[col].fillna(NONE)
    frame["rep"] = frame["owner_rep_id"]
    frame["rep_tenure"] = frame["rep_tenure"].fillna(-1)
    return frame


def closed_deals(cur: ReadCursor, sel: Selection, since: date, before: date) -> pd.DataFrame:
    """Deals closed in [since, before), for win rates: cell, product, rep, amount, is_won."""
    where, params = _cells(sel).where("opportunities", "o", "a")
    frame = cur.query_df(
        f"""
        SELECT a.region, a.segment, o.product, o.owner_rep_id AS rep, o.amount, o.is_won
        FROM opportunities o LEFT JOIN accounts a ON a.account_id = o.account_id
        WHERE o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where}
        ORDER BY o.opp_id
        """,
        [since, before, *params],
    )
    for col in ("region", "segment", "product", "rep"):
        frame[col] = frame[col].fillna(NONE)
    return frame


def fingerprint_tables(scenario: bool) -> list[str]:
    tables = ["bookings", "opportunities", "opportunity_history", "accounts", "reps", "targets", "quotas", "stages"]
    return [*tables, "meta", *(["scenarios", "scenario_changes"] if scenario else [])]
