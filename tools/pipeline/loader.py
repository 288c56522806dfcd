"""Vetted SQL for pipeline movement: the selection's deals (their current state and the
dimensions a breakdown reads) and their recorded changes. The caller's selection (scope and
filters, tools/core/selection.py) is ANDed in, as in every tool, so a scoped caller gets what an
admin filtered to the same slice gets."""

from __future__ import annotations

from datetime import date

import pandas as pd

from tools.core.selection import Selection
from warehouse.connection import ReadCursor

TABLES = ("opportunities", "opportunity_history", "accounts", "reps", "stages", "meta")


def deals(cur: ReadCursor, sel: Selection, until: date) -> pd.DataFrame:
    """Deals created on or before `until`: opp_id, name, created_date, stage, amount, close_date,
    region, segment, product, rep, rep_name, manager."""
    where, params = sel.where("opportunities", "o", "a")
    frame: pd.DataFrame = cur.query_df(
        f"""SELECT o.opp_id, o.name, o.created_date, o.stage, o.amount, o.close_date,
                   coalesce(a.region, '(none)') AS region, coalesce(a.segment, '(none)') AS segment,
                   coalesce(o.product, '(none)') AS product, coalesce(o.owner_rep_id, '(unassigned)') AS rep,
                   coalesce(r.name, o.owner_rep_id, '(unassigned)') AS rep_name,
                   coalesce(r.manager_id, '(none)') AS manager
            FROM opportunities o JOIN accounts a ON a.account_id = o.account_id
            LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
            WHERE o.created_date <= ? AND {where}
            ORDER BY o.opp_id""",
        [until, *params],
    )
    return frame


def history(cur: ReadCursor, sel: Selection, until: date) -> pd.DataFrame:
    """The selection's recorded changes on or before `until`, plus each deal's first change
    (its state before then, when it was created earlier than its first record)."""
    where, params = sel.where("opportunities", "o", "a")
    frame: pd.DataFrame = cur.query_df(
        f"""SELECT h.opp_id, h.seq, h.changed_date, h.stage, h.amount, h.close_date
            FROM opportunity_history h JOIN opportunities o ON o.opp_id = h.opp_id
            JOIN accounts a ON a.account_id = o.account_id LEFT JOIN reps r ON r.rep_id = o.owner_rep_id
            WHERE (h.changed_date <= ? OR h.seq = (SELECT min(seq) FROM opportunity_history f WHERE f.opp_id = h.opp_id))
              AND o.created_date <= ? AND {where}
            ORDER BY h.opp_id, h.changed_date, h.seq""",
        [until, until, *params],
    )
    return frame


def stages(cur: ReadCursor) -> tuple[set[str], set[str], dict[str, int]]:
    """Closed stage names, won stage names, and every stage's sort order."""
    rows = cur.execute("SELECT name, is_closed, is_won, sort_order FROM stages").fetchall()
    closed = {str(n) for n, c, _, _ in rows if c}
    won = {str(n) for n, _, w, _ in rows if w}
    return closed, won, {str(n): int(s) for n, _, _, s in rows}
