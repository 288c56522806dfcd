"""The capacity tool's SQL: AEs past and present, their monthly bookings, open requisitions,
account potential, win rates and bookings so far. Every query applies the caller's selection
(tools/core/selection.py); targets and quotas come from tools/core/targets.py."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tools.core.selection import Selection
from warehouse.connection import ReadCursor


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_datetime(frame[col])
    return frame


def aes(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    """Every AE ever employed in the selection (for history) with today's region and segment."""
    where, params = sel.where("reps", "r")
    frame = cur.query_df(
        f"""SELECT r.rep_id, r.name, r.region, r.segment, r.territory_id, r.hire_date, r.end_date, r.ote,
                   r.ramp_months
            FROM reps r WHERE r.role = 'AE' AND r.region IS NOT NULL AND r.segment IS NOT NULL AND {where}
            ORDER BY r.rep_id""",
        params,
    )
    return _dates(frame, "hire_date", "end_date")


def rep_months(cur: ReadCursor, sel: Selection, since: date, before: date) -> pd.DataFrame:
    """Bookings per AE and calendar month in [since, before)."""
    where, params = sel.where("reps", "r")
    frame = cur.query_df(
        f"""SELECT b.rep_id, date_trunc('month', b.date)::DATE AS month, sum(b.amount) AS amount
            FROM bookings b JOIN reps r ON r.rep_id = b.rep_id
            WHERE r.role = 'AE' AND b.date >= ? AND b.date < ? AND {where}
            GROUP BY ALL ORDER BY 1, 2""",
        [since, before, *params],
    )
    return _dates(frame, "month")


def scope_months(cur: ReadCursor, sel: Selection, before: date) -> pd.DataFrame:
    """The selection's bookings per calendar month (every rep, or none), before `before`."""
    where, params = sel.where("bookings", "b")
    frame = cur.query_df(
        f"""SELECT date_trunc('month', b.date)::DATE AS month, b.region, b.segment, sum(b.amount) AS amount
            FROM bookings b WHERE b.date < ? AND {where} GROUP BY ALL ORDER BY 1, 2, 3""",
        [before, *params],
    )
    return _dates(frame, "month")


def requisitions(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    """Open AE requisitions."""
    where, params = sel.where("headcount", "h")
    frame = cur.query_df(
        f"""SELECT h.req_id, h.region, h.segment, h.territory_id, h.planned_start, h.ote, h.backfill_for
            FROM headcount_plan h
            WHERE h.status = 'open' AND h.role = 'AE' AND {where} ORDER BY h.planned_start, h.req_id""",
        params,
    )
    return _dates(frame, "planned_start")


def potential(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    """Account potential and count per region and segment (territory coverage per seat)."""
    where, params = sel.where("accounts", "a")
    return cur.query_df(
        f"""SELECT a.region, a.segment, sum(coalesce(a.potential, 0)) AS potential, count(*) AS accounts
            FROM accounts a WHERE {where} GROUP BY ALL ORDER BY 1, 2""",
        params,
    )


def accounts(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    """Accounts with owner and potential (for territory scenarios)."""
    where, params = sel.where("accounts", "a")
    return cur.query_df(
        f"""SELECT a.account_id, a.owner_rep_id, a.region, a.segment, coalesce(a.potential, 0) AS potential
            FROM accounts a WHERE {where} ORDER BY a.account_id""",
        params,
    )


def win_rates(cur: ReadCursor, sel: Selection, since: date, before: date) -> pd.DataFrame:
    """Closed-won share of deals closed in [since, before), by count, per region and segment."""
    where, params = sel.where("opportunities", "o", "a")
    return cur.query_df(
        f"""SELECT a.region, a.segment, count(*) FILTER (WHERE o.is_won) AS won, count(*) AS closed
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            WHERE o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where}
            GROUP BY ALL ORDER BY 1, 2""",
        [since, before, *params],
    )


def booked(cur: ReadCursor, sel: Selection, since: date, before: date) -> pd.DataFrame:
    """Bookings per region, segment and month in [since, before): what the period has closed."""
    where, params = sel.where("bookings", "b")
    frame = cur.query_df(
        f"""SELECT b.region, b.segment, date_trunc('month', b.date)::DATE AS month, sum(b.amount) AS amount
            FROM bookings b WHERE b.date >= ? AND b.date < ? AND {where} GROUP BY ALL ORDER BY 1, 2, 3""",
        [since, before, *params],
    )
    return _dates(frame, "month")
