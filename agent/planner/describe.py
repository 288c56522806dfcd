"""A tool call's arguments as a person reads them: "EMEA; next 2 quarters; win rate +3 pts".

The answer states the constraints it ran with, so a dropped or misread one is visible at once
(issue: "within 20%, saved as X" must not quietly become a +-5% plan).
"""

from __future__ import annotations

from typing import Any

from tools.core import format as fmt

_WHAT_IF = {
    "win_rate_pts": ("win rate", "points"),
    "deal_size_pct": ("deal size", "%"),
    "pipeline_growth_pct": ("pipeline", "%"),
    "slip_rate_pts": ("deals slipping", "points"),
}
_SHARE_KPIS = {"win_rate", "attainment", "coverage_share"}


def _members(filters: dict[str, Any]) -> list[str]:
    out = []
    for dim, values in filters.items():
        values = values if isinstance(values, list) else [values]
        out.append(("team of " if dim == "manager" else "") + ", ".join(map(str, values)))
    return out


def _signed(value: float, unit: str) -> str:
    if unit == "points":
        return f"{value:+g} pts"
    return f"{value:+g}%"


def _share_or_amount(value: float) -> str:
    return fmt.share(value) if abs(value) <= 1 else fmt.money(value)


def _default(tool: str, field: str) -> list[str]:
    """A tool's default for an argument, read from its input model (never a copy here)."""
    from tools.registry import BY_NAME

    info = BY_NAME[tool].input_model.model_fields[field]
    value = info.default_factory() if info.default_factory is not None else info.default  # type: ignore[call-arg]
    return [str(v) for v in value or []]


def describe(tool: str, args: dict[str, Any]) -> str:
    """The arguments that shape the answer, in words; "defaults" when none were given."""
    if tool == "compare_plans":
        shared = describe(str(args.get("tool", "")), dict(args.get("base") or {}))
        labels = " vs ".join(str(v.get("label")) for v in args.get("variants") or [] if isinstance(v, dict))
        goal = f"; ranked on {str(args['objective']).replace('_', ' ')}" if args.get("objective") else ""
        return f"{labels}{'' if shared == 'defaults' else '; ' + shared}{goal}"
    parts: list[str] = []
    a = {k: v for k, v in args.items() if v not in (None, [], {})}
    if "metric" in a:
        parts.append(str(a["metric"]).replace("_", " "))
    parts += _members(a.get("filters") or {})
    if "period" in a:
        parts.append(str(a["period"]))
    if "horizon" in a:
        grain = "month" if a.get("grain") == "month" else "quarter"
        n = int(a["horizon"])
        parts.append(f"next {grain}" if n == 1 else f"next {n} {grain}s")
    elif a.get("grain") == "month":
        parts.append("by month")
    if a.get("by"):
        parts.append("by " + ", ".join(a["by"]))
    if "method" in a:
        parts.append(f"method {a['method']}")
    for key, value in (a.get("what_if") or {}).items():
        label, unit = _WHAT_IF.get(key, (key, ""))
        parts.append(f"{label} {_signed(float(value), unit)}")
    if "target" in a:
        parts.append(f"target {fmt.money(float(a['target']))}")
    for adj in a.get("adjustments") or []:
        if isinstance(adj, dict):
            parts.append(f"{adj.get('value')} quotas {float(adj.get('pct', 0)):+g}%")
    if "over_assign" in a:
        parts.append(f"over-assignment {fmt.share(float(a['over_assign']))}")
    if "weights" in a:
        h, p = a["weights"]
        parts.append(f"history {fmt.share(h)} / potential {fmt.share(p)}")
    if "floor" in a:
        parts.append(f"floor {fmt.money(float(a['floor']))}")
    if "cap" in a:
        parts.append(f"cap {fmt.money(float(a['cap']))}")
    if "leave" in a:
        parts.append(f"{', '.join(a['leave'])} leaving")
    if "band" in a:
        parts.append(f"band ±{fmt.share(float(a['band']))}")
    if "balance_on" in a:
        parts.append("on " + ", ".join(a["balance_on"]))
    if "max_disruption" in a:
        parts.append(f"moving at most {_share_or_amount(float(a['max_disruption']))}")
    if "max_change_per_rep" in a:
        parts.append(f"no rep gaining or losing more than {a['max_change_per_rep']} accounts")
    if a.get("open_seats"):
        parts.append("with books for open seats")
    if "pareto" in args:
        from tools.territory.models import PARETO_CAPS

        caps = args["pareto"] or PARETO_CAPS
        parts.append("balance vs disruption at " + ", ".join(fmt.share(float(c)) for c in caps) + " of value moved")
    if "lock" in args:
        parts.append("locked: " + ", ".join(map(str, args["lock"])) if args["lock"] else "nothing locked")
    elif tool == "territory_rebalance":
        parts.append("locked: " + ", ".join(_default(tool, "lock")) + " (default)")
    if "unit" in a and tool == "territory_rebalance":
        parts.append(f"by {a['unit']}")
    if "attrition" in a:
        parts.append(f"attrition {fmt.share(float(a['attrition']))}")
    if "ramp_months" in a:
        parts.append(f"ramp {a['ramp_months']} months")
    if "time_to_fill_months" in a:
        parts.append(f"time to fill {a['time_to_fill_months']} months")
    if "freeze_from" in a:
        parts.append(f"hiring freeze from {str(a['freeze_from'])[:7]}")
    if "hires" in a:
        parts.append(f"{a['hires']} hires" + (f" starting {a['hires_start']}" if a.get("hires_start") else ""))
    if "confidence" in a:
        parts.append(f"{str(a['confidence']).upper()} confidence")
    if "productivity" in a:
        parts.append(f"{fmt.money(float(a['productivity']))} per ramped AE a month")
    if a.get("backfill") is False:
        parts.append("no backfill")
    for key in ("below", "above"):
        if key in a:
            value = float(a[key])
            shown = (
                fmt.multiple(value)
                if a.get("metric") == "coverage"
                else fmt.share(value)
                if a.get("metric") in _SHARE_KPIS or value <= 2
                else fmt.money(value)
            )
            parts.append(f"{key} {shown}")
    if "limit" in a:
        parts.append(f"top {a['limit']}")
    if "checks" in a:
        parts.append(", ".join(str(c).replace("_", " ") for c in a["checks"]))
    if "scenario_id" in a:
        parts.append(f"on scenario {a['scenario_id']}")
    if "save_scenario" in a:
        parts.append(f"saved as {a['save_scenario']}")
    if "action" in a and tool == "scenarios":
        parts.append(str(a["action"]) + (" " + " vs ".join(a.get("names", [])) if a.get("names") else ""))
    if "scenario" in a and tool == "apply_scenario":
        parts.append(f"scenario {a['scenario']}")
    if "against" in a:
        parts.append(f"against {str(a['against']).replace('_', ' ')}")
    if "since" in a:
        parts.append(f"since {a['since']}" + (f" until {a['until']}" if a.get("until") else ""))
    if "close_in" in a:
        parts.append("every close date" if a["close_in"] == "all" else f"deals closing in {a['close_in']}")
    return "; ".join(parts) or "default settings"
