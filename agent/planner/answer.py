"""The offline planner's answers, written from templates over the tools' structured results.

The answer contract: each tool's line starts with the figure it was asked for (its summary
names the slice and period), with the constraints it ran with in words; a breakdown asked
for follows as a table; a what-if states baseline, what-if and change, the asked period and
the changed group first; recommendations are de-duplicated and plausible. Every number comes
from a tool result field, formatted the way the grounding check recognises; nothing is
computed here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agent.planner import breakdown
from agent.planner.describe import describe
from agent.planner.verdict import verdict
from prompts import answers
from tools.core import format as fmt
from tools.core.whatif import comparison_lines
from tools.registry import BY_NAME

ROWS_SHOWN = 5
WHAT_IF_LINES = 6
RECOMMENDATIONS_SHOWN = 5
GROUP_KEYS = ("region", "segment", "product", "rep", "manager")
_IMPLAUSIBLE = re.compile(r"\bby 100%|\b-100%|\bto \$0\b", re.IGNORECASE)


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


def _is_group_row(row: Mapping[str, Any]) -> bool:
    return any(k in row and str(row[k]) not in ("All", "") for k in GROUP_KEYS)


def _what_if_rows(tool: str, result: dict[str, Any]) -> list[dict[str, Any]]:
    """The comparison rows a reader looks for first: what changed, in the asked period (the
    forecast's first period), the changed group before the whole (quota), P50 before P10/P90."""
    rows = list(result.get("tables", {}).get("comparison", []))
    first = (result.get("metrics") or {}).get("first_period")

    def key(row: dict[str, Any]) -> tuple[int, ...]:
        changed = 0 if row.get("change") else 1
        period = 0 if first is None or row.get("period") in (None, first) else 1
        group = 0 if _is_group_row(row) else 1
        p50 = 0 if "P50" in str(row.get("metric")) or "expected" in str(row.get("metric")) else 1
        if tool == "forecast":
            return (changed, period, p50, 1 - group)
        return (changed, group, p50)

    return sorted(rows, key=key)


PER_REP = re.compile(
    r"\b(?:per[- ]rep|by rep|each rep|every rep|rep by rep|which reps|who (?:gains?|loses?)|gain\w* and|los\w* and"
    r"|show me (?:the )?reps)\b",
    re.IGNORECASE,
)


def _tables(tool: str, args: dict[str, Any], result: dict[str, Any], question: str = "") -> list[str]:
    """The breakdown asked for (forecast and metrics `by`, per rep), or the table that is the answer."""
    tables = result.get("tables") or {}
    if tool == "quota_simulate" and PER_REP.search(question) and tables.get("reps"):
        return breakdown.rows_table(
            [r for r in tables["reps"] if r.get("kind") == "rep"] or tables["reps"],
            [
                ("name", "rep", "text"),
                ("region", "region", "text"),
                ("segment", "segment", "text"),
                ("quota", "quota", "USD"),
                ("p_hit", "P(hit)", "share"),
                ("expected_attainment", "expected attainment", "share"),
            ],
        )
    if tool == "territory_rebalance" and PER_REP.search(question) and tables.get("reps"):
        first = tables["reps"][0]
        metric = next(
            (k[: -len("_before")] for k in first if k.endswith("_before") and not k.startswith("accounts")), ""
        )
        wanted = [
            ("name", "rep", "text"),
            (f"{metric}_before", f"{metric} before", "USD"),
            (f"{metric}_after", f"{metric} after", "USD"),
            (f"{metric}_ratio_after", "of target after", "share"),
            ("accounts_before", "accounts before", "count"),
            ("accounts_after", "accounts after", "count"),
        ]
        return breakdown.rows_table(tables["reps"], [c for c in wanted if c[0] in first])
    if tool == "forecast" and AT_RISK.search(question) and tables.get("deals_to_watch"):
        return breakdown.rows_table(
            tables["deals_to_watch"],
            [
                ("opp_id", "deal", "text"),
                ("amount", "amount", "USD"),
                ("stage", "stage", "text"),
                ("close_date", "close", "text"),
                ("p_win", "P(win)", "share"),
                ("risk", "risk", "USD"),
                ("reasons", "why", "text"),
            ],
        )
    if tool == "pipeline_movement":
        return _movement_table(args, tables, question)
    if tool == "forecast" and args.get("by"):
        return breakdown.forecast_table(result, list(args["by"]))
    if tool == "forecast":
        return breakdown.periods_table(result)
    if tool == "metrics":
        return breakdown.metric_table(result)
    if tool == "capacity_gap" and tables.get("groups"):
        return breakdown.rows_table(
            tables["groups"],
            [
                ("region", "region", "text"),
                ("segment", "segment", "text"),
                ("target", "target", "USD"),
                ("capacity_p50", "capacity P50", "USD"),
                ("gap_p50", "gap P50", "USD"),
                ("hires", "hires", "count"),
            ],
        )
    if tool == "compare_plans" and tables.get("options"):
        return _options_table(result)
    if tool == "explain_variance" and tables.get("drivers"):
        body = [
            [
                str(r.get("driver")),
                fmt.value(r.get("reference"), str(r.get("unit", ""))),
                fmt.value(r.get("actual"), str(r.get("unit", ""))),
                fmt.change(r.get("contribution"), "USD") if r.get("contribution") is not None else "",
            ]
            for r in tables["drivers"]
        ]
        # Against plan the drivers still compare with last year (no plan of the drivers exists).
        against = str((result.get("metrics") or {}).get("against", ""))
        reference = "previous period" if against == "last_period" else "last year"
        return breakdown.markdown_table(["driver", reference, "now (or plan)", "effect on bookings"], body)
    return []


AT_RISK = re.compile(r"\bat risk\b|\brisk(?:y|iest)?\b|\bin danger\b|\bshaky\b|\bwatch\b|\bslipp?ing\b", re.I)


FLOW_WORDS = {
    "new": r"\bnew\b|created",
    "pulled_in": r"pull\w* in|pulled forward",
    "pushed_out": r"push\w*|slip\w*",
    "won": r"\bwon\b|\bwins?\b|closed",
    "lost": r"\blost\b|\blos(?:s|ses|ing)\b|closed",
    "amount_up": r"amounts?|upsized|grew",
    "amount_down": r"amounts?|cut|downsized|shr[aiu]nk",
}


def _movement_table(args: dict[str, Any], tables: dict[str, Any], question: str) -> list[str]:
    """The breakdown asked for, else the waterfall's bars that moved value and those the question
    names (a "what got pushed out?" answered with its $0)."""
    if args.get("by") and tables.get("by_group"):
        dims = [(d, d, "text") for d in args["by"]]
        flows = [("start", "start", "USD"), ("new", "new", "USD"), ("pulled_in", "pulled in", "USD")]
        flows += [("pushed_out", "pushed out", "USD"), ("won", "won", "USD"), ("lost", "lost", "USD")]
        flows += [("end", "end", "USD"), ("net", "net", "USD")]
        return breakdown.rows_table(tables["by_group"], [*dims, *flows])
    named = {flow for flow, words in FLOW_WORDS.items() if re.search(words, question, re.I)}
    steps = [r for r in tables.get("waterfall", []) if r["step"] in ("start", "end", *named) or r["amount"]]
    return breakdown.rows_table(
        steps, [("label", "step", "text"), ("amount", "amount", "USD"), ("deals", "deals", "count")]
    )


def _options_table(result: dict[str, Any]) -> list[str]:
    """Every option with the objective first, ranked, the winner marked."""
    from tools.compare.objectives import SHOWN

    m = result.get("metrics") or {}
    rows = sorted(result["tables"]["options"], key=lambda r: r.get("rank") or 99)
    shown = tuple(c for c in SHOWN.get(str(m.get("compared")), ()) if c[0] in rows[0])
    unit = str(m.get("unit", ""))
    body = [
        [
            f"{r['option']}{' (best)' if r['option'] == m.get('winner') else ''}",
            fmt.value(r.get("objective"), unit),
            *(fmt.value(r.get(column), column_unit) for column, _, column_unit in shown),
        ]
        for r in rows
    ]
    columns = ["option", str(m.get("objective_label", "objective")), *(c.replace("_", " ") for c, _, _ in shown)]
    return breakdown.markdown_table(columns, body)


CURRENT = re.compile(r"\bthis (?:quarter|q|period)\b|\bcurrent quarter\b|\bqtd\b|\bquarter to date\b", re.IGNORECASE)


def _current_lead(result: dict[str, Any], question: str) -> str | None:
    """ "Where do we land this quarter?": the period in progress first, not the next one."""
    rows = (result.get("tables") or {}).get("current_period") or []
    if not CURRENT.search(question) or not rows:
        return None
    slices = [r for r in rows if r.get("level") != "total"]
    row = slices[0] if len(slices) == 1 else next((r for r in rows if r.get("level") == "total"), rows[0])
    where = " ".join(str(row[k]) for k in ("region", "segment", "product", "rep") if k in row and row[k] != "All")
    target = f" against a {fmt.money(row.get('target'))} target" if row.get("target") else ""
    return (
        f"{row.get('period')} (this quarter){' for ' + where if where else ''}: {fmt.money(row.get('booked_to_date'))} "
        f"booked so far, landing at P50 {fmt.money(row.get('p50'))} (P10 {fmt.money(row.get('p10'))}, "
        f"P90 {fmt.money(row.get('p90'))}){target}."
    )


WHY = re.compile(r"\bwhy\b|what'?s (?:driving|dragging|behind)|\bdrivers?\b|\bdragging\b|\bexplain\b", re.IGNORECASE)


def _drivers(tool: str, result: dict[str, Any], question: str) -> list[str]:
    """ "...and why?" of a forecast or a capacity plan: the figures that make the gap, biggest first."""
    if not WHY.search(question):
        return []
    tables = result.get("tables") or {}
    if tool == "forecast":
        first = (result.get("metrics") or {}).get("first_period")
        rows = [r for r in tables.get("forecast", []) if r.get("period") == first]
        row = next((r for r in rows if r.get("level") != "total"), None) if len(rows) == 1 else None
        row = row or next((r for r in rows if r.get("level") == "total"), rows[0] if rows else None)
        if not row or not isinstance(row.get("coverage"), int | float):
            return []
        return [
            f"Drivers of the gap in {first}: pipeline closing in the period is {fmt.money(row.get('pipeline'))}, "
            f"{fmt.multiple(row.get('coverage'))} coverage against the {fmt.multiple(row.get('required_coverage'))} "
            f"a win rate of {fmt.share(row.get('win_rate'))} needs; {fmt.money(row.get('to_build'))} more pipeline "
            "would close it."
        ]
    if tool == "capacity_gap" and tables.get("groups"):
        worst = max(tables["groups"], key=lambda g: g.get("gap_p50") or 0.0)
        return [
            f"The biggest gap is {worst.get('region')} {worst.get('segment')}, {fmt.money(worst.get('gap_p50'))} at "
            f"P50. Its drivers: {fmt.count(worst.get('headcount'))} AEs producing "
            f"{fmt.money(worst.get('productivity_per_month'))} a month each when ramped, a "
            f"{fmt.count(worst.get('ramp_months'))}-month ramp and {fmt.share(worst.get('attrition_annual'))} "
            f"attrition a year; {fmt.count(worst.get('hires'))} hires close it."
        ]
    return []


def _key(action: str) -> str:
    """Recommendations that say the same thing ("in region APAC", "in APAC") share one key."""
    text = re.sub(r"\b(?:region|segment|the)\s+", "", action.lower())
    return " ".join(re.findall(r"[\w$.%]+", text))


def _recommendations(calls: list[dict[str, Any]]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for call in calls:
        result = call.get("result") or {}
        for rec in result.get("recommendations", [])[:3]:
            action = str(rec.get("action", "")).strip()
            if not action or _IMPLAUSIBLE.search(action) or _key(action) in seen:
                continue
            seen.add(_key(action))
            out.append(action)
    return out[:RECOMMENDATIONS_SHOWN]


def _chain_line(call: dict[str, Any], previous: list[dict[str, Any]]) -> str | None:
    """'On the quota plan saved as X in the step before': a chain's link, stated."""
    used = call["args"].get("scenario_id")
    for before in previous:
        saved = ((before.get("result") or {}).get("metrics") or {}).get("saved_scenario")
        if isinstance(saved, dict) and saved.get("name") == used:
            heading = BY_NAME[before["name"]].heading if before["name"] in BY_NAME else before["name"]
            return f"(Chained: this ran on the draft scenario {used} that the {heading.lower()} step saved.)"
    return None


def compose(calls: list[dict[str, Any]], question: str = "") -> str:
    """Markdown answer for the tool calls of one request.

    `calls`: [{"name", "args", "status": "success"|"error", "content", "result": dict | None}].
    """
    t = answers()
    lines: list[str] = []
    done = [c for c in calls if c["status"] != "error" and c.get("result")]
    settled = verdict(question, done)
    current = next((_current_lead(c["result"], question) for c in done if c["name"] == "forecast"), None)
    if settled or current:
        lines += [settled or current or "", ""]
    warnings: list[list[str]] = []  # per tool: a count the reader can trace to that tool's result
    for i, call in enumerate(calls):
        spec = BY_NAME.get(call["name"])
        heading = spec.heading if spec else call["name"]
        if call["status"] == "error" or call.get("result") is None:
            lines.append(t["tool_error"].format(heading=heading, error=str(call["content"]).strip()))
            continue
        result = call["result"]
        if i:
            lines.append("")
        lines.append(
            t["tool_line"].format(
                heading=heading, args=describe(call["name"], call["args"]), summary=result.get("summary", "")
            )
        )
        link = _chain_line(call, calls[:i])
        if link:
            lines.append(link)
        if call["name"] == "scenarios":
            lines.extend(_scenario_rows(result))
        comparison = result.get("tables", {}).get("comparison")
        if comparison and "what_if" in result.get("metrics", {}):
            rows = _what_if_rows(call["name"], result)
            lines.append(t["what_if_intro"])
            lines.extend(f"- {line}" for line in comparison_lines(rows, limit=WHAT_IF_LINES))
        lines.extend(_drivers(call["name"], result, question))
        table = _tables(call["name"], call["args"], result, question)
        if table:
            lines.append("")
            lines.extend(table)
        if result.get("warnings"):
            warnings.append([w["message"] for w in result["warnings"]])
    recommendations = _recommendations(calls)
    if recommendations:
        lines.append("")
        lines.append(t["recommendation_intro"])
        lines.extend(f"- {action}" for action in recommendations)
    seen: set[str] = set()
    for found in warnings:
        if found[0] in seen:
            continue  # two tools reading the same data report the same first problem: say it once
        seen.add(found[0])
        lines.append("")
        lines.append(t["warnings_line"].format(count=len(found), first=found[0]))
    return "\n".join(lines).strip()
