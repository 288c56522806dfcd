"""Forecast calls: storing a call (the next version of the caller's number for a period and
category) and reading them back. Who may call for whom is checked here, from the caller's
scope, so every entry point (CLI, Python) holds to the same rule:

* a rep (scope own) calls for themself;
* a manager (scope team) for themself (their team's book) or for a rep of their team;
* a regional or segment leader for anyone in their region or segment; all-data users for anyone.

A call on a manager is the team's book (their reports' deals and their own), on anyone else
their own book.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from warehouse.errors import InputError, NotFoundError, PermissionDeniedError
from warehouse.identity import Scope

Category = Literal["commit", "best_case"]
CATEGORIES: tuple[str, ...] = ("commit", "best_case")
CATEGORY_WORDS = {"commit": "commit", "best_case": "best_case", "best case": "best_case", "best-case": "best_case"}
MAX_CALL = 1e12  # USD: a call above a trillion is a typo
COLUMNS = (
    "call_id",
    "caller_rep_id",
    "book",
    "period",
    "category",
    "amount",
    "comment",
    "version",
    "submitted_by",
    "submitted_at",
    "run_id",
)


@dataclass(frozen=True)
class Call:
    call_id: str
    caller_rep_id: str
    caller_name: str
    book: str
    period: str
    category: str
    amount: float
    comment: str | None
    version: int
    submitted_by: str
    submitted_at: datetime


def category(text: str) -> str:
    found = CATEGORY_WORDS.get(text.strip().lower())
    if found is None:
        raise InputError(f"{text!r} is not a call category.", "Call commit or best_case.")
    return found


def _caller(cur: Any, rep_id: str) -> tuple[str, str, str | None, str | None, bool]:
    """(rep_id, name, region, segment, manages anyone) of `rep_id` (an id or a full name)."""
    row = cur.execute(
        """SELECT r.rep_id, r.name, r.region, r.segment,
                  EXISTS (SELECT 1 FROM reps x WHERE x.manager_id = r.rep_id)
           FROM reps r WHERE r.rep_id = ? OR lower(r.name) = lower(?) ORDER BY r.rep_id LIMIT 1""",
        [rep_id, rep_id],
    ).fetchone()
    if row is None:
        raise NotFoundError(f"No rep or manager {rep_id!r}.", "Name them by rep id (spm data summary lists reps).")
    return str(row[0]), str(row[1]), row[2], row[3], bool(row[4])


def default_caller(scope: Scope) -> str | None:
    """Whose number a user calls when they name nobody: their own (a rep's or a manager's)."""
    return scope.value if scope.kind in ("own", "team") else None


def check_may_call(cur: Any, scope: Scope, rep_id: str, region: str | None, segment: str | None) -> None:
    """Refuse a call for someone outside the user's scope."""
    if scope.kind == "all":
        return
    if scope.kind == "own" and rep_id == scope.value:
        return
    if scope.kind == "team":
        in_team = cur.execute(
            "SELECT count(*) FROM reps WHERE rep_id = ? AND (rep_id = ? OR manager_id = ?)",
            [rep_id, scope.value, scope.value],
        ).fetchone()[0]
        if in_team:
            return
    if scope.kind == "region" and region == scope.value:
        return
    if scope.kind == "segment" and segment == scope.value:
        return
    raise PermissionDeniedError(
        f"You may not submit a forecast call for {rep_id}: it is outside {scope.describe()}.",
        "Call for yourself, or for a rep inside your scope.",
    )


def submit_call(
    cur: Any,
    *,
    scope: Scope,
    caller: str | None,
    period: str,
    category_: str,
    amount: float,
    comment: str | None,
    submitted_by: str,
    run_id: str | None = None,
) -> Call:
    """Store the next version of the caller's call (inside the caller's write transaction)."""
    who = caller or default_caller(scope)
    if who is None:
        raise InputError(
            "Whose call is it? Your user has no rep or team of its own.",
            "Name the rep or manager with --for (e.g. --for R-00001).",
        )
    rep_id, name, region, segment, manages = _caller(cur, who)
    check_may_call(cur, scope, rep_id, region, segment)
    cat = category(category_)
    if not (0 <= amount <= MAX_CALL) or amount != amount:
        raise InputError(f"A call of {amount:,.0f} is not a plausible bookings figure.", "Give USD, e.g. 2.4M.")
    version = int(
        cur.execute(
            "SELECT coalesce(max(version), 0) + 1 FROM forecast_calls WHERE caller_rep_id = ? AND period = ? "
            "AND category = ?",
            [rep_id, period, cat],
        ).fetchone()[0]
    )
    call_id = "CALL-" + uuid.uuid4().hex[:10]
    now = datetime.now()
    book = "team" if manages else "own"
    text = comment.strip() if comment and comment.strip() else None
    cur.execute(
        f"INSERT INTO forecast_calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
        [call_id, rep_id, book, period, cat, float(amount), text, version, submitted_by, now, run_id],
    )
    return Call(call_id, rep_id, name, book, period, cat, float(amount), text, version, submitted_by, now)


def read_calls(cur: Any, period: str | None = None, caller: str | None = None) -> pd.DataFrame:
    """Every version of the calls (newest first), with the caller's name and manager."""
    where, params = ["TRUE"], []
    if period:
        where.append("c.period = ?")
        params.append(period)
    if caller:
        where.append("(c.caller_rep_id = ? OR lower(r.name) = lower(?))")
        params += [caller, caller]
    frame: pd.DataFrame = cur.execute(
        f"""SELECT c.*, r.name AS caller_name, r.manager_id
            FROM forecast_calls c LEFT JOIN reps r ON r.rep_id = c.caller_rep_id
            WHERE {" AND ".join(where)}
            ORDER BY c.period DESC, c.caller_rep_id, c.category, c.version DESC""",
        params,
    ).df()
    return frame
