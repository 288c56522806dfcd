"""How an agent result looks to a person: answer, recommendations with impact, tool tables, trail.

The text helpers are pure (Slack and batch use them too); `render_result` prints with rich:
Markdown in a terminal, the Markdown source as plain text when piped.
"""

from __future__ import annotations

import sys
from typing import Any

from agent.result import AgentResult
from tools.core import format as fmt

TOOL_TABLE_ROWS = 6
TOOL_TABLE_COLUMNS = 6
COMPARISON_COLUMNS = ("metric", "baseline", "what_if", "change")


def impact_text(rec: dict[str, Any]) -> str:
    """'NA Enterprise capacity at P50: $8.63M -> $12.2M', or '' when the tool gave no impact."""
    imp = rec.get("impact") or {}
    if not imp:
        return ""
    return fmt.impact(str(imp.get("metric", "")), imp.get("before"), imp.get("after"), str(imp.get("unit", "")))


def trail_line(result: AgentResult) -> str:
    """question -> plan -> tool_call(forecast) -> ... : the run at a glance."""
    return " -> ".join(
        f"{s.kind}{'(' + s.name + ')' if s.name and s.kind in ('tool_call', 'error', 'approval') else ''}"
        for s in result.steps
    )


def status_line(result: AgentResult) -> str:
    grounded = (
        "grounded"
        if result.grounding.get("ok", True)
        else "NOT grounded: " + ", ".join(result.grounding.get("ungrounded", []))
    )
    return f"run {result.run_id} · thread {result.thread_id} · {result.status} · {result.model} · {grounded}"


def tool_table(tool_result: dict[str, Any]) -> tuple[str, list[str], list[dict[str, Any]]] | None:
    """The headline table of a tool result (its spec's first non-empty headline table, else its
    first table), cut to a glanceable size: (title, columns, rows)."""
    from tools.registry import BY_NAME  # here, not on top: `spm --help` must not import every tool

    tables = tool_result.get("tables") or {}
    spec = BY_NAME.get(str(tool_result.get("tool")))
    preferred = [n for n in (spec.headline_tables if spec else ()) if tables.get(n)]
    for name in preferred + list(tables):
        rows = tables[name]
        if not (rows and isinstance(rows, list) and isinstance(rows[0], dict)):
            continue
        if name == "comparison":  # the figures the what-if moves first, each in its own unit
            rows = sorted(rows, key=lambda r: 0 if r.get("change") else 1)
            groups = [c for c in rows[0] if c not in (*COMPARISON_COLUMNS, "unit")]
            columns = [*groups, *COMPARISON_COLUMNS]
        else:
            flat = [c for c in rows[0] if not isinstance(rows[0][c], dict | list)]
            if "value" in flat:  # a KPI's own figure comes right after the labels, never cut off
                labels = [c for c in flat if isinstance(rows[0][c], str)]
                flat = [*labels, "value", *(c for c in flat if c not in labels and c != "value")]
            columns = flat[:TOOL_TABLE_COLUMNS]
        title = f"{spec.heading if spec else tool_result.get('tool', 'result')}: {name.replace('_', ' ')}"
        return title, columns, rows[:TOOL_TABLE_ROWS]
    return None


def render_result(result: AgentResult, *, trail: bool = True, tables: bool = False) -> None:
    """Print a result: answer, recommendations (impact, confidence), optional tool tables, trail."""
    from rich.markdown import Markdown
    from rich.table import Table

    from interfaces.output import err, out
    from interfaces.render import result_units, table

    answer = result.answer or "(no answer)"
    if out().is_terminal:
        out().print(Markdown(answer))
    else:  # piped: the Markdown source is the plain text; rich would pad every line to the width
        sys.stdout.write(answer + "\n")
        sys.stdout.flush()
    if tables:
        for tool_result in result.tool_results:
            found = tool_table(tool_result)
            if found:
                title, columns, rows = found
                table(
                    title,
                    rows,
                    columns,
                    limit=TOOL_TABLE_ROWS,
                    tool=tool_result.get("tool"),
                    units=result_units(tool_result),
                )
    if result.recommendations:
        t = Table(title="Recommendations", title_justify="left")
        for column in ("#", "action", "impact", "confidence"):
            t.add_column(column, overflow="fold")
        for i, rec in enumerate(result.recommendations[:8], start=1):
            t.add_row(str(i), rec.get("action", ""), impact_text(rec), f"{rec.get('confidence', 0):.0%}")
        out().print(t)
    if trail:
        err().print(f"[dim]{status_line(result)}[/]", markup=True, highlight=False)
        err().print(f"[dim]{trail_line(result)}[/]")
