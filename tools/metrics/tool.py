"""The metrics tool: everyday KPI lookups by dimension and fiscal period.

The KPIs and their definitions are in tools/metrics/registry.py and kpis.py; this module
resolves the period and the selection (scope and filters), computes the KPI's rows and total,
keeps the rows asked for (below / above a value, the largest first) and words the result.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from tools.core import format as fmt
from tools.core.context import PlanContext
from tools.core.periods import parse_period
from tools.core.selection import Selection, resolve_filters
from tools.metrics import kpis, loader
from tools.metrics.models import FILTER_DIMS, MetricsInput, MetricsResult
from tools.metrics.recommend import recommendations
from tools.metrics.registry import metric
from warehouse.connection import Warehouse
from warehouse.errors import InputError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope


def _clean(value: Any) -> Any:
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return value


def run_metrics(warehouse: Warehouse, params: MetricsInput, *, scope: Scope | None = None) -> MetricsResult:
    spec = metric(params.metric)
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur, params.as_of)
        as_of = ctx.as_of
        period = (
            parse_period(params.period, ctx.calendar, as_of)
            if params.period
            else ctx.calendar.period_of(as_of, "quarter")
        )
        if period.start > as_of and spec.started:
            raise InputError(
                f"{period.name} has not started yet (today is {as_of}), so it has no {params.metric.replace('_', ' ')}.",
                "Ask about the current or a past period, or forecast the future one (spm forecast).",
            )
        sel = Selection.of(scope or Scope.everything(), resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        window = kpis.Window(cur, loader.Query(sel, tuple(params.by)), period, as_of, ctx.calendar)
        frame = spec.rows(window)
        fp = fingerprint(cur, [*spec.tables, "meta"])
    total = spec.total(frame) if len(frame) else None
    deals = int(frame["deals"].sum()) if "deals" in frame and len(frame) else None  # behind the total
    if "value" not in frame:  # no rows at all (an empty warehouse)
        frame = frame.assign(value=pd.Series(dtype=float))
    if params.below is not None:
        frame = frame[frame["value"] < params.below]
    if params.above is not None:
        frame = frame[frame["value"] > params.above]
    ascending = params.below is not None and params.above is None
    frame = frame.sort_values("value", ascending=ascending, na_position="last").head(params.limit)
    rows = [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return MetricsResult(
        summary=_summary(params, period.name, sel, rows, total, spec.unit, deals),
        metrics={
            "metric": params.metric,
            "period": period.name,
            "period_start": period.start.isoformat(),
            "period_end": (period.end - timedelta(days=1)).isoformat(),
            "as_of": as_of.isoformat(),
            "unit": spec.unit,
            "total": None if total is None else round(total, 6),
            **({"deals": deals} if deals is not None else {}),
            "rows": len(rows),
            "filters": {d: list(v) for d, v in sel.filters.items()},
            "by": list(params.by),
        },
        tables={"values": rows},
        recommendations=recommendations(params, period.name, rows),
        assumptions=[f"{params.metric.replace('_', ' ').capitalize()}: {spec.description}."],
        data_fingerprint=fp,
    )


def _summary(
    params: MetricsInput,
    period: str,
    sel: Selection,
    rows: list[dict[str, Any]],
    total: float | None,
    unit: str,
    deals: int | None = None,
) -> str:
    label = params.metric.replace("_", " ")
    text = (
        f"{label.capitalize()} in {period} ({sel.describe()}): {fmt.value(total, unit) if total is not None else 'n/a'}"
    )
    if deals is not None:
        text += f" from {fmt.count(deals)} deal{'s' if deals != 1 else ''}"
    if params.by:
        text += f"; {len(rows)} {'/'.join(params.by)} row{'s' if len(rows) != 1 else ''}"
        if params.below is not None:
            text += f" below {fmt.value(params.below, unit)}"
        elif params.above is not None:
            text += f" above {fmt.value(params.above, unit)}"
        elif rows:
            top = rows[0]
            text += f", highest {' '.join(str(top.get(d)) for d in params.by)} at {fmt.value(top['value'], unit)}"
    return text + "."
