"""Turning a capacity outcome into the tool result: metrics, tables, recommendations, summary,
and the what-if beside its baseline (tools/core/whatif.py).

Two what-ifs take that shape: changed assumptions (attrition, ramp, a scenario...) against the
warehouse's own, and a given number of hires (`hires`) against no hires, on the same draws and
assumptions, with the full plan's hires beside them. When both are asked the hires are the
question; the changed assumptions hold on both sides and are named in its inputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tools.capacity.evaluate import Outcome
from tools.capacity.figures import Figures, assumption_metrics, given_headline, headline, money
from tools.capacity.models import CapacityResult
from tools.capacity.ramp import months_to_ramp
from tools.capacity.recommend import given_recommendation, recommendations
from tools.capacity.tables import by_period, given_hires, groups_table, hire_value, hiring_plan, requisitions
from tools.contract import DataWarning
from tools.core import format as fmt
from tools.core import whatif as shape
from tools.core.scenario import ScenarioUse
from tools.core.whatif import Figure

if TYPE_CHECKING:
    from tools.capacity.tool import Data


def summary(data: Data, o: Outcome, f: Figures, head: dict[str, Any]) -> str:
    where = data.describe() if data.describe() != "the warehouse" else "all regions and segments"
    cap = head["capacity"]
    gap = head["gap"]["p50"]
    text = (
        f"{o.horizon.period.name} ({where}): target {money(f.target)} vs capacity P50 {money(cap['p50'])} "
        f"(P10 {money(cap['p10'])}, P90 {money(cap['p90'])}); "
    )
    text += f"gap {money(gap)} at P50." if gap > 0 else f"surplus {money(-gap)} at P50."
    hires = head["hires_needed"]
    conf = o.params.confidence.upper()
    if hires:
        groups = sum(1 for p in o.plans if p.total > 0)
        text += (
            f" {hires} hires in {groups} region x segment groups close each group's own gap at {conf} "
            "(a group above its target does not cover another's shortfall)"
        )
        if head["last_useful_start"]:
            text += f"; hires starting after {head['last_useful_start']} barely help {o.horizon.period.name}"
        text += "."
    if head["uncloseable_gap"] > 0:
        short = int((f.remaining > 0).sum())
        text += (
            f" Hiring cannot close {money(head['uncloseable_gap'])} of shortfall in {short} "
            f"group{'s' if short > 1 else ''} in {o.horizon.period.name}."
        )
    elif not hires and gap <= 0:
        text += " No hires needed beyond the open requisitions."
    return text


def _split(o: Outcome) -> tuple[str, str]:
    """('NA ', ' (3 Enterprise, 1 SMB)'): who the given hires are, for the summary. What all of
    them share goes before "hires", the split after it."""
    assert o.given is not None
    counts = [(int(o.given.hires[g].sum()), ga.region, ga.segment) for g, ga in enumerate(o.groups)]
    placed = sorted((c for c in counts if c[0] > 0), key=lambda c: (-c[0], c[1], c[2]))
    regions, segments = {r for _, r, _ in placed}, {s for _, _, s in placed}
    if len(placed) == 1:
        return f"{placed[0][1]} {placed[0][2]} ", ""
    if len(regions) == 1:
        return f"{placed[0][1]} ", " (" + ", ".join(f"{n} {s}" for n, _, s in placed) + ")"
    if len(segments) == 1:
        return f"{placed[0][2]} ", " (" + ", ".join(f"{n} {r}" for n, r, _ in placed) + ")"
    if len(placed) > 4:  # the table lists them; a sentence naming twelve groups is not read
        return "", f" in {len(placed)} region x segment groups"
    return "", " (" + ", ".join(f"{n} {r} {s}" for n, r, s in placed) + ")"


def given_summary(o: Outcome, f: Figures, head: dict[str, Any], given: dict[str, Any]) -> str:
    """The answer to "what do N hires get us?" first: capacity, what is left of the gap, the odds,
    and what closing it takes."""
    assert o.given is not None
    period = o.horizon.period.name
    n = given["hires"]
    who, split = _split(o) if n else ("", "")
    months = [o.horizon.sim_months[s].isoformat()[:7] for s in np.flatnonzero(o.given.hires.sum(axis=0))]
    if o.given.start is not None:
        when = f" starting {given['start']}"
    elif not months:
        when = ""
    elif len(months) == 1:
        when = f" starting {months[0]}"
    else:
        when = f" starting {months[0]} to {months[-1]}"
    noun = "hire" if n == 1 else "hires"
    base_gap, gap = head["gap"]["p50"], given["gap"]["p50"]
    text = (
        f"With {n} {who}{noun}{split}{when}, {period} capacity P50 is {money(given['capacity']['p50'])} "
        f"against the {money(head['target'])} target: "
    )
    if base_gap <= 0:
        text += f"the team covers it without new hires ({money(-gap)} to spare)"
    elif gap > 0:
        text += f"{money(gap)} of the {money(base_gap)} gap remains"
    else:
        text += f"the {money(base_gap)} gap is closed with {money(-gap)} to spare"
    text += f" (P(target) {fmt.share(head['p_target_met'])} -> {fmt.share(given['p_target_met'])})"
    needed = head["hires_needed"]
    conf = o.params.confidence.upper()
    if needed == 0:
        text += (
            "; the plan needs no hires." if head["uncloseable_gap"] <= 0 else "; hiring cannot close it this period."
        )
    elif n < needed:
        text += f"; closing it takes {needed} hires (the full plan: each group's gap closed at {conf})."
    else:
        text += f"; the full plan closes each group's gap at {conf} with {needed} hires."
    if head["uncloseable_gap"] > 0 and needed:
        short = int((f.remaining > 0).sum())
        text += (
            f" Hiring cannot close {money(head['uncloseable_gap'])} of shortfall in {short} "
            f"group{'s' if short > 1 else ''} in {period}."
        )
    return text


GIVEN_FIGURES = (
    Figure("hires", "hires", "count"),
    Figure("capacity.p10", "capacity P10", "USD"),
    Figure("capacity.p50", "capacity P50", "USD"),
    Figure("capacity.p90", "capacity P90", "USD"),
    Figure("gap.p50", "gap P50", "USD"),
    Figure("p_target_met", "chance of making target", "share"),
    Figure("ote_cost", "OTE cost of the hires", "USD"),
)


FIGURES = (
    Figure("target", "target", "USD"),
    Figure("expected_capacity", "expected capacity", "USD"),
    Figure("capacity.p50", "capacity P50", "USD"),
    Figure("gap.p50", "gap P50", "USD"),
    Figure("p_target_met", "chance capacity reaches the target", "share"),
    Figure("hires_needed", "hires needed", "count"),
    Figure("uncloseable_gap", "gap hiring cannot close", "USD"),
    Figure("plan_cost", "OTE cost of the hiring plan", "USD"),
)
HEADLINE_KEYS = (
    "target",
    "expected_capacity",
    "capacity",
    "gap",
    "p_target_met",
    "hires_needed",
    "uncloseable_gap",
    "plan_cost",
)


OVERRIDE_WORDS = {
    "target": lambda p: f"target {money(p.target)}",
    "attrition": lambda p: f"attrition {p.attrition:.0%} a year",
    "ramp": lambda p: f"ramp {p.ramp_months} months" if p.ramp_months is not None else "a given ramp curve",
    "time_to_fill": lambda p: f"time to fill {p.time_to_fill_months} months",
    "productivity": lambda p: f"productivity {money(p.productivity)} a month",
    "no_backfill": lambda p: "no backfill",
    "hiring_freeze": lambda p: f"hiring freeze from {p.freeze_from:%Y-%m}",
    "scenario": lambda p: f"scenario {p.scenario_id}",
}


def build(
    data: Data, o: Outcome, baseline: Outcome | None, warnings: list[DataWarning], use: ScenarioUse | None
) -> CapacityResult:
    f = Figures(o)
    head = headline(o, f)
    groups = groups_table(data, o, f)
    metrics: dict[str, Any] = {
        "period": o.horizon.period.name,
        "as_of": o.horizon.as_of.isoformat(),
        "confidence": o.params.confidence,
        "target_source": o.target_source,
        **head,
        "headcount_now": int(o.headcount_now.sum()),
        "open_requisitions": len(o.requisitions),
        "expected_departures": round(float(o.path.departures[:, o.horizon.in_period[o.horizon.sim_start :]].sum()), 2),
        "assumptions": assumption_metrics(o),
    }
    if data.outlook is not None:
        metrics["bookings_outlook"] = data.outlook.as_dict()
    tables: dict[str, list[dict[str, Any]]] = {
        "by_period": by_period(o),
        "hiring_plan": hiring_plan(o, f),
        "groups": groups,
        "hire_value": hire_value(o),
        "requisitions": requisitions(o),
    }
    if use is not None:
        metrics["scenario"] = use.info()
    given = given_headline(o, f)
    if given is not None:
        metrics["given_hires"] = given
        metrics["full_plan"] = {
            "hires": head["hires_needed"],
            "capacity": head["capacity_with_plan"],
            "gap": head["gap_with_plan"],
            "p_target_met": head["p_target_met_with_plan"],
            "ote_cost": head["plan_cost"],
        }
        tables["given_hires"] = given_hires(o)
        none = {"hires": 0, "capacity": head["capacity"], "gap": head["gap"], "p_target_met": head["p_target_met"]}
        none["ote_cost"] = 0.0
        when = f" starting {given['start']}" if given["start"] else ""
        shape.attach(
            metrics,
            tables,
            baseline=none,
            what_if=given,
            inputs=[f"{given['hires']} hires{when}"] + [OVERRIDE_WORDS[k](o.params) for k in o.params.overrides()],
            rows=shape.comparison(none, given, GIVEN_FIGURES),
        )
    elif baseline is not None:
        base = headline(baseline, Figures(baseline))
        asked = {k: head[k] for k in HEADLINE_KEYS}
        inputs = [OVERRIDE_WORDS[k](o.params) for k in o.params.overrides()]
        shape.attach(
            metrics,
            tables,
            baseline={k: base[k] for k in HEADLINE_KEYS},
            what_if=asked,
            inputs=inputs,
            rows=shape.comparison(base, asked, FIGURES),
        )
    text = given_summary(o, f, head, given) if given is not None else summary(data, o, f, head)
    if baseline is not None:
        b = metrics["baseline"]
        text += (
            f" What-if ({', '.join(metrics['what_if_inputs'])}): hires needed {b['hires_needed']} -> {head['hires_needed']}; "
            f"capacity P50 {money(b['capacity']['p50'])} -> {money(head['capacity']['p50'])}; gap P50 "
            f"{money(b['gap']['p50'])} -> {money(head['gap']['p50'])} against the baseline."
        )
    if data.outlook is not None:
        text += f" The forecast expects P50 {money(data.outlook.p50)} of bookings in {data.outlook.period}."
    return CapacityResult(
        summary=text,
        metrics=metrics,
        tables=tables,
        recommendations=([given_recommendation(o, f, given)] if given is not None else [])
        + recommendations(data, o, f, groups),
        assumptions=_assumptions(data, o) + (_given_assumptions(o) if given is not None else []),
        warnings=warnings,
        data_fingerprint=data.fingerprint,
    )


def _assumptions(data: Data, o: Outcome) -> list[str]:
    out = [
        f"Productivity: bookings of a ramped AE per month per region x segment ({o.groups[0].productivity_source if o.groups else ''}), "
        "shaped by fiscal-month seasonality; held at its trailing-12-month level (no growth assumed).",
        "Ramp by segment: "
        + ", ".join(
            f"{s} {months_to_ramp(c)} months ({o.assumptions.ramp_source[s]})" for s, c in o.assumptions.ramp.items()
        )
        + ".",
        f"Time to fill: {o.assumptions.time_to_fill} months ({o.assumptions.time_to_fill_source}); open requisitions start "
        "no earlier than that; departures are " + ("backfilled after it." if o.params.backfill else "not backfilled."),
        f"Attrition: {', '.join(sorted({g.attrition_source for g in o.groups}))[:300]}.",
        "Monte Carlo: binomial departures, ramp speed +-25%, lognormal productivity (group and shared market factors); "
        "planned hires leave at the expected rate.",
        f"Hiring plan: the fewest hires closing each region x segment gap at {o.params.confidence.upper()}, at most "
        "the group's peak monthly hiring of the last two years (or --max-hires-per-month), in start months where a hire "
        f"adds at least {o.params.min_useful_share:.0%} of a ramped rep's period.",
        f"Targets: {o.target_source}.",
    ]
    if data.outlook is not None:
        out.append(
            f"Capacity is what the team can carry (ramped productivity x the headcount path), not what it will book: "
            f"{data.outlook.describe()} (history and open pipeline). Capacity above that outlook means the team has "
            "room the pipeline does not yet fill; below it, the pipeline would outrun the team."
        )
    return out


def _given_assumptions(o: Outcome) -> list[str]:
    assert o.given is not None
    out = [
        f"Given hires: {o.given.asked} new AEs, placed where the hiring plan puts its most valuable hires (most "
        "expected bookings per hire first; beyond the plan, the most valuable seats left), at most the group's "
        "monthly hiring limit"
        + (
            f", all starting {o.horizon.sim_months[o.given.start]:%Y-%m}."
            if o.given.start is not None
            else ", from the earliest month the time to fill allows."
        )
        + " They add to the same Monte Carlo trials as the team, so the comparison is like for like."
    ]
    if o.given.start is not None and o.given.start < o.earliest_start:
        out.append(
            f"The given start {o.horizon.sim_months[o.given.start]:%Y-%m} is inside the {o.assumptions.time_to_fill}-"
            "month time to fill: it assumes the hires are already found."
        )
    if o.params.overrides():
        out.append(
            "Changed assumptions ("
            + ", ".join(OVERRIDE_WORDS[k](o.params) for k in o.params.overrides())
            + ") hold with and without the hires."
        )
    return out
