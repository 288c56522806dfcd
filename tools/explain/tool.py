"""The variance explanation tool: why a slice's bookings are ahead of or behind last year, plan or
the previous period, as a decomposition into deals closed, win rate and deal size (largest
first), with the context beside it.

This module resolves the period, the windows and the selection (scope and filters), loads each
window's figures (tools/explain/loader.py), decomposes the gap (tools/explain/decompose.py) and
words the result (report.py, recommend.py).
"""

from __future__ import annotations

from datetime import date

from tools.core.context import PlanContext
from tools.core.periods import FORMS, parse_period
from tools.core.selection import Selection, resolve_filters
from tools.explain import loader
from tools.explain.models import FILTER_DIMS, ExplainInput, ExplainResult
from tools.explain.recommend import recommendations
from tools.explain.report import assumptions, driver_rows, metrics, summary, variance, warnings
from tools.explain.windows import compare, fiscal_period
from warehouse.calendar import FiscalCalendar, Period
from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope


def run_explain(warehouse: Warehouse, params: ExplainInput, *, scope: Scope | None = None) -> ExplainResult:
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur, params.as_of)
        period = _period(params.period, ctx.calendar, ctx.as_of)
        comparison = compare(ctx.calendar, period, ctx.as_of, params.against)
        sel = Selection.of(scope or Scope.everything(), resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        history = loader.has_history(cur)
        actual = loader.window_figures(cur, sel, comparison.actual, history)
        baseline = loader.window_figures(cur, sel, comparison.baseline, history)
        target = loader.slice_target(cur, sel, ctx.calendar, period) if params.against == "plan" else None
        fp = fingerprint(cur, loader.TABLES)
    if params.against == "plan" and target is None:
        raise InputError(
            f"No target is set for {sel.describe()} in {period.name}.",
            "Compare against last_year or last_period, or import targets (spm data import). Targets exist for "
            "region and segment slices, and quotas for a team or a rep; products have none.",
        )
    nothing = [f for f in (actual, baseline) if not f.deals.closed and not f.booked]
    if len(nothing) == 2 and params.against != "plan":
        raise NotFoundError(
            f"No closed deals or bookings for {sel.describe()} in {period.name} or {comparison.baseline_period.name}.",
            "Pick a period or slice with closed deals, or import opportunities and bookings (spm data import).",
        )
    v = variance(comparison, sel, actual, baseline, target)
    return ExplainResult(
        summary=summary(v),
        metrics=metrics(v, {d: list(values) for d, values in sel.filters.items()}),
        tables={"drivers": driver_rows(v)},
        recommendations=recommendations(v),
        assumptions=assumptions(v),
        warnings=warnings(v),
        data_fingerprint=fp,
    )


def _period(text: str | None, calendar: FiscalCalendar, as_of: date) -> Period:
    """The fiscal period asked (default: the current quarter), or an error naming valid ones."""
    if not text:
        return calendar.period_of(as_of, "quarter")
    try:
        period = parse_period(text, calendar, as_of)
    except InputError as exc:
        this = calendar.period_of(as_of, "quarter")
        examples = [calendar.shift(this, -1).name, this.name, f"FY{calendar.fiscal_year_of(as_of)}"]
        examples.append(calendar.period_of(as_of, "month").name)
        raise InputError(
            f"{text!r} is not a period I know.",
            f"Use a fiscal period that has started, e.g. {', '.join(examples)} (last quarter, this quarter, this "
            f"year, this month); the forms are {FORMS}.",
        ) from exc
    return fiscal_period(period, calendar, as_of)
