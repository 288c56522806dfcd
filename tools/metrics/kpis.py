"""Each KPI's rows: one function per KPI, from its SQL (tools/metrics/loader.py) to a frame with a
`value` column per breakdown row, and the rules that total a KPI over its rows.

Definitions (the same everywhere in spm-agent):
* bookings: won amount booked in the period (through the as-of day for the current period);
* pipeline: open deals whose close date falls in the period (amount, stage-weighted amount);
* coverage: that pipeline / what is left of the target (target - bookings so far), with the
  coverage each row needs and the pipeline to build (tools/core/coverage.py, as the forecast);
* win_rate: won / closed deals closed in the period (by count; `value_win_rate` by amount);
* avg_deal_size: mean amount of deals won in the period; cycle_length: mean days from
  creation to close of those deals;
* attainment: bookings / quota per AE (quotas pro-rated to the period);
* headcount: AEs in seat at the period's end (the as-of date for a current or future period),
  plus open AE requisitions starting before it ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tools.core import coverage as cov
from tools.core.hierarchy import build_hierarchy
from tools.core.targets import load_targets, node_targets, overlap_weights
from tools.metrics import loader
from warehouse.calendar import FiscalCalendar, Period

NO_QUOTAS = pd.DataFrame(columns=["rep_id", "period", "amount"])


@dataclass(frozen=True)
class Window:
    """What a KPI is computed over: the query (selection and breakdown), the period, the as-of date."""

    cur: Any
    query: loader.Query
    period: Period
    as_of: date
    calendar: FiscalCalendar

    @property
    def realised_stop(self) -> date:
        """Exclusive end of what has happened in the period: its end, or the day after the as-of date."""
        return min(self.period.end, self.as_of + timedelta(days=1))

    @property
    def by(self) -> list[str]:
        return list(self.query.by)


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def bookings(w: Window) -> pd.DataFrame:
    return loader.bookings(w.cur, w.query, w.period.start, w.realised_stop)


def pipeline(w: Window) -> pd.DataFrame:
    return loader.pipeline(w.cur, w.query, w.period.start, w.period.end)


def win_rate(w: Window) -> pd.DataFrame:
    frame = loader.closed(w.cur, w.query, w.period.start, w.realised_stop)
    frame["value"] = _ratio(frame["won"], frame["closed"])
    frame["value_win_rate"] = _ratio(frame["won_amount"], frame["closed_amount"])
    return frame


def avg_deal_size(w: Window) -> pd.DataFrame:
    frame = loader.closed(w.cur, w.query, w.period.start, w.realised_stop)
    frame["value"] = frame["avg_won_amount"].astype(float)
    return frame


def cycle_length(w: Window) -> pd.DataFrame:
    frame = loader.closed(w.cur, w.query, w.period.start, w.realised_stop)
    frame["value"] = frame["cycle_days"].astype(float)
    return frame


def attainment(w: Window) -> pd.DataFrame:
    names = pd.Series([r[0] for r in w.cur.execute("SELECT DISTINCT period FROM quotas").fetchall()], dtype=object)
    weights = overlap_weights(w.calendar, names, w.period) if len(names) else np.zeros(0)
    periods = [(str(n), float(x)) for n, x in zip(names, weights, strict=True) if x > 0]
    frame = loader.rep_bookings_and_quotas(w.cur, w.query, w.period.start, w.realised_stop, periods)
    if "rep" not in w.by:
        keys = w.by
        frame = (
            frame.groupby(keys, dropna=False)[["quota", "booked"]].sum().reset_index()
            if keys
            else frame[["quota", "booked"]].sum().to_frame().T
        )
    frame["value"] = _ratio(frame["booked"], frame["quota"])
    return frame


def headcount(w: Window) -> pd.DataFrame:
    on = min(w.period.end - timedelta(days=1), w.as_of)
    return loader.headcount(w.cur, w.query, on, w.period.end)


def coverage(w: Window) -> pd.DataFrame:
    """Pipeline closing in the period over the target left, per row, with the coverage each row
    needs and the pipeline to build (the forecast's computation, tools/core/coverage.py)."""
    by = w.by
    frame = pipeline(w).rename(columns={"value": "pipeline"})
    booked = bookings(w).rename(columns={"value": "booked"})[[*by, "booked"]]
    closed = loader.closed(w.cur, w.query, w.as_of - timedelta(days=cov.WIN_RATE_MONTHS * 365 // 12), w.realised_stop)
    closed = closed[[*by, "won_amount", "closed_amount", "closed"]]
    if by:
        frame = frame.merge(booked, on=by, how="outer").merge(closed, on=by, how="left")
    else:
        frame = pd.concat([frame, booked.drop(columns=by), closed.drop(columns=by)], axis=1)
    frame = frame.fillna({"pipeline": 0.0, "booked": 0.0, "won_amount": 0.0, "closed_amount": 0.0, "closed": 0})
    keys = [tuple(str(row[d]) for d in by) for _, row in frame.iterrows()] if by else [()]
    hierarchy = build_hierarchy(by, keys)
    targets = load_targets(w.cur, w.query.selection)
    values = node_targets(hierarchy, w.query.selection.constraints, [w.period], w.calendar, targets, NO_QUOTAS)[:, 0]
    by_key = {tuple(v for _, v in node.keys): values[i] for i, node in enumerate(hierarchy.nodes)}
    out = []
    for k, row in zip(keys, frame.to_dict("records"), strict=True):
        target = by_key.get(k, np.nan)
        rate = cov.value_win_rate(row["won_amount"], row["closed_amount"], int(row["closed"]))
        c = cov.coverage(row["pipeline"], None if np.isnan(target) else float(target), row["booked"], rate)
        out.append(
            {
                **{d: row[d] for d in by},
                "pipeline": c.pipeline,
                "booked": row["booked"],
                "target": None if np.isnan(target) else float(target),
                "remaining_target": c.remaining,
                "value": c.coverage,
                "win_rate": rate,
                "required_coverage": c.required,
                "to_build": c.to_build,
            }
        )
    columns = [
        *by,
        "pipeline",
        "booked",
        "target",
        "remaining_target",
        "value",
        "win_rate",
        "required_coverage",
        "to_build",
    ]
    return pd.DataFrame(out, columns=columns)


# Totals over a KPI's rows.
def total_sum(frame: pd.DataFrame) -> float | None:
    return float(frame["value"].sum())


def total_ratio(num: str, den: str) -> Callable[[pd.DataFrame], float | None]:
    def total(frame: pd.DataFrame) -> float | None:
        d = float(pd.to_numeric(frame[den], errors="coerce").fillna(0).sum())
        return float(pd.to_numeric(frame[num], errors="coerce").fillna(0).sum()) / d if d > 0 else None

    return total


def total_weighted(value: str, weight: str) -> Callable[[pd.DataFrame], float | None]:
    def total(frame: pd.DataFrame) -> float | None:
        wsum = float(frame[weight].sum())
        return float((frame[value].fillna(0) * frame[weight]).sum()) / wsum if wsum > 0 else None

    return total
