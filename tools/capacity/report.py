"""Turning a capacity outcome into the tool result: metrics, tables, recommendations, summary,
and the what-if beside its baseline (tools/core/whatif.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tools.capacity.evaluate import Outcome
from tools.capacity.figures import Figures, assumption_metrics, headline, money
from tools.capacity.models import CapacityResult
from tools.capacity.ramp import months_to_ramp
from tools.capacity.recommend import recommendations
from tools.capacity.tables import by_period, groups_table, hire_value, hiring_plan, requisitions
from tools.contract import DataWarning
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
    if baseline is not None:
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
    text = summary(data, o, f, head)
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
        recommendations=recommendations(data, o, f, groups),
        assumptions=_assumptions(data, o),
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
