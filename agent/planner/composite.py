"""Plan templates for composite requests: compare, chain, explain.

The offline planner reads the whole question for these before it falls back to one call per
intent:
- *compare*: two or more options of one question ("potential vs historical", "10 vs 15 vs 20%
  band", "EMEA +5% or +10%", "ETS or theta") become one `compare_plans` call, ranked by the
  objective the words name;
- *chain*: "raise EMEA quotas 10% and check capacity can carry it" runs the quota what-if,
  saves it as a draft, and then capacity on that draft (the later step is planned now and
  issued when the first result is in, so each link is its own audited step);
- *explain*: "why is EMEA behind plan?" is a variance decomposition.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from agent.planner import arguments
from agent.planner.slots import Slots, Vocabulary, _words_to_digits

COMPARE = re.compile(
    r"\bcompare\b|\bvs\.?\b|\bversus\b|\bwhich (?:\w+ ){0,3}(?:gives?|is|would|works?|gets?|does|has|leads?|comes?"
    r"|lands?|yields?|produces?|moves?)\b|\bbetter\b|\bbest\b|side[- ]by[- ]side|\bagainst each other\b|\bor\b[^.?]*\?"
    r"|trade-?offs?|sensitiv\w*|\beach (?:of|option|level|scenario|case|one)\b|\bmore\b[^.?]*\bor\b|\brank\b|\bswing\b",
    re.IGNORECASE,
)
DOMAIN = {
    "territory_rebalance": r"\bband\b|rebalanc|territor|\bbooks?\b|disrupt",
    "quota_simulate": r"quota|allocat|over[- ]?assign",
    "capacity_gap": r"\bhir(?:e|es|ing)\b|capacity|headcount|attrition|\bramp|\bnew (?:aes?|reps?|sellers|heads)\b",
    "forecast": r"forecast|\bland(?:ing)?\b|outlook|project|\bp50\b|win rates?|deal sizes?|pipeline grow",
}
QUOTA_METHODS = (
    ("historical", r"\bhistor\w*"),
    ("potential", r"\bpotential\b"),
    ("blended", r"\bblend\w*"),
    ("equal", r"\bequal\w*|\bevenly\b|\beven split\b"),
    ("current", r"\bcurrent quotas\b|\bstored quotas\b|\bexisting quotas\b"),
)
FORECAST_METHODS = (
    ("ets", r"\bets\b|exponential smoothing"),
    ("theta", r"\btheta\b"),
    ("arima", r"\barima\b"),
    ("naive", r"\bnaive\b"),
    ("ensemble", r"\bensemble\b"),
)
OBJECTIVE_WORDS = {
    "quota_simulate": (
        ("cost_of_sales", r"\bcost|cheap|expensive|payout"),
        ("fairness", r"\bfair"),
        ("bookings", r"\bbookings\b|\brevenue\b"),
        ("share_at_quota", r"attain|at quota|to quota|make quota|hit quota|reps (?:hit|make|reach)"),
    ),
    "forecast": (("accuracy", r"accura|error|\bmase\b|backtest|reliable"), ("p50", r"\bp50\b|bookings|land")),
    "territory_rebalance": (
        ("balance", r"\bbalanc\w* (?:best|most)|most balanced|\bcv\b"),
        ("disruption", r"disrupt|moves?|churn"),
    ),
    "capacity_gap": (
        ("cost", r"\bcost|cheap|expensive"),
        ("hires", r"fewest hires|hires? needed"),
        ("gap", r"\bgap\b"),
    ),
}
CHAIN_CAPACITY = re.compile(
    r"capacity|can (?:the team|we|they) (?:carry|handle|deliver)|carry (?:it|that|this)|enough (?:reps|people|aes|heads)"
    r"|how many (?:hires|reps|aes|people)|hiring",
    re.IGNORECASE,
)
CHAIN_QUOTA = re.compile(
    r"(?:re-?run|redo|then|and|what happens to|how do|effect on|impact on)\b[^.?]{0,40}\bquota|\battainment\b",
    re.IGNORECASE,
)
CHAIN_FORECAST = re.compile(r"(?:then|and|re-?run)\b[^.?]{0,40}\bforecast", re.IGNORECASE)
EXPLAIN = re.compile(
    r"\bwhy\b|what'?s (?:driving|dragging|behind|holding)|what is (?:driving|dragging|behind|holding)|\bdrivers?\b"
    r"|\bexplain\w*\b|reasons? (?:for|why)|root cause|variance|what changed|dragging|\bdrove\b|\bcaused?\b"
    r"|account for|walk me through",
    re.IGNORECASE,
)


# "What would H2 look like if deal sizes fell 5%?": a what-if on a forecast lever, not a KPI lookup.
LEVER_WHAT_IF = re.compile(
    r"\b(?:if|assum\w*|suppose|what happens)\b[^.?]{0,60}\b(?:deal sizes?|win rates?|close rates?|pipeline|slip\w*)\b"
    r"[^.?]{0,40}\b(?:fell|falls?|drops?|dropped|rises?|rose|grows?|grew|increases?|decreases?|shrinks?|improves?|"
    r"slips?|goes up|goes down|by \d)",
    re.IGNORECASE,
)


# "Suppose we give APAC 5% more target in H1: expected attainment?": a quota what-if, not a KPI lookup.
QUOTA_WHAT_IF = re.compile(
    r"\b(?:suppose|what if|if we|assum\w*)\b[^.?]{0,80}\b(?:more|less|extra|higher|lower|raise|cut)\s+"
    r"(?:of\s+)?(?:target|quota)",
    re.IGNORECASE,
)


@dataclass
class Plan:
    """Calls to run now, and chain steps to issue once they are in."""

    kind: str
    calls: list[tuple[str, dict[str, Any]]]
    then: list[dict[str, Any]] = field(default_factory=list)  # {"name", "args", "scenario_from": index}


def _found(text: str, choices: tuple[tuple[str, str], ...]) -> list[str]:
    hits = [(m.start(), label) for label, pattern in choices for m in [re.search(pattern, text, re.I)] if m]
    return [label for _, label in sorted(hits)]


def _objective(tool: str, text: str) -> str | None:
    for name, pattern in OBJECTIVE_WORDS.get(tool, ()):
        if re.search(pattern, text, re.IGNORECASE):
            return name
    return None


def domain_of(text: str, intent_tool: str | None) -> str | None:
    """The planning tool the words are about: the classifier's when the words agree, else the words'."""
    if intent_tool in DOMAIN and re.search(DOMAIN[intent_tool], text, re.IGNORECASE):
        return intent_tool
    for tool, pattern in DOMAIN.items():
        if re.search(pattern, text, re.IGNORECASE):
            return tool
    return intent_tool if intent_tool in DOMAIN else None


def _build(tool: str, text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    return arguments.for_intent(arguments.intent_of(tool), text, s, vocab)


def _levels(values: list[float]) -> list[float]:
    return list(dict.fromkeys(values))


_LIST = re.compile(
    r"((?:\d+(?:\.\d+)?\s*(?:%|per ?cent|percent)?\s*(?:,|vs\.?|versus|or|and|/|to)\s*)+\d+(?:\.\d+)?)\s*(?:%|per ?cent|percent)",
    re.IGNORECASE,
)
LEVERS = (
    ("win_rate_pts", r"win[- ]?rates?|close rates?", "pts"),
    ("pipeline_growth_pct", r"pipeline", "%"),
    ("deal_size_pct", r"deal sizes?|deal values?|\bacv\b", "%"),
    ("slip_rate_pts", r"slip\w*", "pts"),
)


LEVER_LABELS = {"win_rate_pts": "win rate", "pipeline_growth_pct": "pipeline", "deal_size_pct": "deal size",
                "slip_rate_pts": "slip"}  # fmt: skip


def percent_list(text: str) -> list[float]:
    """ "10 vs 15 vs 20%", "5, 10 and 15 per cent": every number of a list that ends in a percent."""
    digits = _words_to_digits(text)
    m = _LIST.search(digits)
    return _levels([float(x) for x in re.findall(r"\d+(?:\.\d+)?", m[1])]) if m else []


_HIRE_LIST = re.compile(
    r"\b((?:\d+\s*(?:,|vs\.?|versus|or|and|/)\s*)+\d+)\s+(?:more\s+|new\s+|extra\s+)?(?:aes?|hires?|reps?|people|heads)\b",
    re.IGNORECASE,
)


def hire_list(text: str) -> list[float]:
    """ "hire 3 vs 6 AEs": every count of a list that ends in hires."""
    m = _HIRE_LIST.search(_words_to_digits(text))
    return _levels([float(x) for x in re.findall(r"\d+", m[1])]) if m else []


def lever_pairs(text: str) -> list[tuple[str, float, str]]:
    """ "two extra points of win rate or ten percent more pipeline": each lever with its own number."""
    digits = _words_to_digits(text)
    out = []
    for key, pattern, unit in LEVERS:
        near = re.search(
            rf"([+-]?\d+(?:\.\d+)?)\s*(?:%|per ?cent|percent|points?|pts|pp)?\s*(?:\w+\s+){{0,3}}?(?:{pattern})"
            rf"|(?:{pattern})\s+(?:\w+\s+){{0,3}}?([+-]?\d+(?:\.\d+)?)\s*(?:%|per ?cent|percent|points?|pts|pp)",
            digits,
            re.IGNORECASE,
        )
        if near:
            value = float(near[1] or near[2])
            if re.search(
                r"\b(?:drop|fall|down|lower|less|shrink|decline|cut)", digits[near.start() : near.end() + 12], re.I
            ):
                value = -abs(value)
            out.append((key, value, unit))
    return out


def compare(text: str, s: Slots, vocab: Vocabulary, tool: str | None) -> Plan | None:
    if tool is None or not COMPARE.search(text):
        return None
    base = _build(tool, text, s, vocab)
    base.pop("save_scenario", None)
    variants: list[dict[str, Any]] = []
    if tool == "quota_simulate":
        methods = _found(text, QUOTA_METHODS)
        percents = _levels(s.percents) if len(_levels(s.percents)) >= 2 else percent_list(text)
        if len(methods) >= 2:
            base.pop("method", None)
            variants = [{"label": m, "args": {"method": m}} for m in methods]
        elif len(percents) >= 2 and re.search(r"over[- ]?assign", text, re.I):
            base.pop("over_assign", None)
            variants = [{"label": f"over-assign {p:g}%", "args": {"over_assign": abs(p) / 100}} for p in percents]
        elif len(percents) >= 2:
            groups = [("region", r) for r in s.regions] + [("segment", g) for g in s.segments]
            groups = groups or [("region", r) for r in vocab.all_regions()]
            sign = -1 if s.direction < 0 else 1
            base.pop("adjustments", None)
            variants = [
                {
                    "label": f"{'/'.join(v for _, v in groups) if len(groups) < 4 else 'all'} {sign * abs(p):+g}%",
                    "args": {"adjustments": [{"dim": d, "value": v, "pct": sign * abs(p)} for d, v in groups]},
                }
                for p in percents
            ]
    elif tool == "forecast":
        methods = _found(text, FORECAST_METHODS)
        if len(methods) >= 2:
            base.pop("method", None)
            variants = [{"label": m, "args": {"method": m}} for m in methods]
        elif len(pairs := lever_pairs(text)) >= 2:
            base.pop("what_if", None)
            variants = [
                {
                    "label": f"{LEVER_LABELS[key]} {v:+g}{' pts' if unit == 'pts' else '%'}",
                    "args": {"what_if": {key: v}},
                }
                for key, v, unit in pairs
            ]
        else:
            lever = next(iter(base.get("what_if") or {}), None)
            values = _levels(s.points or s.percents)
            values = values if len(values) >= 2 else percent_list(text)
            if lever and len(values) >= 2:
                unit = "pts" if lever.endswith("_pts") else "%"
                base.pop("what_if", None)
                variants = [
                    {"label": f"{v:+g} {unit}".replace(" %", "%"), "args": {"what_if": {lever: v}}} for v in values
                ]
    elif tool == "territory_rebalance":
        values = _levels([abs(p) for p in s.percents])
        values = values if len(values) >= 2 else percent_list(text)
        bases = _found(
            text,
            (
                ("potential", r"\bpotential\b"),
                ("arr", r"\barr\b"),
                ("pipeline", r"\bpipeline\b"),
                ("workload", r"workload|account count"),
            ),
        )
        if len(bases) >= 2:
            base.pop("balance_on", None)
            variants = [{"label": b.upper() if b == "arr" else b, "args": {"balance_on": [b]}} for b in bases]
        elif len(values) >= 2:
            base.pop("band", None)
            base.pop("max_disruption", None)
            variants = [{"label": f"±{v:g}%", "args": {"band": v / 100}} for v in values]
    elif tool == "capacity_gap":
        values = _levels([abs(p) for p in s.percents])
        values = values if len(values) >= 2 else percent_list(text)
        hires = _levels([float(c) for c in s.counts]) if len(s.counts) >= 2 else hire_list(text)
        if len(hires) >= 2:
            base.pop("hires", None)
            variants = [{"label": f"{h:g} hires", "args": {"hires": int(h)}} for h in hires]
        elif len(values) >= 2 and re.search(r"attrition|churn|turnover", text, re.I):
            base.pop("attrition", None)
            variants = [{"label": f"attrition {v:g}%", "args": {"attrition": v / 100}} for v in values]
    if not variants and len(s.scenarios) >= 2 and tool in ("forecast", "quota_simulate", "capacity_gap"):
        base.pop("scenario_id", None)
        variants = [{"label": name, "args": {"scenario_id": name}} for name in s.scenarios[:6]]
    if not variants and tool in ("forecast", "quota_simulate", "capacity_gap"):
        members = [("region", r) for r in s.regions] if len(s.regions) >= 2 else []
        members = members or ([("segment", g) for g in s.segments] if len(s.segments) >= 2 else [])
        if members and tool != "quota_simulate":
            base.pop("filters", None)
            variants = [{"label": v, "args": {"filters": {d: [v]}}} for d, v in members]
    if len(variants) < 2:
        return None
    args: dict[str, Any] = {"tool": tool, "base": base, "variants": variants[:6]}
    goal = _objective(tool, text)
    if tool == "capacity_gap" and "hires" in variants[0]["args"] and goal in (None, "gap", "hires"):
        goal = "gap_with_hires"  # "how much of the gap does each close?"
    if tool == "forecast" and "method" not in variants[0]["args"]:
        goal = "p50"  # what-ifs and slices are ranked on what they book; methods on their backtest
    if goal:
        args["objective"] = goal
    return Plan("compare", [("compare_plans", args)])


def draft_name(kind: str) -> str:
    return f"{kind}-draft-{uuid.uuid4().hex[:6]}"


def chain(text: str, s: Slots, vocab: Vocabulary, tool: str | None) -> Plan | None:
    """A plan and what follows from it: quota -> capacity, territory -> quota or forecast."""
    low = text.lower()
    quota_first = tool == "quota_simulate" or (
        re.search(DOMAIN["quota_simulate"], low) and tool != "territory_rebalance"
    )
    if quota_first and CHAIN_CAPACITY.search(text) and re.search(DOMAIN["quota_simulate"], low):
        first = _build("quota_simulate", text, s, vocab)
        if not (first.get("adjustments") or first.get("method") or first.get("target") or first.get("leave")):
            return None
        first.setdefault("save_scenario", draft_name("quota"))
        then = _build("capacity_gap", text, s, vocab)
        then = {k: v for k, v in then.items() if k in ("period", "filters", "attrition", "confidence")}
        if "period" in first:
            then.setdefault("period", first["period"])
        return Plan("chain", [("quota_simulate", first)], [{"name": "capacity_gap", "args": then, "scenario_from": 0}])
    if tool == "territory_rebalance" or re.search(r"rebalanc", low):
        follows = "quota_simulate" if CHAIN_QUOTA.search(text) else "forecast" if CHAIN_FORECAST.search(text) else None
        if follows is None:
            return None
        first = _build("territory_rebalance", text, s, vocab)
        first.setdefault("save_scenario", draft_name("territory"))
        then = {"filters": first["filters"]} if first.get("filters") else {}
        return Plan("chain", [("territory_rebalance", first)], [{"name": follows, "args": then, "scenario_from": 0}])
    return None


LOOKS_AHEAD = re.compile(
    r"\bnext (?:year|quarter|half)|\bforecast|\bcapacity|\bhir(?:e|es|ing)\b|\bgap\b.{0,20}\bnext", re.I
)


def explain(text: str, s: Slots, vocab: Vocabulary, known_tools: list[str]) -> Plan | None:
    """Why a past or current slice is ahead of or behind; a look ahead is the forecast's or capacity's."""
    if "explain_variance" not in known_tools or not EXPLAIN.search(text) or LOOKS_AHEAD.search(text):
        return None
    if any(p.start > vocab.as_of for p in s.periods):
        return None
    if not re.search(r"behind|ahead|short|miss|gap|below|above|under|over|down|up\b|drop|grow|plan|target|last year|"
                     r"prior|driv|dragg|better|worse|lower|higher", text, re.I):  # fmt: skip
        return None
    args: dict[str, Any] = {}
    filters = {k: v for k, v in s.filters().items() if k in ("region", "segment", "product")}
    if filters:
        args["filters"] = filters
    if re.search(r"\bplan\b|target|quota|\bgoal\b|the number|budget", text, re.I):
        args["against"] = "plan"
    elif re.search(r"last quarter|previous quarter|prior quarter|quarter before|\bqoq\b", text, re.I) and not s.periods:
        args["against"] = "last_period"
    reference = re.search(
        r"(?:ahead of|behind|vs\.?|versus|compared (?:to|with)|than|against|over) last year", text, re.I
    )
    if reference:
        args["against"] = "last_year"
    this_year = vocab.calendar.period_of(vocab.as_of, "year")
    # "ahead of last year": last year is the reference, not the period asked about.
    past = [p for p in s.periods if p.start <= vocab.as_of and not (reference and p.end <= this_year.start)]
    if re.search(r"so far this year|this (?:fiscal )?year|\bytd\b|year to date", text, re.I):
        args["period"] = this_year.name
    elif past:
        args["period"] = past[0].name
    return Plan("explain", [("explain_variance", args)])


STACK_UP = re.compile(r"\bstack(?:s)? up\b|\bagainst\b|\bvs\.?\b|\bversus\b|\bcompare|\bcompared\b", re.IGNORECASE)


def compare_follow_up(text: str, s: Slots, prev: dict[str, Any]) -> Plan | None:
    """ "How does that stack up against SMB?" after a Mid-Market forecast: the two slices, compared."""
    tool, args = prev["name"], dict(prev.get("args") or {})
    if tool not in ("forecast", "capacity_gap") or not STACK_UP.search(text):
        return None
    before = args.get("filters") or {}
    for dim, named in (("region", s.regions), ("segment", s.segments)):
        earlier = list(before.get(dim) or [])
        new = [m for m in named if m not in earlier]
        if earlier and new:
            base = {k: v for k, v in args.items() if k not in ("save_scenario",)}
            base["filters"] = {d: v for d, v in before.items() if d != dim}
            if not base["filters"]:
                base.pop("filters")
            members = list(dict.fromkeys(earlier + new))
            variants = [{"label": m, "args": {"filters": {dim: [m]}}} for m in members]
            goal = "p50" if tool == "forecast" else "gap"
            return Plan(
                "compare", [("compare_plans", {"tool": tool, "base": base, "variants": variants, "objective": goal})]
            )
    return None
