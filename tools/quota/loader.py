"""The quota tool's SQL: reps and open requisitions in seat during the period, their
territories' accounts and bookings, history for volatility and attrition, comp plans and
bookings so far. Every query applies the caller's selection (tools/core/selection.py); targets
and stored quotas come from tools/core/targets.py."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from tools.core.selection import Selection
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import ReadCursor


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_datetime(frame[col])
    return frame


def reps_in_seat(cur: ReadCursor, sel: Selection, period: Period, as_of: date) -> pd.DataFrame:
    """AEs employed during the period and not gone by the as-of date."""
    where, params = sel.where("reps", "r")
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
    """Open AE requisitions starting before the period ends (future hires ramp from then).
    A team or a rep has none: requisitions belong to a region and segment."""
    where, params = sel.where("headcount", "h")
    frame = cur.query_df(
        f"""
        SELECT h.req_id AS rep_id, 'Open requisition ' || h.req_id AS name, h.region, h.segment,
               NULL AS manager_id, h.territory_id, h.planned_start AS hire_date, NULL::DATE AS end_date,
               h.ote, NULL::INTEGER AS ramp_months, 'req' AS kind
        FROM headcount_plan h
        WHERE h.status = 'open' AND h.role = 'AE' AND h.planned_start < ? AND {where}
        ORDER BY h.req_id
        """,
        [period.end, *params],
    )
    return _dates(frame, "hire_date", "end_date")


def accounts(cur: ReadCursor, sel: Selection) -> pd.DataFrame:
    where, params = sel.where("accounts", "a")
    return cur.query_df(
        f"""SELECT a.account_id, a.owner_rep_id, a.territory_id, a.region, a.segment,
                   coalesce(a.potential, 0) AS potential
            FROM accounts a WHERE {where} ORDER BY a.account_id""",
        params,
    )


def account_bookings(cur: ReadCursor, sel: Selection, since: date, before: date) -> pd.DataFrame:
    """Bookings per account in [since, before), for territory run-rates."""
    where, params = sel.where("bookings", "b")
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
    where, params = sel.where("bookings", "b")
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
    where, params = sel.where("reps", "r")
    return _dates(
        cur.query_df(f"SELECT r.hire_date, r.end_date FROM reps r WHERE r.role = 'AE' AND {where}", params),
        "hire_date",
        "end_date",
    )


def comp_plans(cur: ReadCursor) -> pd.DataFrame:
    return cur.query_df("SELECT * FROM comp_plans ORDER BY plan_id")


def booked_in_period(cur: ReadCursor, sel: Selection, period: Period, until: date) -> pd.DataFrame:
    """Bookings per rep from the period's start up to `until` (exclusive): what the period has closed."""
    where, params = sel.where("bookings", "b")
    return cur.query_df(
        f"""SELECT b.rep_id, sum(b.amount) AS amount FROM bookings b
            WHERE b.date >= ? AND b.date < ? AND {where} GROUP BY 1 ORDER BY 1""",
        [period.start, min(until, period.end), *params],
    )


def trailing_window(until: date, days: int = 365) -> tuple[date, date]:
    """[since, until): the trailing `days` days before `until`."""
    return until - timedelta(days=days), until
