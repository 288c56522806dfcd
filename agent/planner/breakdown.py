"""A breakdown asked for, as a Markdown table inside the answer.

The table travels with the answer text, so `spm ask`, batch records, Slack and chat all show
it (a breakdown that only `spm chat` prints is a breakdown most users never see). Every cell
is a tool result field in the shared formats, so the grounding check traces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tools.core import format as fmt

MAX_ROWS = 40


def markdown_table(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def cell(text: str) -> str:
        return text.replace("|", "/").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return lines


def _label(row: dict[str, Any], dim: str) -> str:
    if dim == "rep":
        return str(row.get("name") or row.get("rep"))
    return str(row.get(dim, ""))


def forecast_table(result: dict[str, Any], by: list[str]) -> list[str]:
    """P50 (P10-P90) and target by the asked dimensions, for every forecast period (current first)."""
    rows = [r for r in (result.get("tables") or {}).get("current_period", []) if r.get("level") == by[-1]]
    rows += [r for r in (result.get("tables") or {}).get("forecast", []) if r.get("level") == by[-1]]
    if not rows:
        return []
    periods = list(dict.fromkeys(str(r.get("period")) for r in rows))
    body = []
    for r in rows[:MAX_ROWS]:
        cells = [str(r.get("period"))] if len(periods) > 1 else []
        cells += [_label(r, d) for d in by]
        cells += [
            fmt.money(r.get("p50")),
            f"{fmt.money(r.get('p10'))} – {fmt.money(r.get('p90'))}",
            fmt.money(r.get("target")),
            fmt.money(r.get("gap")),
        ]
        body.append(cells)
    columns = (["period"] if len(periods) > 1 else []) + list(by) + ["P50", "P10 – P90", "target", "gap to target"]
    lines = markdown_table(columns, body)
    if len(rows) > MAX_ROWS:
        lines.append("(more rows than shown here; `spm forecast --json` has every row)")
    return lines


def periods_table(result: dict[str, Any]) -> list[str]:
    """The total by period (a multi-period forecast without a breakdown): the shape over time."""
    rows = [r for r in (result.get("tables") or {}).get("forecast", []) if r.get("level") == "total"]
    if len(rows) < 2:
        return []
    body = [
        [
            str(r.get("period")),
            fmt.money(r.get("p50")),
            f"{fmt.money(r.get('p10'))} – {fmt.money(r.get('p90'))}",
            fmt.money(r.get("target")),
            fmt.money(r.get("gap")),
        ]
        for r in rows[:MAX_ROWS]
    ]
    return markdown_table(["period", "P50", "P10 – P90", "target", "gap to target"], body)


def metric_table(result: dict[str, Any]) -> list[str]:
    m = result.get("metrics") or {}
    by = list(m.get("by") or [])
    rows = (result.get("tables") or {}).get("values", [])
    if not by or not rows:
        return []
    unit = str(m.get("unit", ""))
    name = str(m.get("metric", "value")).replace("_", " ")
    body = [[*(_label(r, d) for d in by), fmt.value(r.get("value"), unit)] for r in rows[:MAX_ROWS]]
    lines = markdown_table([*by, name], body)
    if len(rows) > MAX_ROWS:
        lines.append("(more rows than shown here; `--json` has every row)")
    return lines


def rows_table(rows: list[dict[str, Any]], columns: list[tuple[str, str, str]]) -> list[str]:
    """Any result rows: `columns` = (key, heading, unit)."""
    body = [[fmt.value(r.get(key), unit) for key, _, unit in columns] for r in rows[:MAX_ROWS]]
    return markdown_table([heading for _, heading, _ in columns], body) if body else []
