"""From an intent and the slots read from its words to a tool call's arguments.

Each planning intent maps to one tool. Only what the words say is filled in; everything else
is left to the tool's defaults (which the tools document and report as assumptions). A
follow-up ("and for APAC?", "now with 15%") reuses the thread's last call and replaces the
parts the follow-up names.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from agent.planner.slots import Slots, Vocabulary, _words_to_digits
from tools.metrics.registry import METRICS
from tools.registry import of_intent
from warehouse.calendar import Period

CHECK_WORDS = (
    ("duplicate_accounts", r"duplicate"),
    (
        "zombie_opportunities",
        r"zombie|past (?:their |the )?close date|overdue|close date (?:has |have )?(?:already )?passed|close dates? in the past",
    ),
    ("stale_stages", r"stuck|stale|same stage|sat in"),
    ("orphan_owners", r"owner|orphan|who (?:have )?left|departed|former reps|no longer (?:here|with us)"),
    ("zips_without_territory", r"zips?\b.{0,30}(?:\bnot\b|n't|without|unmapped|\bno territory)|unmapped zip"),
    ("amount_outliers", r"outlier"),
    (
        "active_reps_without_quota",
        r"without (?:a )?quota|no quota|missing (?:a )?quota|(?:don't|do not|doesn't) have (?:a )?quota",
    ),
    ("quotas_without_rep", r"without (?:a )?rep"),
)


def _has(text: str, pattern: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def _first(text: str, choices: tuple[tuple[str, str], ...]) -> str | None:
    """The label of the first (label, pattern) whose pattern occurs in `text`."""
    return next((label for label, pattern in choices if _has(text, pattern)), None)


def _period_name(p: Period) -> str:
    return p.name


def _specific(periods: list[Period]) -> list[Period]:
    """ "Q1 next year" names FY2028-Q1: a period that contains another one named is only its context."""
    return [
        p
        for p in periods
        if not any(q is not p and p.start <= q.start and q.end <= p.end and q.name != p.name for q in periods)
    ] or periods


def _save_name(text: str) -> str | None:
    m = re.search(
        r"\bsave (?:it |this |that |that one |this one |the plan |the result |them )?as [\"'“]?([\w .-]{2,40}?)[\"'”]?(?:[.?!,]|$)",
        text,
        re.IGNORECASE,
    )
    return m[1].strip() if m else None


def _horizon(periods: list[Period], ahead: int | None, vocab: Vocabulary, grain: str) -> int | None:
    if ahead:
        return max(1, min(ahead * (3 if grain == "month" else 1), 24))
    if not periods:
        return None
    target = max(periods, key=lambda p: p.end)
    current = vocab.calendar.period_of(vocab.as_of, grain)  # type: ignore[arg-type]
    nxt = vocab.calendar.shift(current, 1)
    if target.end <= nxt.start:
        return 1  # the current period: its landing comes with any horizon
    count = len(vocab.calendar.periods(nxt.start, target.end, grain))  # type: ignore[arg-type]
    return max(1, min(count, 24))


def _use_scenario(text: str, s: Slots, args: dict[str, Any]) -> None:
    """ "...under scenario emea-up": evaluate a saved scenario (never the one being saved)."""
    saving = args.get("save_scenario")
    named = [n for n in s.scenarios if n != saving]
    if named and _has(text, r"\bscenario|\bunder\b|\bplan\b"):
        args["scenario_id"] = named[0]


def forecast(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    args: dict[str, Any] = {}
    monthly = (
        "month" in s.by
        or s.months_ahead
        or _has(text, r"monthly|by month|per month|month[- ]by[- ]month")
        or bool(s.months and not s.periods)
        or any(p.grain == "month" for p in s.periods)
    )
    grain = "month" if monthly else "quarter"
    if grain == "month":
        args["grain"] = "month"
    method = _first(
        text,
        (
            ("arima", r"\barima\b"),
            ("ets", r"\bets\b|exponential smoothing"),
            ("theta", r"\btheta\b"),
            ("naive", r"seasonal naive|\bnaive\b"),
            ("ensemble", r"ensemble|combination of (?:the )?models"),
        ),
    )
    if method:
        args["method"] = method
    by = [d for d in s.by if d in ("region", "segment", "product", "rep")]
    if by:
        args["by"] = by
    if s.filters():
        args["filters"] = s.filters()
    horizon = s.months_ahead if grain == "month" and s.months_ahead else None
    if grain == "month" and not horizon and s.months and not s.periods:
        last = max(s.months)  # "close in december": the months up to it
        horizon = max(1, (last.year - vocab.as_of.year) * 12 + last.month - vocab.as_of.month)
    horizon = horizon or _horizon(_specific(s.future(vocab)), s.quarters_ahead, vocab, grain)
    if horizon:
        args["horizon"] = horizon
    what_if: dict[str, float] = {}
    if _has(text, r"win[- ]?rate|close rate|win prob"):
        bare = re.search(r"(?:win[- ]?rates?|close rates?)\s*(?:of|by)?\s*([+-]\d+(?:\.\d+)?)\b(?!\s*%)", text, re.I)
        value = next(iter(s.points or s.percents), float(bare[1]) if bare else None)
        if value is not None:
            what_if["win_rate_pts"] = value
    if _has(text, r"deal sizes?|deal amounts?|\bacv\b|deal values?|ticket") and s.percents:
        what_if["deal_size_pct"] = s.percents[0]
    elif _has(text, r"pipeline") and s.percents:
        what_if["pipeline_growth_pct"] = s.percents[0]
    if _has(text, r"slip") and (s.points or s.percents):
        what_if["slip_rate_pts"] = (s.points or s.percents)[0]
    if what_if:
        args["what_if"] = what_if
    _use_scenario(text, s, args)
    return args


def _quota_bounds(text: str) -> dict[str, float]:
    """ "no ramped rep below $400K or above $1.5M": a floor and a cap on quotas."""
    out: dict[str, float] = {}
    for key, pattern in (
        ("floor", r"(?:below|under|less than|at least|minimum(?: of)?|floor(?: of)?)"),
        ("cap", r"(?:above|over|more than|at most|maximum(?: of)?|cap(?: of)?)"),
    ):
        m = re.search(pattern + r"\s+\$?\s?(\d+(?:\.\d+)?)\s?(k|m|mm|million|thousand)?\b", text, re.I)
        if m and _has(text, r"quota|rep") and ("$" in m[0] or m[2]):  # an amount, not "at least 5 reps"
            scale = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6}.get((m[2] or "").lower(), 1.0)
            out[key] = float(m[1]) * scale
    return out


def _paired_adjustments(text: str, vocab: Vocabulary, direction: int) -> list[dict[str, Any]]:
    """Each named region or segment with the percent written right after it."""
    from agent.planner.slots import DOWN_WORDS, REGION_ALIASES, SEGMENT_ALIASES, UP_WORDS

    names = {r.lower(): ("region", r) for r in vocab.regions} | {g.lower(): ("segment", g) for g in vocab.segments}
    names |= {k: ("region", v) for k, v in REGION_ALIASES.items() if v in vocab.regions and len(k) > 2}
    names |= {k: ("segment", v) for k, v in SEGMENT_ALIASES.items() if v in vocab.segments and len(k) > 2}
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    out = []
    previous_end = 0
    down = r"\b(?:" + "|".join(DOWN_WORDS) + r"|trim|trims|trimmed)\b"
    up = r"\b(?:" + "|".join(UP_WORDS) + r"|bump|bumps)\b"
    for m in re.finditer(rf"\b({alternatives})\b[^%\d+-]{{0,25}}([+-]?\d+(?:\.\d+)?)\s?%", text, re.I):
        dim, value = names[m[1].lower()]
        pct = float(m[2])
        # The verb nearest this group decides its sign ("bump Enterprise 6% and trim SMB 4%").
        context = text[previous_end : m.end()]
        previous_end = m.end()
        negative = _has(context, down) or (direction < 0 and not _has(context, up))
        if not m[2].startswith(("+", "-")) and pct > 0 and negative:
            pct = -pct
        out.append({"dim": dim, "value": value, "pct": pct})
    return out


def quota(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    args: dict[str, Any] = {}
    if s.periods:
        args["period"] = _period_name(max(_specific(s.future(vocab)), key=lambda p: p.end))
    if s.amounts:
        args["target"] = s.amounts[0]
    method = _first(
        text,
        (
            ("current", r"current quotas|existing quotas|stored quotas|quotas we have"),
            ("potential", r"potential"),
            ("historical", r"\bhistor"),
            ("equal", r"equal|evenly|same quota|identical"),
        ),
    )
    if method:
        args["method"] = method
    filters = {k: v for k, v in s.filters().items() if k in ("region", "segment", "manager")}
    weights = re.search(r"history (\d+)\s?%.*?potential (\d+)\s?%|(\d+)\s?% history.*?(\d+)\s?% potential", text, re.I)
    if weights:
        h, p = (float(weights[1]), float(weights[2])) if weights[1] else (float(weights[3]), float(weights[4]))
        args["weights"] = [round(h / (h + p), 4), round(p / (h + p), 4)]
        args.setdefault("method", "blended")
    if _has(text, r"re-?spread|re-?allocate what|what's left|remaining (?:quota|target)|rest of the (?:year|target)"):
        args["reallocate"] = True
    bounds = _quota_bounds(text)
    args.update(bounds)
    amounts = [a for a in s.amounts if a not in bounds.values()]
    if "target" in args and args["target"] in bounds.values():
        args.pop("target")
    if amounts and "target" not in args and s.amounts and not bounds:
        args["target"] = amounts[0]
    pct = None if weights else next(iter(s.percents), None)
    if pct is not None and _has(text, r"over[- ]?assign"):
        args["over_assign"] = abs(pct) / 100
        pct = None
    if pct is not None:
        paired = _paired_adjustments(text, vocab, s.direction)
        groups = [("region", r) for r in s.regions] + [("segment", g) for g in s.segments]
        if paired and len(paired) == len(groups):
            args["adjustments"] = paired  # "EMEA +10%, APAC -5%": each group its own change
        else:
            if not groups:
                groups = [("region", r) for r in vocab.all_regions()]  # "raise quotas 10%": every region
            args["adjustments"] = [{"dim": d, "value": v, "pct": pct} for d, v in groups]
    elif filters:
        args["filters"] = filters
    if s.reps and _has(text, r"\b(leave|leaves|left|quit|quits|departs?|goes|walk|walks|resigns?|exits?)\b"):
        args["leave"] = list(s.reps)
    name = _save_name(text)
    if name:
        args["save_scenario"] = name
    _use_scenario(text, s, args)
    return args


def territory(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    args: dict[str, Any] = {}
    filters = {k: v for k, v in s.filters().items() if k in ("region", "segment")}
    if filters:
        args["filters"] = filters
    percents = list(s.percents)
    cap = None
    m = re.search(r"(\d+(?:\.\d+)?)\s?%\s+of (?:the )?(?:average|mean|target)", text, re.IGNORECASE)
    # "no rep above 105% of average" is the band, not a cap on what moves ("as little ARR as possible" is no cap).
    of_average = m is not None and s.threshold is not None and abs(s.threshold[1] * 100 - float(m[1])) < 1e-6
    if (
        s.threshold
        and s.threshold[0] == "above"
        and not of_average
        and s.threshold[1] <= 1
        and _has(text, r"no more than|at most|less than|move|moving|disrupt")
    ):
        cap = s.threshold[1]
    if m and float(m[1]) > 100:
        args["band"] = round(float(m[1]) / 100 - 1, 4)
        percents = [p for p in percents if abs(p - float(m[1])) > 1e-9]
    elif percents and _has(
        text, r"within|band|of average|of the average|off (?:the )?average|from (?:the )?average|either side|\+-|±"
    ):
        args["band"] = abs(percents.pop(0)) / 100
    if cap is None and percents and _has(text, r"disrupt|move|moving|\barr\b"):
        cap = abs(percents.pop(0)) / 100
    if "band" not in args and s.threshold and _has(text, r"average|\bband\b|within|either side|\boff\b"):
        args["band"] = s.threshold[1] if s.threshold[1] < 1 else s.threshold[1] / 100  # "more than 10% off the average"
    if cap is None and s.amounts and _has(text, r"\bmov\w*|disrupt|off the|shift"):
        cap = s.amounts[0]  # "without moving more than $2M of ARR": a cap in money
    if cap is not None:
        args["max_disruption"] = cap
    metrics = [
        m
        for m, p in (
            ("potential", r"potential"),
            ("arr", r"\barr\b(?! as possible)"),
            ("workload", r"workload|account count"),
            ("pipeline", r"pipeline"),
        )
        if _has(text, p)
    ]
    if metrics and not (metrics == ["arr"] and _has(text, r"moving|move|disrupt")):
        args["balance_on"] = [m for m in metrics if not (m == "arr" and _has(text, r"mov\w* as little arr"))] or [
            "potential"
        ]
    if _has(text, r"(?:allow|let)\b.{0,40}late[- ]stage|late[- ]stage\b.{0,30}(?:can|may) move|only strategic"):
        args["lock"] = ["strategic"]
    elif _has(
        text,
        r"\b(?:lock|freeze|protect|keep|exclude)\w*\b.{0,60}late[- ]stage|late[- ]stage.{0,30}\b(?:locked|stay|frozen)",
    ):
        args["lock"] = ["strategic", "late-stage"]
    elif _has(text, r"lock nothing|no locks|everything can move|unlock all"):
        args["lock"] = []
    if _has(text, r"across segments|cross[- ]segment|between segments|other segments?"):
        args["allow_cross_segment"] = True
    most = re.search(
        r"(?:at most|no more than|max(?:imum)?(?: of)?|up to)\s+(\d+)\s+accounts|cap\w*\b.{0,30}\bat (\d+) accounts",
        text,
        re.I,
    )
    if most:
        args["max_accounts"] = int(most[1] or most[2])
    change = re.search(
        r"(?:no|any|each|every|per|a) (?:rep|ae|seller)\b.{0,40}?\b(?:gains?|loses?|changes?|swaps?|moves?)\b"
        r".{0,25}?(\d+)\s+accounts|(\d+)\s+accounts? (?:changes? |moves? )?(?:per|for any|for each) (?:rep|ae)",
        text,
        re.I,
    )
    if change:
        args["max_change_per_rep"] = int(change[1] or change[2])
        args.pop("max_accounts", None)  # "no rep loses more than 10 accounts" caps changes, not books
    if _has(
        text, r"trade[- ]?offs?|pareto|frontier|balance (?:vs\.?|versus|against) disruption|options? .{0,30}disrupt"
    ):
        args["pareto"] = []  # the default caps: 1%, 2%, 5%, 10%, 20% of the value
    if _has(
        text,
        r"open (?:seats?|reqs?|requisitions?|headcount)|to[- ]be[- ]hired|\btbh\b|new hires? (?:who|that) (?:starts?|joins?)"
        r"|hires? (?:starting|joining|who starts?|who joins?)|(?:book|territory) for (?:a|the|our) (?:new )?hire",
    ):
        args["open_seats"] = True
    unit = _first(text, (("zip", r"\bzip"), ("msa", r"\bmsa\b|metro"), ("state", r"\bstates?\b")))
    if unit:
        args["unit"] = unit
    name = _save_name(text)
    if name:
        args["save_scenario"] = name
    return args


def _given_hires(text: str, s: Slots) -> int | None:
    """ "If we only get approval for 4 hires", "with 6 extra AEs": a number of hires to evaluate (not
    "how many hires do we need")."""
    if _has(text, r"how many|fewest|need to hire|must we hire") or len(s.counts) != 1:
        return None
    if _has(text, r"\b(?:only|approv\w*|get|with|if we (?:hire|add)|add|adding|budget for|extra|more)\b"):
        return s.counts[0]
    return None


def capacity(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    text = _words_to_digits(text)  # "five months to ramp", "three months to fill"
    args: dict[str, Any] = {}
    if s.periods:
        args["period"] = _period_name(max(_specific(s.future(vocab)), key=lambda p: p.end))
    if s.amounts:
        per_month = _has(text, r"(?:a|per|each) month|monthly")
        if _has(text, r"productiv|per rep|per ae|each rep") or (per_month and _has(text, r"ramped|each (?:rep|ae)")):
            args["productivity"] = s.amounts[0]
        else:
            args["target"] = s.amounts[0]
    filters = {k: v for k, v in s.filters().items() if k in ("region", "segment")}
    if filters:
        args["filters"] = filters
    percents = list(s.percents)
    p_level = re.search(r"\bp(50|80|90)\b", text, re.IGNORECASE)
    if p_level:
        args["confidence"] = f"p{p_level[1]}"
    conf = re.search(
        r"(\d+)\s?%\s*(?:confidence|confident|probability|sure|likely)|(?:confidence|probability) of (\d+)",
        text,
        re.IGNORECASE,
    )
    if conf:
        level = int(conf[1] or conf[2])
        args["confidence"] = "p90" if level >= 90 else "p80" if level >= 80 else "p50"
        percents = [p for p in percents if abs(abs(p) - level) > 1e-9]
    if percents and _has(text, r"attrition|churn|turnover|leave|quit"):
        args["attrition"] = abs(percents[0]) / 100
    ramp = re.search(
        r"(\d+)[- ]months? ramp|ramp\w*(?:s| of| in| takes| is)? (?:of |about |around )?(\d+) months?"
        r"|(\d+) months? to (?:be |get |become )?(?:fully )?(?:ramp\w*|productive|up to speed|full productivity)",
        text,
        re.IGNORECASE,
    )
    if ramp:
        args["ramp_months"] = int(ramp[1] or ramp[2] or ramp[3])
    ttf = re.search(
        r"time to fill (?:goes to |of |is )?(\d+)|(\d+) months? to fill|(\d+)[- ]months? time to fill"
        r"|takes (?:about |around )?(\d+) months? to fill",
        text,
        re.I,
    )
    if ttf:
        args["time_to_fill_months"] = int(ttf[1] or ttf[2] or ttf[3] or ttf[4])
    monthly_cap = re.search(
        r"(?:no more than|at most|max(?:imum)?(?: of)?|up to)\s+(\d+)\s+(?:new )?(?:hires|starts|"
        r"people|reps|aes)\s+(?:a|per|each)\s+month",
        text,
        re.I,
    )
    if monthly_cap:
        args["max_hires_per_month"] = int(monthly_cap[1])
    if _has(text, r"freez|frozen|stop (?:all )?hiring|pause (?:all )?hiring|no (?:new )?hires (?:from|after)") and (
        s.months or s.periods
    ):
        months = [p for p in s.periods if p.grain == "month"]
        start = s.months[0] if s.months else (months[0] if months else min(s.periods, key=lambda p: p.start)).start
        args["freeze_from"] = start.isoformat()
    if _has(text, r"no backfill|don't backfill|do not backfill|without backfill"):
        args["backfill"] = False
    given = _given_hires(text, s)
    if given is not None:
        args["hires"] = given
        months = [p for p in s.periods if p.grain == "month"]
        begins = s.months[0] if s.months else months[0].start if months else None
        if begins is not None and "freeze_from" not in args and _has(text, r"start\w*|from|in|beginning"):
            args["hires_start"] = begins.strftime("%Y-%m")
    _use_scenario(text, s, args)
    return args


def metrics(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    metric = _named_kpi(text) or "bookings"
    args: dict[str, Any] = {"metric": metric}
    if s.periods:
        # Pipeline and coverage look ahead: a bare "Q3" that is over means next year's.
        periods = s.future(vocab) if metric in ("pipeline", "coverage", "headcount") else s.periods
        args["period"] = _period_name(periods[0])
    by = [d for d in s.by if d in ("region", "segment", "product", "rep", "manager")]
    digits = _words_to_digits(text)
    top = re.search(r"\b(?:top|best|biggest|largest)\s+(\d+)\b|\b(\d+)\s+(?:top|best|biggest|largest)\b", digits, re.I)
    if top:
        args["limit"] = int(top[1] or top[2])
        if not by and _has(text, r"\breps?\b|\baes?\b|sellers?|bookers|performers|closers"):
            by = ["rep"]
    if metric == "attainment" and not by and (s.threshold or _has(text, r"\bwho\b|which|reps|aes")):
        by = ["rep"]
    if not by and s.managers and _has(text, r"\beach\b|\bevery\b|\bper\b|\bwho\b|\beveryone\b|\bby person"):
        by = ["rep"]  # "attainment for each person on Leila's team"
    if not by and len(s.segments) >= 2:
        by = ["segment"]  # "mid-market vs smb": side by side
    elif not by and len(s.regions) >= 2:
        by = ["region"]
    if by:
        args["by"] = by
    if s.filters():
        args["filters"] = s.filters()
    if s.threshold:
        kind, value = s.threshold
        args["below" if kind == "below" else "above"] = value
    elif metric == "attainment" and _has(text, r"behind|under quota|below quota"):
        args["below"] = 1.0
    return args


def _named_kpi(text: str, default: str | None = "bookings") -> str | None:
    """The registered KPI the words name: the longest match wins ("deals won" over "won"), ties go
    to the KPI registered first; bookings when none is named."""
    best: tuple[int, int, str] | None = None
    for order, spec in enumerate(METRICS.values()):
        if not spec.words:
            continue
        found = [len(m[0]) for m in re.finditer(spec.words, text, re.IGNORECASE)]
        if found and (best is None or (max(found), -order) > best[:2]):
            best = (max(found), -order, spec.name)
    return best[2] if best else default


def data_check(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    checks = [c for c, p in CHECK_WORDS if _has(text, p)]
    args: dict[str, Any] = {"checks": checks} if checks else {}
    filters = {k: v for k, v in s.filters().items() if k in ("region", "segment")}
    if filters:
        args["filters"] = filters  # "run a data check on EMEA": that slice's findings
    return args


def scenarios(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    if (
        _has(text, r"compare|versus|\bvs\.?\b|difference|contrast|side by side|better|stronger|weaker|best|worse")
        and len(s.scenarios) >= 2
    ):
        return {"action": "compare", "names": s.scenarios[:2]}
    if s.scenarios and _has(text, r"show|what changed|details|what is in|describe"):
        return {"action": "show", "names": s.scenarios[:1]}
    if (
        _has(text, r"compare|versus|\bvs\.?\b|difference|contrast|side by side|better|stronger|weaker|best|worse")
        and s.scenarios
    ):
        return {"action": "compare", "names": s.scenarios[:2]}
    return {"action": "list"}


def apply(text: str, s: Slots, vocab: Vocabulary, last_saved: str | None) -> dict[str, Any]:
    name = s.scenarios[0] if s.scenarios else last_saved
    return {"scenario": name} if name else {}


BUILDERS = {
    "forecast": forecast,
    "quota": quota,
    "territory": territory,
    "capacity": capacity,
    "metrics": metrics,
    "data_check": data_check,
    "scenarios": scenarios,
}


def intent_of(tool: str) -> str:
    """The offline planner's intent for a registered tool (its spec names it), else the tool's name."""
    from tools.registry import BY_NAME

    spec = BY_NAME.get(tool)
    return spec.intent if spec is not None and spec.intent else tool


def tool_of(intent: str) -> str:
    """The registered tool an intent asks for (tools/registry.py: each tool names its intent)."""
    spec = of_intent(intent)
    if spec is None:
        raise KeyError(f"no tool is registered for the intent {intent!r}")
    return spec.name


def for_intent(intent: str, text: str, s: Slots, vocab: Vocabulary, last_saved: str | None = None) -> dict[str, Any]:
    if intent == "apply":
        return apply(text, s, vocab, last_saved)
    args = BUILDERS[intent](text, s, vocab)
    if (
        intent == "scenarios"
        and last_saved
        and not s.scenarios
        and _has(text, r"\b(?:that|this|the) (?:scenario|plan)\b")
    ):
        return {"action": "show", "names": [last_saved]}
    refers = _has(text, r"\b(?:that|this|the saved|the new|our new) (?:plan|scenario)\b")
    if intent in ("forecast", "quota", "capacity") and last_saved and refers and "scenario_id" not in args:
        args["scenario_id"] = last_saved  # "can the team carry that plan?": the one this thread just saved
    return args


SAME_LAST_YEAR = re.compile(
    r"same (?:quarter|month|half|period) (?:last|a|the) year|(?:quarter|month) a year (?:ago|earlier)", re.IGNORECASE
)
VS_LAST_YEAR = re.compile(
    r"\b(?:compared? (?:with|to)|vs\.?|versus|than|against|over) (?:the same (?:time|period) )?last year\b"
    r"|\byear[- ]over[- ]year\b|\byoy\b",
    re.IGNORECASE,
)
SHORT_CONTINUE = re.compile(r"^\W*(?:at|with|for|in|and|but|now|what about|how about|only|just|same)\b", re.I)
STRONG_CONTINUE = re.compile(
    r"\b(?:re-?run|redo|again|instead|on top of that|same (?:but|again|thing|question)|as well|that plan|this plan)\b",
    re.IGNORECASE,
)


def follow_up(tool: str, previous: dict[str, Any], text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    """The previous call's arguments with what the follow-up names replaced."""
    args = copy.deepcopy(previous)
    filters = dict(args.get("filters") or {})
    for dim, members in s.filters().items():
        filters[dim] = members
    values_named = s.percents or s.points
    if tool == "quota_simulate" and s.filters() and values_named and not args.get("adjustments"):
        # "and what if NA carries 5% more?": a change for the group named, not an over-assignment.
        groups = [("region", r) for r in s.regions] + [("segment", g) for g in s.segments]
        args["adjustments"] = [{"dim": d, "value": v, "pct": values_named[0]} for d, v in groups]
        return args
    if s.filters():
        if tool == "quota_simulate" and args.get("adjustments"):
            pct = args["adjustments"][0]["pct"]
            groups = [("region", r) for r in s.regions] + [("segment", g) for g in s.segments]
            args["adjustments"] = [{"dim": d, "value": v, "pct": pct} for d, v in groups]
        else:
            args["filters"] = filters
    if s.by:
        args["by"] = list(s.by)
    if s.periods:
        if tool == "forecast":
            grain = args.get("grain", "quarter")
            args["horizon"] = _horizon(s.periods, s.quarters_ahead, vocab, grain) or args.get("horizon", 4)
        else:
            args["period"] = _period_name(max(s.periods, key=lambda p: p.end) if tool != "metrics" else s.periods[0])
    if SAME_LAST_YEAR.search(text) and "period" in previous:
        args["period"] = year_before(str(previous["period"])) or args["period"]
    elif (
        not s.periods
        and "period" in args
        and re.search(r"year before|prior year|previous year|a year earlier", text, re.I)
    ):
        args["period"] = year_before(str(args["period"])) or args["period"]
    if s.amounts and tool in ("quota_simulate", "capacity_gap"):
        args["target"] = s.amounts[0]
    values = s.percents or s.points
    if values:
        value = values[0]
        if tool == "quota_simulate":
            if args.get("adjustments"):
                for adj in args["adjustments"]:
                    adj["pct"] = value
            else:
                args["over_assign"] = abs(value) / 100
        elif tool == "territory_rebalance":
            args["band"] = abs(value) / 100
        elif tool == "capacity_gap":
            args["attrition"] = abs(value) / 100
        elif tool == "forecast":
            named = forecast(text, s, vocab).get("what_if")  # "what if deal sizes drop 10%?" names its lever
            if named:
                args["what_if"] = {**(args.get("what_if") or {}), **named}
            else:
                what_if = dict(args.get("what_if") or {"win_rate_pts": 0.0})
                key = next(iter(what_if), "win_rate_pts")
                what_if[key] = value
                args["what_if"] = what_if
    if s.threshold and tool == "metrics":
        args.pop("below", None)
        args.pop("above", None)
        args[s.threshold[0]] = s.threshold[1]
    return args


REFERS_BACK = re.compile(
    r"\b(?:there|same|instead|also|too|as well|again|what about|how about|and for|and in|and with|and if"
    r"|(?:for|on|with|in|like|do|of|under|about) (?:that|this|those|these|it)|that (?:plan|scenario|region|segment"
    r"|team|number|period|quarter|group|one)|those (?:reps|accounts|deals|numbers)|the year before|prior year)\b",
    re.IGNORECASE,
)
CARRIED = ("filters", "period", "horizon", "grain", "what_if", "scenario_id", "target", "attrition", "band")


def refers_back(text: str) -> bool:
    """The question leans on the turn before ("there", "same but", "for that", "instead")."""
    return REFERS_BACK.search(text) is not None


def carry(previous: dict[str, Any], tool: str, args: dict[str, Any], accepts: set[str]) -> dict[str, Any]:
    """A follow-up's call with every earlier constraint it does not replace.

    Same tool: the earlier arguments, with what this question states on top (filters dimension by
    dimension, what-if levers lever by lever). Another tool: the slice and the period, when the
    tool takes them ("and how many hires would that region need?").
    """
    prev_tool, prev_args = previous["name"], dict(previous.get("args") or {})
    if prev_tool == tool:
        merged = copy.deepcopy(prev_args)
        merged.pop("save_scenario", None)  # a name is saved once; a follow-up names its own
        for key, value in args.items():
            if key in ("filters", "what_if") and isinstance(value, dict):
                merged[key] = {**(merged.get(key) or {}), **value}
            else:
                merged[key] = value
        return merged
    out = dict(args)
    for key in ("filters", "period"):
        if key in prev_args and key not in out and key in accepts:
            value = prev_args[key]
            if key == "filters":
                value = {d: v for d, v in value.items() if d in ("region", "segment")}
                if not value:
                    continue
            out[key] = value
    return out


def year_before(period: str) -> str | None:
    """FY2027-Q3 -> FY2026-Q3: "and the year before?"."""
    m = re.fullmatch(r"FY(\d{4})(.*)", period)
    return f"FY{int(m[1]) - 1}{m[2]}" if m else None


_CONTINUES = re.compile(
    r"^\W*(?:and|but|now|ok|okay|so|then|also|what about|how about|same|just|only|instead|lock|unlock|cap|keep|"
    r"make it|try|rerun|re-run|redo|with|without|excluding|plus|add|drop|remove|use)\b",
    re.IGNORECASE,
)


def reads_as_follow_up(text: str) -> bool:
    """A short or leaning-back question in a thread: it continues the turn before."""
    return refers_back(text) or _CONTINUES.search(text) is not None or len(text.split()) <= 6


def continue_call(
    previous: dict[str, Any], text: str, s: Slots, vocab: Vocabulary, accepts: set[str]
) -> dict[str, Any]:
    """The turn before's call, changed as this follow-up says.

    The generic reading first (follow_up: a member, period or bare number replaces the matching
    part), then whatever the words name for that tool ("cap it at fifteen percent of the value",
    "lock late-stage deals", "with a 6 month ramp") on top; every other constraint stays.
    """
    tool = previous["name"]
    args = follow_up(tool, previous["args"], text, s, vocab)
    intent = intent_of(tool)
    if intent not in BUILDERS:
        return args
    named = BUILDERS[intent](text, s, vocab)
    if SAME_LAST_YEAR.search(text):
        named.pop("period", None)  # follow_up moved the earlier period back a year; "last year" is not the period
    if intent == "metrics" and _named_kpi(text, default=None) is None:
        named.pop("metric", None)  # "and for APAC?" keeps the KPI asked before
    if intent == "quota" and not (s.regions or s.segments):
        named.pop("adjustments", None)  # a bare "now 15%" changes the groups already adjusted
    if intent == "forecast" and "horizon" in named and not s.periods and not s.quarters_ahead:
        named.pop("horizon")
    named = {k: v for k, v in named.items() if k in accepts and k not in ("filters",)}
    return carry({"name": tool, "args": args}, tool, named, accepts)
