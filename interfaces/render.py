"""Rendering tool results in the terminal: summary, tables, recommendations, warnings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from interfaces.output import err, money, out
from tools.contract import ToolResult

MONEY_COLUMNS = frozenset(
    [
        "p10",
        "p50",
        "p90",
        "mean",
        "target",
        "gap",
        "pipeline",
        "booked_to_date",
        "bookings",
        "p50_baseline",
        "p50_what_if",
        "delta",
        "p10_what_if",
        "p90_what_if",
        "amount",
        "quota",
        "potential",
        "arr",
        "value",
        "capacity_p50",
        "gap_p50",
        "payout",
        "quota_baseline",
        "quota_what_if",
        "recommended",
        "expected_bookings",
        "expected_payout",
        "history",
        "capacity_p10",
        "capacity_p90",
        "capacity_p50_with_plan",
        "capacity_with_plan",
        "remaining_gap",
        "expected_adds",
        "ote_cost",
    ]
)
RATIO_SUFFIX = "_ratio_"
PERCENT_COLUMNS = frozenset(
    [
        "win_rate",
        "p_win",
        "p_hit",
        "expected_attainment",
        "wape",
        "bias",
        "coverage_80",
        "capacity",
        "p_hit_baseline",
        "p_hit_what_if",
        "attrition_annual",
        "share_of_ramped_rep",
    ]
)
MULTIPLE_COLUMNS = frozenset({"coverage", "required_coverage"})
TEXT_COLUMNS = frozenset(
    [
        "period",
        "region",
        "segment",
        "product",
        "rep",
        "series",
        "level",
        "model",
        "stage",
        "name",
        "rep_id",
        "kind",
        "action",
        "metric",
        "user_id",
        "email",
        "slack_id",
        "role",
        "scope_kind",
        "scope_value",
    ]
)


def cell(column: str, value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if column in MONEY_COLUMNS:
            return money(float(value))
        if column in MULTIPLE_COLUMNS:
            return f"{value:.1f}x"
        if (
            column in PERCENT_COLUMNS
            or RATIO_SUFFIX in column
            or column in ("band_met", "optimality_gap", "tightest_band")
        ):
            return f"{value:.0%}"
        if isinstance(value, float):
            return f"{value:,.2f}"
    return escape(str(value))


def table(title: str, rows: list[dict[str, Any]], columns: Sequence[str], limit: int = 40) -> None:
    if not rows:
        return
    t = Table(title=title, title_justify="left")
    for c in columns:
        text = c in TEXT_COLUMNS
        t.add_column(c, justify="left" if text else "right", no_wrap=True)
    for row in rows[:limit]:
        t.add_row(*(cell(c, row.get(c)) for c in columns))
    out().print(t)
    if len(rows) > limit:
        out().print(f"[dim]... {len(rows) - limit} more rows (use --json for all)[/]")


def recommendations_and_warnings(result: ToolResult) -> None:
    if result.recommendations:
        t = Table(title="Recommendations", title_justify="left", show_lines=True)
        for c in ("#", "action", "impact", "confidence"):
            t.add_column(c, overflow="fold")
        for i, rec in enumerate(result.recommendations, start=1):
            imp = rec.impact
            if imp.unit == "USD":
                impact = f"{imp.metric}: {money(imp.before)} -> {money(imp.after)}"
            else:
                unit = {"x": "x", "%": "%", "points": " pts", "count": "", "months": " mo"}[imp.unit]
                before = "-" if imp.before is None else f"{imp.before:.1f}{unit}"
                after = "-" if imp.after is None else f"{imp.after:.1f}{unit}"
                impact = f"{imp.metric}: {before} -> {after}"
            t.add_row(
                str(i),
                escape(rec.action) + "\n[dim]" + escape(rec.rationale) + "[/]",
                escape(impact),
                f"{rec.confidence:.0%}",
            )
        out().print(t)
    for w in result.warnings:
        err().print(f"[yellow]warning:[/] {escape(w.message)}")
