"""Forecast calls as numbers: each caller's standing call, and how close their past calls landed.

* `standing`: per caller, period and category, the latest version submitted up to a moment
  (the roll-up shows the calls standing now; accuracy reads those standing at a period's end).
* `accuracy`: per caller, over the closed periods they called, the commit call standing at
  the period's end against what their book booked: error = call / booked - 1; the caller's
  accuracy is the mean absolute error (0.08: within 8% on average), their bias the mean error
  (+: calls high, -: sandbagging). A period whose book booked nothing is not scored (no ratio).

Pure: pandas in, frames and dicts out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

KEYS = ["caller_rep_id", "period", "category"]


@dataclass(frozen=True)
class Accuracy:
    periods: int  # closed periods scored
    mean_abs_error: float | None  # None: nothing scored yet
    bias: float | None
    last: float | None  # the latest scored period's error

    def text(self) -> str:
        if self.mean_abs_error is None:
            return "no closed period called yet"
        lean = "high" if (self.bias or 0) > 0.02 else "low" if (self.bias or 0) < -0.02 else "on the mark"
        return (
            f"within {self.mean_abs_error:.0%} on average over {self.periods} period"
            f"{'' if self.periods == 1 else 's'}, calls {lean} ({self.bias:+.0%})"
        )


def standing(calls: pd.DataFrame, at: datetime | None = None) -> pd.DataFrame:
    """The latest version per (caller, period, category) submitted up to `at` (all when None)."""
    if calls.empty:
        return calls
    frame = calls if at is None else calls[pd.to_datetime(calls["submitted_at"]) <= pd.Timestamp(at)]
    return frame.sort_values([*KEYS, "version"]).groupby(KEYS, sort=False).tail(1).reset_index(drop=True)


def accuracy(calls: pd.DataFrame, booked: pd.DataFrame, period_ends: dict[str, datetime]) -> dict[str, Accuracy]:
    """Per caller: their commit calls standing at each closed period's end (`period_ends`: period
    name -> its end) against `booked` (caller_rep_id, period, booked: their book's bookings)."""
    errors: list[tuple[str, datetime, float]] = []
    commit = calls[calls["category"] == "commit"] if len(calls) else calls
    actual = {(r.caller_rep_id, r.period): float(r.booked) for r in booked.itertuples()}
    for period, end in period_ends.items():
        final = standing(commit[commit["period"] == period], end) if len(commit) else commit
        for row in final.itertuples():
            got = actual.get((row.caller_rep_id, period), 0.0)
            if got > 0:
                errors.append((str(row.caller_rep_id), end, float(row.amount) / got - 1))
    out: dict[str, Accuracy] = {}
    by_caller: dict[str, list[tuple[datetime, float]]] = {}
    for caller, end, error in errors:
        by_caller.setdefault(caller, []).append((end, error))
    for caller, found in by_caller.items():
        found.sort()
        values = np.array([e for _, e in found])
        out[caller] = Accuracy(len(values), float(np.mean(np.abs(values))), float(np.mean(values)), float(values[-1]))
    return out
