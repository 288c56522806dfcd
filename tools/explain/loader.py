"""Vetted SQL for the variance explanation: per date window, the closed deals behind the bookings,
the bookings table's own figure, and the context beside them (pipeline created, sales cycle,
slipped deals, active AEs); and the slice's target. The caller's selection (scope and filters,
tools/core/selection.py) is ANDed into every query, exactly as in the metrics tool's SQL, so a
scoped caller gets what an admin filtered to the same slice gets.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tools.core.hierarchy import build_hierarchy
from tools.core.selection import Selection
from tools.core.targets import load_quotas, load_targets, node_targets
from tools.explain.decompose import Deals
from tools.explain.windows import Window
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import ReadCursor

TABLES = ("opportunities", "opportunity_history", "accounts", "reps", "bookings", "targets", "quotas", "meta")
_DEALS_FROM = """FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id"""


@dataclass(frozen=True)
class Slipped:
    deals: int
    amount: float


@dataclass(frozen=True)
class WindowFigures:
    """What happened in one window, for one selection."""

    window: Window
    deals: Deals
    booked: float  # the bookings table's figure (the metrics tool's bookings)
    pipeline_created: float
    median_cycle_days: float | None
    slipped: Slipped | None  # None: the warehouse keeps no opportunity history
    active_aes: int


def has_history(cur: ReadCursor) -> bool:
    return bool(cur.scalar("SELECT count(*) > 0 FROM opportunity_history"))


def window_figures(cur: ReadCursor, sel: Selection, window: Window, history: bool) -> WindowFigures:
    span = [window.start, window.stop]
    where, params = sel.where("opportunities", "o", "a")
    closed, won, won_amount, cycle = cur.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE o.is_won),
                   coalesce(sum(o.amount) FILTER (WHERE o.is_won), 0),
                   median(date_diff('day', o.created_date, o.close_date)) FILTER (WHERE o.is_won)
            {_DEALS_FROM}
            WHERE o.is_closed AND o.close_date >= ? AND o.close_date < ? AND {where}""",
        [*span, *params],
    ).fetchone() or (0, 0, 0.0, None)
    created = cur.scalar(
        f"""SELECT coalesce(sum(o.amount), 0) {_DEALS_FROM}
            WHERE o.created_date >= ? AND o.created_date < ? AND {where}""",
        [*span, *params],
    )
    b_where, b_params = sel.where("bookings", "b")
    booked = cur.scalar(
        f"""SELECT coalesce(sum(b.amount), 0) FROM bookings b LEFT JOIN reps r ON r.rep_id = b.rep_id
            WHERE b.date >= ? AND b.date < ? AND {b_where}""",
        [*span, *b_params],
    )
    r_where, r_params = sel.where("reps", "r")
    aes = cur.scalar(
        f"""SELECT count(*) FROM reps r
            WHERE r.role = 'AE' AND coalesce(r.hire_date, DATE '1900-01-01') < ?
              AND (r.end_date IS NULL OR r.end_date > ?) AND {r_where}""",
        [window.stop, window.start, *r_params],
    )
    return WindowFigures(
        window=window,
        deals=Deals(int(closed), int(won), float(won_amount)),
        booked=float(booked),
        pipeline_created=float(created),
        median_cycle_days=None if cycle is None else float(cycle),
        slipped=_slipped(cur, sel, window) if history else None,
        active_aes=int(aes),
    )


def _slipped(cur: ReadCursor, sel: Selection, window: Window) -> Slipped:
    """Deals whose close date, as it stood at some point before the window's end, fell in the
    window, and that at its end were not closed in it and expected to close after it. Each deal
    is read as it stood at the window's end (its last history row before then), so a reference
    window a year back is measured the way the current one is."""
    where, params = sel.where("opportunities", "o", "a")
    deals, amount = cur.execute(
        f"""WITH h AS (SELECT * FROM opportunity_history WHERE changed_date < ?),
            expected AS (SELECT DISTINCT opp_id FROM h WHERE close_date >= ? AND close_date < ?),
            at_end AS (
                SELECT opp_id, arg_max(close_date, seq) AS close_date, arg_max(amount, seq) AS amount
                FROM h WHERE opp_id IN (SELECT opp_id FROM expected) GROUP BY opp_id)
            SELECT count(*), coalesce(sum(coalesce(e.amount, o.amount)), 0)
            FROM at_end e JOIN opportunities o ON o.opp_id = e.opp_id
            JOIN accounts a ON a.account_id = o.account_id LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
            WHERE e.close_date >= ? AND {where}""",
        [window.stop, window.start, window.stop, window.stop, *params],
    ).fetchone() or (0, 0.0)
    return Slipped(int(deals), float(amount))


def slice_target(cur: ReadCursor, sel: Selection, calendar: FiscalCalendar, period: Period) -> float | None:
    """The slice's target for `period` (tools/core/targets.py: company targets for region and
    segment slices, the reps' quotas for a team or a rep, none for a product), or None."""
    targets = load_targets(cur, sel)
    quotas = load_quotas(cur, sel)
    value = node_targets(build_hierarchy([], [()]), sel.constraints, [period], calendar, targets, quotas)[0, 0]
    return None if np.isnan(value) else float(value)
