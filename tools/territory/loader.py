"""The territory tool's SQL: active AEs with their home location, accounts with geography,
value, open and late-stage pipeline. Every query applies the caller's scope and filters."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from tools.scope import Scope
from warehouse.connection import ReadCursor

LATE_STAGE_PROBABILITY = 0.6  # Proposal and later in the standard stages


def _filters(filters: dict[str, list[str]], alias: str) -> tuple[str, list[Any]]:
    parts, values = ["TRUE"], []
    for dim, vals in filters.items():
        parts.append(f"{alias}.{dim} IN ({', '.join('?' for _ in vals)})")
        values += vals
    return " AND ".join(parts), values


def active_reps(
    cur: ReadCursor, scope: Scope, filters: dict[str, list[str]], today: date, cross_segment: bool
) -> pd.DataFrame:
    sql, params = scope.predicate("reps", "r")
    f_sql, f_params = _filters({k: v for k, v in filters.items() if not (cross_segment and k == "segment")}, "r")
    return cur.query_df(
        f"""
        SELECT r.rep_id, r.name, r.region, r.segment, r.territory_id, r.hire_date, r.ramp_months,
               g.lat AS home_lat, g.lon AS home_lon
        FROM reps r LEFT JOIN geos g ON g.country = coalesce(r.home_country, 'US') AND g.zip = r.home_zip
        WHERE r.role = 'AE' AND (r.end_date IS NULL OR r.end_date > ?) AND {sql} AND {f_sql}
        ORDER BY r.rep_id
        """,
        [today, *params, *f_params],
    )


def accounts(cur: ReadCursor, scope: Scope, filters: dict[str, list[str]], today: date) -> pd.DataFrame:
    sql, params = scope.predicate("accounts", "a")
    f_sql, f_params = _filters(filters, "a")
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
        SELECT a.account_id, a.name, a.region, a.segment, a.owner_rep_id, a.territory_id, a.is_strategic,
               coalesce(a.arr, 0) AS arr, coalesce(a.potential, 0) AS potential, a.zip, a.country, a.city,
               g.state, coalesce(g.msa_code, a.country || ':' || coalesce(a.city, g.city, '?')) AS msa,
               coalesce(g.msa_name, a.city, g.city) AS msa_name, g.lat, g.lon,
               coalesce(p.pipeline, 0) AS pipeline, coalesce(p.late_stage, 0) AS late_stage,
               coalesce(p.late_deals, 0) AS late_deals, coalesce(s.effort_weight, 1.0) AS effort
        FROM accounts a
        LEFT JOIN geos g ON g.country = a.country AND g.zip = a.zip
        LEFT JOIN pipe p ON p.account_id = a.account_id
        LEFT JOIN segments s ON s.name = a.segment
        WHERE {sql} AND {f_sql}
        ORDER BY a.account_id
        """,
        [today, *params, *f_params],
    )
