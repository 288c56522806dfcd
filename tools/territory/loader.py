"""The territory tool's SQL: active AEs with their home location, accounts with geography,
value, open and late-stage pipeline. Every query applies the caller's selection."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tools.core.selection import Selection
from warehouse.connection import ReadCursor

LATE_STAGE_PROBABILITY = 0.6  # Proposal and later in the standard stages


def active_reps(cur: ReadCursor, sel: Selection, today: date, cross_segment: bool) -> pd.DataFrame:
    """AEs in seat today; across segments, every AE of the selected regions."""
    where, params = (sel.without("segment") if cross_segment else sel).where("reps", "r")
    return cur.query_df(
        f"""
        SELECT r.rep_id, r.name, r.region, r.segment, r.territory_id, r.hire_date, r.ramp_months,
               g.lat AS home_lat, g.lon AS home_lon
        FROM reps r LEFT JOIN geos g ON g.country = coalesce(r.home_country, 'US') AND g.zip = r.home_zip
        WHERE r.role = 'AE' AND (r.end_date IS NULL OR r.end_date > ?) AND {where}
        ORDER BY r.rep_id
        """,
        [today, *params],
    )


def accounts(cur: ReadCursor, sel: Selection, today: date) -> pd.DataFrame:
    where, params = sel.where("accounts", "a")
    return cur.query_df(
        f"""
        WITH pipe AS (
            SELECT o.account_id, sum(o.amount) AS pipeline,
                   sum(o.amount) FILTER (WHERE st.default_probability >= {LATE_STAGE_PROBABILITY}) AS late_stage,
                   count(*) FILTER (WHERE st.default_probability >= {LATE_STAGE_PROBABILITY}) AS late_deals
            FROM opportunities o JOIN stages st ON st.name = o.stage
            WHERE NOT o.is_closed AND o.close_date >= ?
            GROUP BY 1
        )
        SELECT a.account_id, a.name, a.region, a.segment, a.owner_rep_id, a.territory_id, a.is_strategic, a.parent_account_id,
               coalesce(a.arr, 0) AS arr, coalesce(a.potential, 0) AS potential, a.zip, a.country, a.city,
               g.state, coalesce(g.msa_code, a.country || ':' || coalesce(a.city, g.city, '?')) AS msa,
               coalesce(g.msa_name, a.city, g.city) AS msa_name, g.lat, g.lon,
               coalesce(p.pipeline, 0) AS pipeline, coalesce(p.late_stage, 0) AS late_stage,
               coalesce(p.late_deals, 0) AS late_deals, coalesce(s.effort_weight, 1.0) AS effort
        FROM accounts a
        LEFT JOIN geos g ON g.country = a.country AND g.zip = a.zip
        LEFT JOIN pipe p ON p.account_id = a.account_id
        LEFT JOIN segments s ON s.name = a.segment
        WHERE {where}
        ORDER BY a.account_id
        """,
        [today, *params],
    )


def open_seats(cur: ReadCursor, sel: Selection, cross_segment: bool) -> pd.DataFrame:
    """Open AE requisitions as seats to carve books for, in the reps' shape: the planned start
    is the hire date (so the seat ramps like a new hire), home is the departed rep's for a
    backfill (else unknown)."""
    where, params = (sel.without("segment") if cross_segment else sel).where("headcount", "h")
    return cur.query_df(
        f"""
        SELECT h.req_id AS rep_id, 'Open seat ' || h.req_id || ' (starts ' || strftime(h.planned_start, '%Y-%m-%d') || ')' AS name,
               h.region, h.segment, h.territory_id, h.planned_start AS hire_date, NULL::INTEGER AS ramp_months,
               g.lat AS home_lat, g.lon AS home_lon
        FROM headcount_plan h
        LEFT JOIN reps b ON b.rep_id = h.backfill_for
        LEFT JOIN geos g ON g.country = coalesce(b.home_country, 'US') AND g.zip = b.home_zip
        WHERE h.status = 'open' AND h.role = 'AE' AND {where}
        ORDER BY h.req_id
        """,
        params,
    )
