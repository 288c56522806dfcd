"""How an agent result looks to a person: answer, recommendations with impact, tool tables, trail.

The text helpers are pure (Slack and batch use them too); `render_result` prints with rich:
Markdown in a terminal, plain text (Markdown markers removed) when piped. Recommendations print
once, in the table: the answer's own list of them is left out of the terminal view.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from agent.result import AgentResult
from tools.core import format as fmt

TOOL_TABLE_ROWS = 6
TOOL_TABLE_COLUMNS = 6
COMPARISON_COLUMNS = ("metric", "baseline", "what_if", "change")
RECOMMENDATIONS_SHOWN = 12
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^#{1,6}\s+")


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


def aligned_table(table: list[str]) -> list[str]:
    """A Markdown pipe table with its columns padded to one width, so it reads in a pipe or a file
    (and stays a Markdown table)."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table]
    body = [r for i, r in enumerate(rows) if not (i == 1 and all(set(c) <= set("-: ") for c in r))]
    widths = [max(len(r[i]) if i < len(r) else 0 for r in body) for i in range(max(map(len, body)))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells + [""] * len(widths), widths, strict=False)) + " |"

    return [line(body[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body[1:])]


def plain_text(markdown: str) -> str:
    """Markdown as plain text for pipes and files: `**Forecast**` -> `Forecast`, `` `run-1` `` ->
    `run-1`, `[a](url)` -> `a (url)`, no `#` before headings, tables aligned; `- ` bullets stay."""
    lines: list[str] = []
    table: list[str] = []
    for raw in [*markdown.splitlines(), ""]:
        if raw.lstrip().startswith("|") and raw.rstrip().endswith("|") and len(raw.strip()) > 1:
            table.append(raw)
            continue
        if table:
            lines += aligned_table(table) if len(table) > 1 else table
            table = []
        line = _HEADING.sub("", raw)
        line = _BOLD.sub(lambda m: m[1] or m[2], line)
        line = _CODE.sub(r"\1", line)
        lines.append(_LINK.sub(r"\1 (\2)", line))
    return "\n".join(lines[:-1])


def without_listed_recommendations(answer: str, actions: list[str]) -> str:
    """The answer without the items of its "What to do:" list that are among `actions` (they are
    shown in the recommendations table instead), so no recommendation prints twice; the list
    goes altogether when every item is in the table."""
    from prompts import answers

    intro = str(answers().get("recommendation_intro", "What to do:")).strip()
    lines = answer.splitlines()
    stripped = [line.strip() for line in lines]
    if intro not in stripped:
        return answer
    start = stripped.index(intro)
    end = start + 1
    while end < len(lines) and lines[end].startswith("- "):
        end += 1
    kept = [line for line in lines[start + 1 : end] if line[2:].strip() not in actions]
    if kept:
        return "\n".join([*lines[: start + 1], *kept, *lines[end:]])
    if end < len(lines) and not lines[end].strip():
        end += 1  # the blank line that separated the list from what follows
    elif start > 0 and not lines[start - 1].strip():
        start -= 1
    return "\n".join(lines[:start] + lines[end:]).strip()


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
    from rich.markup import escape
    from rich.table import Table

    from interfaces.output import err, out, terminal_safe
    from interfaces.render import result_units, table

    shown = result.recommendations[:RECOMMENDATIONS_SHOWN]
    answer = without_listed_recommendations(result.answer, [str(r.get("action", "")) for r in shown])
    answer = answer or "(no answer)"
    if out().is_terminal:
        out().print(Markdown(answer))
    else:  # piped: plain text; rich would pad every line to the width
        sys.stdout.write(terminal_safe(plain_text(answer)) + "\n")
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
    if shown:
        t = Table(title="Recommendations", title_justify="left")
        for column in ("#", "action", "impact", "confidence"):
            t.add_column(column, overflow="fold")
        for i, rec in enumerate(shown, start=1):
            t.add_row(
                str(i),
                escape(str(rec.get("action", ""))),
                escape(impact_text(rec)),
                f"{rec.get('confidence', 0):.0%}",
            )
        out().print(t)
        more = len(result.recommendations) - len(shown)
        if more > 0:
            out().print(f"[dim]... {more} more recommendation{'s' if more > 1 else ''} (use --json for all)[/]")
    if trail:
        err().print(f"[dim]{escape(status_line(result))}[/]", markup=True, highlight=False)
        err().print(f"[dim]{escape(trail_line(result))}[/]")
