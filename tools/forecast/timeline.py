"""Where dates fall on the forecast's timeline of fiscal periods."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from warehouse.calendar import Period, add_months


def period_index(periods: list[Period], dates: pd.Series) -> np.ndarray:
    """Index into `periods` of the period containing each date (-1 before, len after)."""
    starts = np.array([np.datetime64(p.start) for p in periods])
    ends = np.array([np.datetime64(p.end) for p in periods])
    values = pd.to_datetime(dates).to_numpy(dtype="datetime64[D]")
    idx = np.searchsorted(starts, values, side="right") - 1
    return np.where(values >= ends[-1], len(periods), idx)


def month_starts(first: date, last: date) -> list[date]:
    """First days of the months from `first`'s month to `last`'s, inclusive."""
    out, d = [], date(first.year, first.month, 1)
    while d <= last:
        out.append(d)
        d = add_months(d, 1)
    return out
