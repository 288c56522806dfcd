"""The demo company's forecast call history: every manager (for their team) and every active AE
(for their own book) called each of the last four closed quarters and calls the one in
progress, in three versions a quarter (weeks 2, 6 and 10), commit and, for managers, best case.

Each caller has a lean of their own (some call high, some sandbag), and early versions miss by
more than late ones (never below what the book had closed by then), so the roll-up's caller
accuracy tells callers apart. A closed quarter's calls scatter around what the book then booked;
the quarter in progress has no outcome yet, so its calls scatter around what the book booked in
the same quarter a year before, grown as the book grew over the last year (what a manager's own
seasonality read would say). Submitted by `demo-history` (no demo user entered them).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from warehouse.calendar import FiscalCalendar

CALL_DAYS = (14, 42, 70)  # days into the quarter each version is submitted
NOISE = (0.25, 0.15, 0.08)  # relative miss of each version, early to late
LEAN_SD, LEAN_MAX = 0.10, 0.25
BEST_CASE_UPLIFT = (1.12, 1.35)
QUARTERS_BACK = 4
COMMENTS = (
    "Two late-stage deals in legal review.",
    "Assumes the quarter-end push lands.",
    "Conservative: one Negotiation deal at risk.",
    "Upside from expansion deals not in Commit yet.",
    "Holding last call.",
    None,
    None,
)


def build_calls(
    rng: np.random.Generator, reps: pd.DataFrame, bookings: pd.DataFrame, calendar: FiscalCalendar, as_of: date
) -> pd.DataFrame:
    current = calendar.period_of(as_of, "quarter")
    quarters = [calendar.shift(current, -i) for i in range(QUARTERS_BACK, 0, -1)]
    earlier = [calendar.shift(current, -i) for i in range(2 * QUARTERS_BACK, QUARTERS_BACK, -1)]
    dates = pd.to_datetime(bookings["date"])
    booked = {
        q.name: bookings[(dates >= pd.Timestamp(q.start)) & (dates < pd.Timestamp(q.end))]
        .groupby("rep_id")["amount"]
        .sum()
        for q in [*earlier, *quarters]
    }
    # What each rep had booked by each call day: nobody calls less than is already closed.
    so_far = {
        (q.name, day): bookings[
            (dates >= pd.Timestamp(q.start)) & (dates < pd.Timestamp(q.start + timedelta(days=day)))
        ]
        .groupby("rep_id")["amount"]
        .sum()
        for q in [*quarters, current]
        for day in CALL_DAYS
    }
    teams = reps.dropna(subset=["manager_id"]).groupby("manager_id")["rep_id"].apply(list)
    callers: list[tuple[str, str, list[str]]] = [(str(m), "team", [str(m), *team]) for m, team in teams.items()]
    active = reps[(reps["role"] == "AE") & reps["end_date"].isna()]
    callers += [(str(r), "own", [str(r)]) for r in active["rep_id"]]
    rows = []
    for caller, book, members in callers:
        lean = float(np.clip(rng.normal(0, LEAN_SD), -LEAN_MAX, LEAN_MAX))
        actual = {q.name: float(booked[q.name].reindex(members).fillna(0.0).sum()) for q in [*earlier, *quarters]}
        last_year, year_before = sum(actual[q.name] for q in quarters), sum(actual[q.name] for q in earlier)
        growth = float(np.clip(last_year / year_before, 0.7, 1.5)) if year_before > 0 else 1.0
        a_year_ago = actual[quarters[-4].name]  # the same quarter last year
        for q in [*quarters, current]:
            outcome = a_year_ago * growth if q is current else actual[q.name]
            if outcome <= 0:
                continue
            for version, (day, noise) in enumerate(zip(CALL_DAYS, NOISE, strict=True), start=1):
                when = q.start + timedelta(days=day)
                if when > as_of:
                    break
                closed = float(so_far[(q.name, day)].reindex(members).fillna(0.0).sum())
                commit = round(max(outcome * max(0.2, 1 + lean + rng.normal(0, noise)), closed), -3)
                stamp = datetime.combine(when, time(9, 0)) + timedelta(minutes=int(rng.integers(0, 480)))
                comment = COMMENTS[int(rng.integers(len(COMMENTS)))]
                rows.append((caller, book, q.name, "commit", commit, comment, version, stamp))
                if book == "team":
                    best = round(commit * rng.uniform(*BEST_CASE_UPLIFT), -3)
                    rows.append((caller, book, q.name, "best_case", best, None, version, stamp))
    frame = pd.DataFrame(
        rows, columns=["caller_rep_id", "book", "period", "category", "amount", "comment", "version", "submitted_at"]
    )
    frame.insert(0, "call_id", [f"CALL-D{i:07d}" for i in range(len(frame))])
    frame["submitted_by"] = "demo-history"
    frame["run_id"] = None
    return frame
