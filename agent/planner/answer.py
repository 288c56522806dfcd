"""The offline planner's answers, written from templates over the tools' structured results.

Every number comes from a tool result field (its summary sentence, a metric or a table row),
formatted the way the grounding check recognises; nothing is computed here.
"""

from __future__ import annotations

from typing import Any

from prompts import answers
from tools.core import format as fmt
from tools.core.whatif import comparison_lines
from tools.registry import BY_NAME

ROWS_SHOWN = 5


def _args(args: dict[str, Any]) -> str:
    parts = []
    for key, value in args.items():
        if value in (None, [], {}):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={'/'.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items())
        elif isinstance(value, list):
            value = ", ".join(
                f"{v['dim']}={v['value']}:{v['pct']:+g}%" if isinstance(v, dict) and "pct" in v else str(v)
                for v in value
            )
        parts.append(f"{key} {value}")
    return "; ".join(parts) or "defaults"


def _metric_rows(result: dict[str, Any]) -> list[str]:
    m = result.get("metrics", {})
    by = m.get("by") or []
    rows = result.get("tables", {}).get("values", [])
    if not by or not rows:
        return []
    lines = []
    for row in rows[:ROWS_SHOWN]:
        label = " ".join(str(row.get("name") or row.get(d)) if d == "rep" else str(row.get(d)) for d in by)
        lines.append(f"- {label}: {fmt.value(row.get('value'), m.get('unit', ''))}")
    if len(rows) > ROWS_SHOWN:
        lines.append(f"- ... ({len(rows)} rows in all)")
    return lines


def _scenario_rows(result: dict[str, Any]) -> list[str]:
    rows = result.get("tables", {}).get("scenarios", [])
    # The most recent first: the one just saved is the one a user looks for in a long list.
    recent = sorted(rows, key=lambda row: str(row.get("created_at") or ""), reverse=True)
    lines = [
        f"- {row.get('name')} ({row.get('kind', '')}, {row.get('status', '')})" for row in recent[: ROWS_SHOWN * 2]
    ]
    if len(rows) > ROWS_SHOWN * 2:
        lines.append(f"- ... ({len(rows)} scenarios in all, the {ROWS_SHOWN * 2} most recent shown)")
    return lines


def compose(calls: list[dict[str, Any]]) -> str:
    """Markdown answer for the tool calls of one request.

    `calls`: [{"name", "args", "status": "success"|"error", "content", "result": dict | None}].
    """
    t = answers()
    lines: list[str] = []
    recommendations: list[str] = []
    warnings: list[str] = []
    for call in calls:
        spec = BY_NAME.get(call["name"])
        heading = spec.heading if spec else call["name"]
        if call["status"] == "error" or call.get("result") is None:
            lines.append(t["tool_error"].format(heading=heading, error=str(call["content"]).strip()))
            continue
        result = call["result"]
        lines.append(
            t["tool_line"].format(heading=heading, args=_args(call["args"]), summary=result.get("summary", ""))
        )
        if call["name"] == "metrics":
            lines.extend(_metric_rows(result))
        if call["name"] == "scenarios":
            lines.extend(_scenario_rows(result))
        comparison = result.get("tables", {}).get("comparison")
        if comparison and "what_if" in result.get("metrics", {}):
            lines.extend(f"- {line}" for line in comparison_lines(comparison, limit=ROWS_SHOWN))
        recommendations += [r["action"] for r in result.get("recommendations", [])[:3]]
        warnings += [w["message"] for w in result.get("warnings", [])]
    if recommendations:
        lines.append("")
        lines.append(t["recommendation_intro"])
        lines.extend(f"- {action}" for action in recommendations[:5])
    if warnings:
        lines.append("")
        lines.append(t["warnings_line"].format(count=len(warnings), first=warnings[0]))
    return "\n".join(lines).strip()
