"""The pipeline movement tool: what changed in a slice's open pipeline between two days.

This module resolves the days, the close window and the selection (scope and filters), loads
the deals and their recorded changes (loader.py), computes the flows (movement.py, pure) and
words the result (report.py).
"""

from __future__ import annotations

from datetime import date

from tools.core.context import PlanContext
from tools.core.days import parse_day
from tools.core.periods import parse_period
from tools.core.selection import Selection, resolve_filters, validate_by
from tools.pipeline import loader, report
from tools.pipeline.models import BY_DIMS, FILTER_DIMS, MovementInput, MovementResult
from tools.pipeline.movement import CloseWindow, movement
from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.errors import InputError, NotFoundError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope

ALL = ("all", "any", "everything", "all open", "whole pipeline", "total")
DEFAULT_DAYS = 7


def close_window(text: str | None, calendar: FiscalCalendar, until: date) -> CloseWindow | None:
    """The close-date window: the named period, None for 'all', else the quarter `until` is in."""
    if text is not None and text.strip().lower() in ALL:
        return None
    period = parse_period(text, calendar, until) if text else calendar.period_of(until, "quarter")
    return CloseWindow(period.start, period.end, period.name)


def days(params: MovementInput, ctx: PlanContext) -> tuple[date, date]:
    until = parse_day(params.until, ctx.as_of, ctx.calendar) if params.until else ctx.as_of
    since = parse_day(params.since, until, ctx.calendar) if params.since else None
    since = since if since is not None else date.fromordinal(until.toordinal() - DEFAULT_DAYS)
    if since >= until:
        raise InputError(
            f"The movement runs from {since} to {until}: the first day must be before the second.",
            "Give an earlier `since` (e.g. 'last Monday', '2 weeks ago', 'quarter start') or a later `until`.",
        )
    if until > ctx.as_of:
        raise InputError(
            f"{until} is after the data's as-of date {ctx.as_of}: nothing is recorded for it yet.",
            f"Use a day on or before {ctx.as_of}.",
        )
    return since, until


def run_movement(warehouse: Warehouse, params: MovementInput, *, scope: Scope | None = None) -> MovementResult:
    with warehouse.reader() as cur:
        ctx = PlanContext.read(cur)
        since, until = days(params, ctx)
        window = close_window(params.close_in, ctx.calendar, until)
        by = validate_by(params.by, BY_DIMS)
        sel = Selection.of(scope or Scope.everything(), resolve_filters(cur, params.filters, allowed=FILTER_DIMS))
        deals = loader.deals(cur, sel, until)
        history = loader.history(cur, sel, until)
        closed, won, order = loader.stages(cur)
        fp = fingerprint(cur, loader.TABLES)
    if deals.empty:
        raise NotFoundError(
            f"No opportunities for {sel.describe()} created by {until}.",
            "Pick another slice or later day, or import opportunities (spm data import).",
        )
    moved = movement(deals, history, since, until, closed_stages=closed, won_stages=won, window=window)
    view = report.View(moved, sel, by, order)
    return MovementResult(
        summary=report.summary(view),
        metrics=report.metrics(view, {d: list(v) for d, v in sel.filters.items()}),
        tables=report.tables(view),
        recommendations=report.recommendations(view),
        assumptions=report.assumptions(view),
        warnings=report.warnings(view),
        data_fingerprint=fp,
    )
