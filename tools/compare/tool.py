"""Run every option of a question with the same seed (common random numbers: the options differ
by their plans, not by their dice), rank them on the objective, and name the winner and why."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import ValidationError

from tools.compare.models import CompareInput, CompareResult
from tools.compare.objectives import OBJECTIVES, SHOWN, Objective, objective
from tools.contract import Impact, Recommendation, ToolResult
from tools.core import format as fmt
from tools.core.whatif import lookup
from warehouse.connection import Warehouse
from warehouse.errors import InputError, SpmError
from warehouse.identity import User

# The same draws for every option, within the tools' own caps; a comparison saves nothing.
FIXED = ("seed", "trials", "time_limit", "save_scenario")


def _merged(base: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in args.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _figure(metrics: dict[str, Any], path: str) -> float | None:
    if "{balanced}" in path:
        after = metrics.get("after") or {}
        path = path.replace("{balanced}", next(iter(after), "potential"))
    try:
        value = lookup(metrics, path)
    except (KeyError, IndexError, TypeError):
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _run_option(warehouse: Warehouse, params: CompareInput, label: str, args: dict[str, Any], user: User) -> ToolResult:
    from tools.registry import tool as registered  # here: the registry imports this tool's spec

    spec = registered(params.tool)
    assert spec.run is not None
    fixed = [k for k in FIXED if k in args]
    if fixed:
        raise InputError(
            f"Option {label!r} sets {', '.join(fixed)}: every option runs on the same draws and saves nothing.",
            "Leave seed, trials, time_limit and save_scenario out (save the winner afterwards).",
        )
    try:
        tool_input = spec.input_model.model_validate(_merged(params.base, args))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        raise InputError(f"Option {label!r} has invalid arguments for {params.tool}: {problems}.") from None
    try:
        return spec.run(warehouse, tool_input, user)
    except SpmError as exc:  # the same kind of error (a scope refusal stays a refusal), naming the option
        raise type(exc)(f"Option {label!r} could not run: {exc.message}", exc.hint) from None


def _ranked(values: list[tuple[str, float | None]], goal: Objective) -> list[tuple[str, float]]:
    known = [(label, v) for label, v in values if v is not None]
    return sorted(known, key=lambda lv: -lv[1] if goal.better == "higher" else lv[1])


def _period(result: ToolResult) -> str:
    """The period the options were judged on, as their results name it."""
    m = result.metrics
    name = m.get("first_period") or m.get("period")
    return f" for {name}" if name else ""


def _summary(heading: str, goal: Objective, ranked: list[tuple[str, float]], count: int, period: str) -> str:
    (winner, best), rest = ranked[0], ranked[1:]
    others = ", ".join(f"{label} {fmt.value(v, goal.unit)}" for label, v in rest)
    tie = [label for label, v in rest if abs(v - best) <= 1e-9 * max(1.0, abs(best))]
    if tie:
        return (
            f"Of {count} {heading.lower()} options{period}, {winner} and {', '.join(tie)} tie on {goal.label} "
            f"({fmt.value(best, goal.unit)}); the others: {others}."
        )
    return (
        f"Of {count} {heading.lower()} options{period}, {winner} is best on {goal.label} with {fmt.value(best, goal.unit)}"
        f" ({goal.better} is better), ahead of {others}."
    )


def run_compare(warehouse: Warehouse, params: CompareInput, user: User) -> CompareResult:
    from tools.registry import tool as registered

    goal = objective(params.tool, params.objective)
    fixed = [k for k in FIXED if k in params.base]
    if fixed:
        raise InputError(
            f"The shared arguments set {', '.join(fixed)}: every option runs with the tool's own seed and caps.",
            "Leave seed, trials, time_limit and save_scenario out (save the winner afterwards).",
        )
    heading = registered(params.tool).heading
    results = [(v.label, _run_option(warehouse, params, v.label, v.args, user)) for v in params.variants]
    values = [(label, _figure(r.metrics, goal.path)) for label, r in results]
    ranked = _ranked(values, goal)
    if not ranked:
        raise InputError(f"No option reports {goal.label}.", f"Try another objective: {OBJECTIVES[params.tool]}.")
    rows = []
    for label, r in results:
        row: dict[str, Any] = {"option": label, "objective": _figure(r.metrics, goal.path)}
        row |= {column: _figure(r.metrics, path) for column, path, _ in SHOWN[params.tool] if path != goal.path}
        row["rank"] = next((i for i, (name, _) in enumerate(ranked, start=1) if name == label), None)
        rows.append(row)
    # A figure no option has, or one every option shares, says nothing about the choice.
    idle = [c for c, _, _ in SHOWN[params.tool] if len({row.get(c) for row in rows}) == 1]
    rows = [{k: v for k, v in row.items() if k not in idle} for row in rows]
    (winner, best) = ranked[0]
    runner_up = ranked[1] if len(ranked) > 1 else None
    recs = [
        Recommendation(
            action=f"Go with {winner}: {goal.label} {fmt.value(best, goal.unit)}"
            + (f" against {fmt.value(runner_up[1], goal.unit)} for {runner_up[0]}." if runner_up else "."),
            rationale=f"All {len(results)} options ran on the same data and the same random draws; "
            f"{goal.label} ranks them ({goal.better} is better).",
            impact=Impact(metric=goal.label, before=runner_up[1] if runner_up else None, after=best, unit=goal.unit),
            confidence=0.7,
        )
    ]
    return CompareResult(
        summary=_summary(heading, goal, ranked, len(results), _period(results[0][1])),
        metrics={
            "compared": params.tool,
            "objective": goal.name,
            "objective_label": goal.label,
            "better": goal.better,
            "unit": goal.unit,
            "winner": winner,
            "options": [{"option": label, "value": v} for label, v in values],
        },
        tables={
            "options": rows,
            "details": [{"option": label, "summary": r.summary} for label, r in results],
        },
        recommendations=recs,
        assumptions=[
            "Every option ran with the same seed and trials, so differences come from the options, not the draws.",
            *(a for a in results[0][1].assumptions[:3]),
        ],
        warnings=results[0][1].warnings,
        data_fingerprint=results[0][1].data_fingerprint,
    )
