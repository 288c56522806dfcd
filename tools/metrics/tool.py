"""The metrics tool: everyday KPI lookups by dimension and fiscal period.

Definitions (the same everywhere in spm-agent):
* bookings: won amount booked in the period (up to today for the current period);
* pipeline: open deals whose close date falls in the period (amount, stage-weighted amount);
* coverage: that pipeline / what is left of the target (target - bookings so far);
* win_rate: won / closed deals closed in the period (by count; `value_win_rate` by amount);
* avg_deal_size: mean amount of deals won in the period; cycle_length: mean days from
  creation to close of those deals;
* attainment: bookings / quota per AE (quotas pro-rated to the period);
* headcount: AEs in seat at the period's end (today for a current or future period), plus
  open AE requisitions starting before it ends.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tools.contract import Impact, Recommendation
from tools.filters import resolve_filters
from tools.forecast.hierarchy import build_hierarchy
from tools.forecast.targets import node_targets, overlap_weights
from tools.metrics import loader
from tools.metrics.models import MetricsInput, MetricsResult
from tools.scope import Scope
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import ReadCursor, Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint

UNITS = {
    "bookings": "USD",
    "pipeline": "USD",
    "coverage": "x",
    "win_rate": "%",
    "avg_deal_size": "USD",
    "cycle_length": "days",
    "attainment": "%",
    "headcount": "count",
}
TABLES = {
    "bookings": ["bookings", "reps"],
    "pipeline": ["opportunities", "accounts", "reps", "stages"],
    "coverage": ["opportunities", "accounts", "reps", "stages", "bookings", "targets"],
    "win_rate": ["opportunities", "accounts", "reps"],
    "avg_deal_size": ["opportunities", "accounts", "reps"],
    "cycle_length": ["opportunities", "accounts", "reps"],
    "attainment": ["bookings", "quotas", "reps"],
    "headcount": ["reps", "headcount_plan"],
}
LOW_COVERAGE = 2.5


def _resolve(cur: ReadCursor, params: MetricsInput, scope: Scope) -> dict[str, list[str]]:
    plain = {d: v for d, v in params.filters.items() if d in ("region", "segment", "product")}
    filters = resolve_filters(cur, plain, allowed=("region", "segment", "product"))
    for dim in ("rep", "manager"):
        if dim in params.filters:
            filters[dim] = resolve_filters(cur, {"rep": params.filters[dim]}, allowed=("rep",))["rep"]
    scope.check_filters(filters)
    return filters


def format_value(value: float | None, unit: str) -> str:
    """A KPI as people read it ($1.23M, 27.5%, 2.10x, 41 days), the way answers and summaries show it."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "n/a"
    if unit == "USD":
        return f"${value / 1e6:,.2f}M" if abs(value) >= 1e6 else f"${value:,.0f}"
    if unit == "%":
        return f"{value:.1%}"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "days":
        return f"{value:,.0f} days"
    return f"{value:,.0f}"


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    return (num / den.where(den > 0)).astype(float)


def _compute(
    cur: ReadCursor, params: MetricsInput, q: loader.Query, period: Period, as_of: date, calendar: FiscalCalendar
) -> pd.DataFrame:
    start = period.start
    realised_stop = min(period.end, as_of + timedelta(days=1))
    metric = params.metric
    if metric == "bookings":
        return loader.bookings(cur, q, start, realised_stop)
    if metric == "pipeline":
        return loader.pipeline(cur, q, start, period.end)
    if metric in ("win_rate", "avg_deal_size", "cycle_length"):
        frame = loader.closed(cur, q, start, realised_stop)
        if metric == "win_rate":
            frame["value"] = _ratio(frame["won"], frame["closed"])
            frame["value_win_rate"] = _ratio(frame["won_amount"], frame["closed_amount"])
        elif metric == "avg_deal_size":
            frame["value"] = frame["avg_won_amount"].astype(float)
        else:
            frame["value"] = frame["cycle_days"].astype(float)
        return frame
    if metric == "attainment":
        quota_periods = _quota_periods(cur, calendar, period)
        frame = loader.rep_bookings_and_quotas(cur, q, start, realised_stop, quota_periods)
        keys = [d for d in params.by if d != "rep"] if "rep" not in params.by else ["rep", "name", *params.by[1:]]
        if "rep" not in params.by:
            frame = (
                frame.groupby(keys, dropna=False)[["quota", "booked"]].sum().reset_index()
                if keys
                else (frame[["quota", "booked"]].sum().to_frame().T)
            )
        frame["value"] = _ratio(frame["booked"], frame["quota"])
        return frame
    if metric == "headcount":
        on = min(period.end - timedelta(days=1), as_of)
        return loader.headcount(cur, q, on, period.end)
    # coverage
    pipe = loader.pipeline(cur, q, start, period.end)
    booked = loader.bookings(cur, q, start, realised_stop).rename(columns={"value": "booked"})
    frame = (
        pipe.merge(booked[[*params.by, "booked"]], on=params.by, how="left")
        if params.by
        else pipe.assign(booked=float(booked["booked"].iloc[0] or 0.0))
    )
    frame["booked"] = frame["booked"].fillna(0.0)
    targets = cur.query_df("SELECT period, region, segment, amount FROM targets")
    keys = [tuple(str(row[d]) for d in params.by) for _, row in frame.iterrows()] if params.by else [()]
    hierarchy = build_hierarchy(list(params.by), keys)
    values = node_targets(
        hierarchy,
        {d: v for d, v in q.filters.items() if d in ("region", "segment")},
        [period],
        calendar,
        targets,
        pd.DataFrame(columns=["rep_id", "period", "amount"]),
    )[:, 0]
    index = {tuple(v for _, v in node.keys): values[i] for i, node in enumerate(hierarchy.nodes)}
    frame["target"] = [index.get(k, np.nan) for k in keys] if params.by else [values[0]]
    frame["remaining_target"] = (frame["target"] - frame["booked"]).clip(lower=0)
    frame["pipeline"] = frame["value"]
    frame["value"] = _ratio(frame["pipeline"], frame["remaining_target"])
    return frame


def _quota_periods(cur: ReadCursor, calendar: FiscalCalendar, period: Period) -> list[tuple[str, float]]:
    names = pd.Series([r[0] for r in cur.execute("SELECT DISTINCT period FROM quotas").fetchall()], dtype=object)
    weights = overlap_weights(calendar, names, period) if len(names) else np.zeros(0)
    return [(str(n), float(w)) for n, w in zip(names, weights, strict=True) if w > 0]


def _total(frame: pd.DataFrame, metric: str) -> float | None:
    if frame.empty:
        return None
    if metric in ("bookings", "pipeline", "headcount"):
        return float(frame["value"].sum())
    if metric == "win_rate":
        return float(frame["won"].sum() / frame["closed"].sum()) if frame["closed"].sum() > 0 else None
    if metric == "avg_deal_size":
        won = frame["won"].sum()
        return float((frame["avg_won_amount"].fillna(0) * frame["won"]).sum() / won) if won > 0 else None
    if metric == "cycle_length":
        won = frame["won"].sum()
        return float((frame["cycle_days"].fillna(0) * frame["won"]).sum() / won) if won > 0 else None
    if metric == "attainment":
        return float(frame["booked"].sum() / frame["quota"].sum()) if frame["quota"].sum() > 0 else None
    remaining = frame["remaining_target"].sum()
    return float(frame["pipeline"].sum() / remaining) if remaining > 0 else None


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return value


def run_metrics(warehouse: Warehouse, params: MetricsInput, *, scope: Scope | None = None) -> MetricsResult:
    scope = scope or Scope.everything()
    with warehouse.reader() as cur:
        meta = dict(cur.execute("SELECT key, value FROM meta").fetchall())
        calendar = FiscalCalendar(int(meta.get("fiscal_year_start_month", "1")))
        as_of = params.as_of or (date.fromisoformat(meta["as_of"]) if "as_of" in meta else date.today())
        period = calendar.parse(params.period) if params.period else calendar.period_of(as_of, "quarter")
        if period.start > as_of and params.metric in (
            "bookings",
            "win_rate",
            "avg_deal_size",
            "cycle_length",
            "attainment",
        ):
            raise InputError(
                f"{period.name} has not started yet (today is {as_of}), so it has no {params.metric.replace('_', ' ')}.",
                "Ask about the current or a past period, or forecast the future one (spm forecast).",
            )
        filters = _resolve(cur, params, scope)
        query = loader.Query(scope, filters, list(params.by))
        frame = _compute(cur, params, query, period, as_of, calendar)
        fp = fingerprint(cur, [*TABLES[params.metric], "meta"])
    unit = UNITS[params.metric]
    total = _total(frame, params.metric)
    if params.below is not None:
        frame = frame[frame["value"] < params.below]
    if params.above is not None:
        frame = frame[frame["value"] > params.above]
    ascending = params.below is not None and params.above is None
    frame = frame.sort_values("value", ascending=ascending, na_position="last").head(params.limit)
    rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
    where = ", ".join(f"{d} {'/'.join(v)}" for d, v in filters.items()) or (
        "all data" if scope.kind == "all" else scope.describe()
    )
    label = params.metric.replace("_", " ")
    summary = f"{label.capitalize()} in {period.name} ({where}): {format_value(total, unit)}"
    if params.by:
        summary += f"; {len(rows)} {'/'.join(params.by)} row{'s' if len(rows) != 1 else ''}"
        if params.below is not None or params.above is not None:
            bound = (
                f"below {format_value(params.below, unit)}"
                if params.below is not None
                else f"above {format_value(params.above, unit)}"
            )
            summary += f" {bound}"
        if rows and not (params.below is not None or params.above is not None):
            top = rows[0]
            summary += f", highest {' '.join(str(top.get(d)) for d in params.by)} at {format_value(top['value'], unit)}"
    summary += "."
    recs = _recommendations(params, period, rows, total, unit)
    return MetricsResult(
        summary=summary,
        metrics={
            "metric": params.metric,
            "period": period.name,
            "period_start": period.start.isoformat(),
            "period_end": (period.end - timedelta(days=1)).isoformat(),
            "as_of": as_of.isoformat(),
            "unit": unit,
            "total": None if total is None else round(total, 6),
            "rows": len(rows),
            "filters": filters,
            "by": list(params.by),
        },
        tables={"values": rows},
        recommendations=recs,
        assumptions=[__doc__.split("Definitions", 1)[1].strip().split("\n\n")[0].replace("\n", " ")],  # type: ignore[union-attr]
        data_fingerprint=fp,
    )


def _recommendations(
    params: MetricsInput, period: Period, rows: list[dict[str, Any]], total: float | None, unit: str
) -> list[Recommendation]:
    recs = []
    if params.metric == "coverage":
        low = [r for r in rows if r.get("value") is not None and r["value"] < LOW_COVERAGE]
        for r in low[:3]:
            who = " ".join(str(r[d]) for d in params.by) or "the selection"
            gap = LOW_COVERAGE * r["remaining_target"] - r["pipeline"]
            recs.append(
                Recommendation(
                    action=f"Build {format_value(gap, 'USD')} more {period.name} pipeline in {who}.",
                    rationale=f"Coverage is {format_value(r['value'], 'x')} of the {format_value(r['remaining_target'], 'USD')} "
                    f"left to book; {LOW_COVERAGE:.1f}x is the usual minimum.",
                    impact=Impact(metric=f"coverage {who}", before=r["value"], after=LOW_COVERAGE, unit="x"),
                    confidence=0.6,
                    group={d: str(r[d]) for d in params.by},
                )
            )
    if params.metric == "attainment" and "rep" in params.by:
        behind = [r for r in rows if r.get("value") is not None and r["value"] < 0.5]
        if behind:
            names = ", ".join(str(r.get("name") or r["rep"]) for r in behind[:5])
            recs.append(
                Recommendation(
                    action=f"Review the {len(behind)} AEs under 50% of quota in {period.name} ({names}).",
                    rationale=f"They hold {format_value(sum(r['quota'] for r in behind), 'USD')} of quota and have booked "
                    f"{format_value(sum(r['booked'] for r in behind), 'USD')}.",
                    impact=Impact(metric="AEs under 50% attainment", before=float(len(behind)), unit="count"),
                    confidence=0.5,
                )
            )
    return recs
