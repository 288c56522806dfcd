"""Rendering tool results in the terminal: summary, tables, recommendations, warnings.

Cells read the way the tool's spec says its columns read (tools/spec.py, tools/core/format.py);
a comparison row (the one what-if shape) carries its own unit. Slack and batch use `cell` too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table

from interfaces.output import err, out
from tools.contract import ToolResult
from tools.core import format as fmt
from tools.spec import ToolSpec

COMPARISON_VALUES = ("baseline", "what_if")


def _spec(tool: str | None) -> ToolSpec | None:
    from tools.registry import BY_NAME

    return BY_NAME.get(tool or "")


def _unit(column: str, spec: ToolSpec | None, units: dict[str, str] | None) -> str | None:
    """How a column reads: as the result states (`units`), else as its tool's spec says."""
    if units and column in units:
        return units[column]
    return spec.unit(column) if spec is not None else fmt.COMMON_UNITS.get(column)


def result_units(tool_result: dict[str, Any] | ToolResult) -> dict[str, str]:
    """Columns whose unit the result itself states: a KPI's `value` column reads in the KPI's unit
    (`metrics.unit`: a coverage of 9.90 is 9.90x, a win rate of 0.2 is 20%), not as money."""
    metrics = tool_result.metrics if isinstance(tool_result, ToolResult) else tool_result.get("metrics") or {}
    unit = metrics.get("unit") if isinstance(metrics, dict) else None
    return {"value": unit} if isinstance(unit, str) and unit in fmt.UNITS else {}


def cell(
    column: str,
    value: Any,
    *,
    tool: str | None = None,
    row: dict[str, Any] | None = None,
    units: dict[str, str] | None = None,
) -> str:
    """One table cell as text: in its column's unit (the row's own unit for what-if comparisons,
    `units` for columns whose unit the result states, see `result_units`)."""
    if value is None or (isinstance(value, float) and value != value):
        return fmt.MISSING
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(str(value))
    if row is not None and "unit" in row and column in (*COMPARISON_VALUES, "change"):
        row_unit = str(row["unit"])
        return fmt.change(value, row_unit) if column == "change" else fmt.value(value, row_unit)
    unit = _unit(column, _spec(tool), units)
    if unit is not None and unit != "text":
        return fmt.value(value, unit)
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:,}"


def headline(result: ToolResult) -> None:
    """The result's one-sentence summary, in bold; it quotes names from the data and from people
    (scenarios, regions, reps), so it is printed as text, never read as markup."""
    out().print(f"[bold]{escape(result.summary)}[/]")


def saved_scenario(result: ToolResult, what: str) -> None:
    """The draft a tool saved (`metrics.saved_scenario`), if it saved one."""
    saved = result.metrics.get("saved_scenario")
    if saved:
        err().print(
            f"Saved draft scenario {saved['scenario_id']} ({saved['name']}, {saved['changes']} {what}).", markup=False
        )


def table(
    title: str,
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    limit: int = 40,
    *,
    tool: str | None = None,
    units: dict[str, str] | None = None,
    wrap: Sequence[str] = (),
) -> None:
    """Rows as a table; `wrap` columns (long prose such as a move's reason) wrap onto several
    lines instead of squeezing the others."""
    if not rows:
        return
    t = Table(title=title, title_justify="left")
    spec = _spec(tool)
    for c in columns:
        unit = _unit(c, spec, units)
        text = unit == "text" or (unit is None and isinstance(rows[0].get(c), str))
        if c in wrap:
            t.add_column(escape(c), justify="left", ratio=1, overflow="fold")
        else:
            t.add_column(escape(c), justify="left" if text else "right", no_wrap=True)  # a compare's scenario names
    for row in rows[:limit]:
        t.add_row(*(cell(c, row.get(c), tool=tool, row=row, units=units) for c in columns))
    out().print(t)
    if len(rows) > limit:
        out().print(f"[dim]... {len(rows) - limit} more rows (use --json for all)[/]")


def comparison_table(result: ToolResult, title: str = "What-if vs baseline") -> None:
    """The what-if beside its baseline (tables.comparison), whatever the tool: the one what-if view."""
    rows = result.tables.get("comparison") or []
    if not rows:
        return
    fixed = ("metric", "unit", "baseline", "what_if", "change")
    groups = [c for c in rows[0] if c not in fixed]
    for row in rows[1:]:
        groups += [c for c in row if c not in fixed and c not in groups]
    if result.metrics.get("what_if_inputs"):
        title += f" ({', '.join(result.metrics['what_if_inputs'])})"
    table(title, rows, [*groups, "metric", "baseline", "what_if", "change"], tool=result.tool)


def recommendations_and_warnings(result: ToolResult) -> None:
    if result.recommendations:
        t = Table(title="Recommendations", title_justify="left", show_lines=True)
        for c in ("#", "action", "impact", "confidence"):
            t.add_column(c, overflow="fold")
        for i, rec in enumerate(result.recommendations, start=1):
            imp = rec.impact
            t.add_row(
                str(i),
                escape(rec.action) + "\n[dim]" + escape(rec.rationale) + "[/]",
                escape(fmt.impact(imp.metric, imp.before, imp.after, imp.unit)),
                f"{rec.confidence:.0%}",
            )
        out().print(t)
    for w in result.warnings:
        err().print(f"[yellow]warning:[/] {escape(w.message)}")
