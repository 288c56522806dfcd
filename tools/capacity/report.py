"""Turning a capacity outcome into the tool result: metrics, tables, recommendations, summary.

Conventions: capacity quantiles are percentiles of simulated bookings (P10 low, P90 high); the
gap is target minus capacity, so `gap.p90` = target - capacity P10 (the bad case). The hiring
plan's confidence `pXX` means capacity reaches the target in XX% of trials.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tools.capacity.evaluate import Outcome
from tools.capacity.models import CapacityResult
from tools.capacity.plan import capacity_quantile
from tools.capacity.quantiles import percentiles
from tools.capacity.ramp import months_to_ramp
from tools.contract import DataWarning, Impact, Recommendation
from warehouse.calendar import Period

if TYPE_CHECKING:
    from tools.capacity.tool import Data

ROLE = "AE"


def _q(values: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = percentiles(values, [10, 50, 90])
    return {"p10": round(float(p10), 2), "p50": round(float(p50), 2), "p90": round(float(p90), 2)}


def _gap(target: float, cap: dict[str, float]) -> dict[str, float]:
    return {
        "p10": round(target - cap["p90"], 2),
        "p50": round(target - cap["p50"], 2),
        "p90": round(target - cap["p10"], 2),
    }


def _month(o: Outcome, s: int | None) -> str | None:
    """A simulation month as YYYY-MM."""
    return None if s is None else o.horizon.sim_months[s].isoformat()[:7]


def _label(o: Outcome, s: int) -> str:
    return o.horizon.sim_months[s].strftime("%b %Y")


def _m(value: float) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1e6:
        return f"{sign}${value / 1e6:,.1f}M"
    if value >= 1e3:
        return f"{sign}${value / 1e3:,.0f}K"
    return f"{sign}${value:,.0f}"


def _periods(o: Outcome) -> list[tuple[str, Period, np.ndarray]]:
    """(grain, period, mask over the report axis): the months, quarters and the period itself."""
    cal, period = o.horizon.calendar, o.horizon.period
    months = np.array(o.horizon.months)
    out = []
    for grain in ("month", "quarter", "half", "year"):
        if grain == "half" and period.grain != "year":
            continue
        if grain in ("half", "year") and period.grain not in (grain, "year"):
            continue
        if grain == "quarter" and period.grain == "quarter":
            continue
        for p in cal.children(period, grain):  # type: ignore[arg-type]
            out.append((grain, p, np.array([p.start <= m < p.end for m in months])))
    if period.grain not in ("year", "half") or not out or out[-1][1] != period:
        out.append((period.grain, period, np.array([period.start <= m < period.end for m in months])))
    return out


class _Figures:
    """Per-trial period sums with and without the plan, by group and in total."""

    def __init__(self, o: Outcome) -> None:
        self.o = o
        mask = o.horizon.in_period
        self.base = o.capacity(False)[:, :, mask].sum(axis=2)  # [T, G]
        self.planned = self.base + o.plan_capacity()[:, :, mask[o.horizon.sim_start :]].sum(axis=2)
        self.targets = o.targets[:, mask].sum(axis=1)  # [G]
        self.target = float(self.targets.sum())
        self.expected = float(o.expected_capacity()[:, mask].sum())
        conf = o.confidence
        self.at_conf = np.array([capacity_quantile(self.base[:, g], conf) for g in range(len(o.groups))])
        self.at_conf_plan = np.array([capacity_quantile(self.planned[:, g], conf) for g in range(len(o.groups))])
        self.remaining = np.where(
            [not p.closed for p in o.plans], np.maximum(self.targets - self.at_conf_plan, 0.0), 0.0
        )
        in_sim = mask[o.horizon.sim_start :]
        ote = np.array([g.ote for g in o.groups])
        self.team_cost = float((ote[:, None] * o.path.headcount[:, in_sim]).sum() / 12)
        self.plan_cost_by_group = ote * o.plan_headcount()[:, in_sim].sum(axis=1) / 12
        self.plan_cost = float(self.plan_cost_by_group.sum())


def _assumption_metrics(o: Outcome) -> dict[str, Any]:
    a = o.assumptions
    return {
        "productivity_per_month": {f"{g.region}|{g.segment}": round(g.productivity, 2) for g in o.groups},
        "ramp": {
            seg: {
                "curve": [round(float(v), 3) for v in curve],
                "months": months_to_ramp(curve),
                "source": a.ramp_source[seg],
            }
            for seg, curve in a.ramp.items()
        },
        "attrition_annual": {f"{g.region}|{g.segment}": round(1 - (1 - g.attrition) ** 12, 4) for g in o.groups},
        "time_to_fill_months": a.time_to_fill,
        "time_to_fill_source": a.time_to_fill_source,
        "backfill": o.params.backfill,
        "hiring_freeze_from": None if o.team.freeze is None else _month(o, o.team.freeze),
        "seasonality": [round(float(v), 3) for v in a.season],
        "seasonality_source": a.season_source,
        "market_cv_per_quarter": round(a.market_cv, 4),
        "confidence": o.params.confidence,
        "min_useful_share": o.params.min_useful_share,
        "trials": o.params.trials,
        "seed": o.params.seed,
    }


def _headline(o: Outcome, f: _Figures) -> dict[str, Any]:
    total = f.base.sum(axis=1)
    planned = f.planned.sum(axis=1)
    cap, cap_plan = _q(total), _q(planned)
    hiring_groups = [g for g, p in enumerate(o.plans) if p.total > 0]
    useful = [o.last_useful[g] for g in (hiring_groups or range(len(o.groups))) if o.last_useful[g] is not None]
    return {
        "target": round(f.target, 2),
        "capacity": cap,
        "expected_capacity": round(f.expected, 2),
        "gap": _gap(f.target, cap),
        "p_target_met": round(float((total >= f.target).mean()), 4),
        "hires_needed": int(sum(p.total for p in o.plans)),
        "last_useful_start": _month(o, min(useful)) if useful else None,
        "capacity_with_plan": cap_plan,
        "gap_with_plan": _gap(f.target, cap_plan),
        "p_target_met_with_plan": round(float((planned >= f.target).mean()), 4),
        "uncloseable_gap": round(float(f.remaining.sum()), 2),
        "team_cost": round(f.team_cost, 2),
        "plan_cost": round(f.plan_cost, 2),
        "cost_of_sales": {
            "baseline": round(f.team_cost / cap["p50"], 4) if cap["p50"] > 0 else None,
            "with_plan": round((f.team_cost + f.plan_cost) / cap_plan["p50"], 4) if cap_plan["p50"] > 0 else None,
        },
    }


def _groups_table(data: Data, o: Outcome, f: _Figures) -> list[dict[str, Any]]:
    potential = data.potential.set_index(["region", "segment"])["potential"]
    reqs = o.requisitions.groupby(["region", "segment"]).size() if len(o.requisitions) else {}
    rows = []
    for g, ga in enumerate(o.groups):
        q = _q(f.base[:, g])
        heads = int(o.headcount_now[g])
        pot = float(potential.get((ga.region, ga.segment), 0.0))
        seats = heads + int(reqs.get((ga.region, ga.segment), 0)) if len(o.requisitions) else heads
        hires = o.plans[g].total
        rows.append(
            {
                "region": ga.region,
                "segment": ga.segment,
                "headcount": heads,
                "open_requisitions": seats - heads,
                "target": round(float(f.targets[g]), 2),
                "capacity_p10": q["p10"],
                "capacity_p50": q["p50"],
                "capacity_p90": q["p90"],
                "gap_p50": round(float(f.targets[g]) - q["p50"], 2),
                "p_target_met": round(float((f.base[:, g] >= f.targets[g]).mean()), 4),
                "hires": hires,
                "capacity_with_plan": round(float(f.at_conf_plan[g]), 2),
                "remaining_gap": round(float(f.remaining[g]), 2),
                "last_useful_start": _month(o, o.last_useful[g]),
                "productivity_per_month": round(ga.productivity, 2),
                "productivity_source": ga.productivity_source,
                "ramp_months": months_to_ramp(o.assumptions.curve(ga.segment)),
                "attrition_annual": round(1 - (1 - ga.attrition) ** 12, 4),
                "ote": round(ga.ote, 2),
                "max_hires_per_month": ga.velocity,
                "win_rate": None if ga.win_rate is None else round(ga.win_rate, 4),
                "potential_per_rep": round(pot / seats, 2) if seats else None,
                "potential_per_rep_with_plan": round(pot / (seats + hires), 2) if seats + hires else None,
            }
        )
    return rows


def _by_period(o: Outcome) -> list[dict[str, Any]]:
    periods = _periods(o)
    member = np.stack([mask for _, _, mask in periods], axis=1).astype(float)  # [N, P]
    base = o.capacity(False) @ member  # [T, G, P]
    planned = o.capacity(True) @ member
    base = np.concatenate([base, base.sum(axis=1, keepdims=True)], axis=1)
    planned = np.concatenate([planned, planned.sum(axis=1, keepdims=True)], axis=1)
    q = percentiles(base, [10, 50, 90])  # [3, G+1, P]
    q_plan = percentiles(planned, [50])[0]
    expected = o.expected_capacity() @ member
    expected = np.vstack([expected, expected.sum(axis=0)])
    targets = o.targets @ member
    targets = np.vstack([targets, targets.sum(axis=0)])
    n_axis = len(o.horizon.months)
    start = o.horizon.sim_start
    heads = np.full((len(o.groups), n_axis), np.nan)
    heads[:, start:] = o.path.headcount
    fte = np.full((len(o.groups), n_axis), np.nan)
    fte[:, start:] = o.path.ramped_fte
    heads_plan = heads.copy()
    heads_plan[:, start:] += o.plan_headcount()
    heads, fte, heads_plan = (np.vstack([x, x.sum(axis=0)]) for x in (heads, fte, heads_plan))
    names = [(g.region, g.segment) for g in o.groups] + [("All", "All")]
    last = [int(np.flatnonzero(mask)[-1]) for _, _, mask in periods]
    with np.errstate(invalid="ignore"):
        fte_avg = (np.nan_to_num(fte) @ member) / (~np.isnan(fte) @ member)  # mean over simulated months
    columns = {
        "target": targets,
        "capacity_p10": q[0],
        "capacity_p50": q[1],
        "capacity_p90": q[2],
        "expected_capacity": expected,
        "gap_p50": targets - q[1],
        "headcount": heads[:, last],
        "ramped_fte": fte_avg,
        "capacity_p50_with_plan": q_plan,
        "gap_p50_with_plan": targets - q_plan,
        "headcount_with_plan": heads_plan[:, last],
    }
    # Round once as arrays; NaN (months before the as-of date) becomes None.
    values = {k: [[None if v != v else v for v in row] for row in np.round(a, 2).tolist()] for k, a in columns.items()}
    rows = []
    for j, (grain, period, _) in enumerate(periods):
        for g, (region, segment) in enumerate(names):
            row: dict[str, Any] = {"grain": grain, "period": period.name, "region": region, "segment": segment}
            row.update({k: v[g][j] for k, v in values.items()})
            rows.append(row)
    return rows


def _hiring_plan(o: Outcome, f: _Figures) -> list[dict[str, Any]]:
    rows = []
    in_sim = o.horizon.in_period[o.horizon.sim_start :]
    for g, ga in enumerate(o.groups):
        for s in np.flatnonzero(o.plans[g].hires):
            n = int(o.plans[g].hires[s])
            rows.append(
                {
                    "start_month": _month(o, int(s)),
                    "role": ROLE,
                    "region": ga.region,
                    "segment": ga.segment,
                    "hires": n,
                    "expected_adds": round(float(n * o.value[g, s]), 2),
                    "share_of_ramped_rep": round(float(o.value[g, s] / o.ramped_period[g]), 4)
                    if o.ramped_period[g]
                    else None,
                    "ote_cost": round(float(n * ga.ote * o.hires.headcount[g, s, in_sim].sum() / 12), 2),
                }
            )
    return sorted(rows, key=lambda r: (r["start_month"], r["region"], r["segment"]))


def _hire_value(o: Outcome) -> list[dict[str, Any]]:
    rows = []
    for g, ga in enumerate(o.groups):
        for s in range(o.earliest_start, len(o.horizon.sim_months)):
            rows.append(
                {
                    "start_month": _month(o, s),
                    "region": ga.region,
                    "segment": ga.segment,
                    "expected_adds": round(float(o.value[g, s]), 2),
                    "share_of_ramped_rep": round(float(o.value[g, s] / o.ramped_period[g]), 4)
                    if o.ramped_period[g]
                    else None,
                    "allowed": bool(o.allowed[g, s]),
                }
            )
    return rows


def _requisitions(o: Outcome) -> list[dict[str, Any]]:
    r = o.requisitions
    return [
        {
            "req_id": row.req_id,
            "region": row.region,
            "segment": row.segment,
            "planned_start": row.planned_start.date().isoformat() if row.planned_start == row.planned_start else None,
            "modelled_start": row.modelled_start,
        }
        for row in r.itertuples()
    ]


def _recommendations(data: Data, o: Outcome, f: _Figures, groups: list[dict[str, Any]]) -> list[Recommendation]:
    recs: list[tuple[float, Recommendation]] = []
    conf_name = o.params.confidence.upper()
    ttf = o.assumptions.time_to_fill
    share = o.params.min_useful_share
    for g, ga in enumerate(o.groups):
        p = o.plans[g]
        where = {"region": ga.region, "segment": ga.segment}
        gap_before = float(f.targets[g] - f.at_conf[g])
        ramp_m = months_to_ramp(o.assumptions.curve(ga.segment))
        if p.total > 0:
            months = np.flatnonzero(p.hires)
            by = _label(o, int(months.max()))
            last = o.last_useful[g]
            timing = (
                f"with a {ttf}-month time to fill and {ramp_m}-month ramp, hires starting after {_label(o, last)} "
                f"add under {share:.0%} of a ramped rep in {o.horizon.period.name}"
                if last is not None
                else f"with a {ttf}-month time to fill and {ramp_m}-month ramp"
            )
            adds = float(sum(p.hires[s] * o.value[g, s] for s in months))
            closes = (
                f"closes the {_m(gap_before)} gap at {conf_name}"
                if p.closed
                else f"is the most {ga.velocity}/month of hiring can add; {_m(f.remaining[g])} stays open"
            )
            pot = groups[g]["potential_per_rep"], groups[g]["potential_per_rep_with_plan"]
            coverage = (
                f" Carve territories for them: potential per seat falls from {_m(pot[0])} to {_m(pot[1])}."
                if pot[0] and pot[1]
                else ""
            )
            recs.append(
                (
                    gap_before,
                    Recommendation(
                        action=f"Open {p.total} {ga.segment} {ROLE} requisition{'s' if p.total > 1 else ''} in {ga.region} "
                        f"to start by {by}.",
                        rationale=f"{timing[0].upper() + timing[1:]}; the plan adds {_m(adds)} expected in "
                        f"{o.horizon.period.name} and {closes} (OTE cost {_m(f.plan_cost_by_group[g])}).{coverage}",
                        impact=Impact(
                            metric=f"{ga.region} {ga.segment} capacity at {conf_name}, {o.horizon.period.name}",
                            before=round(float(f.at_conf[g]), 2),
                            after=round(float(f.at_conf_plan[g]), 2),
                        ),
                        confidence=0.7 if p.closed else 0.5,
                        group=where,
                    ),
                )
            )
        if f.remaining[g] > 0:
            cap = float(f.at_conf_plan[g])
            lift = ""
            if ga.win_rate is not None and cap > 0:
                points = ga.win_rate * f.remaining[g] / cap * 100
                lifted = ga.win_rate + points / 100
                # Bookings scale with the win rate at a given pipeline; beyond doubling it (or 60%)
                # a lift is not a plan.
                lift = (
                    f", or lift its win rate by {points:.1f} points (from {ga.win_rate:.1%} to {lifted:.1%})"
                    if lifted <= min(2 * ga.win_rate, 0.6)
                    else "; no realistic win-rate lift closes it"
                )
            why = (
                "no start month is left where a hire still helps this period"
                if p.total == 0
                else f"hiring is capped at {ga.velocity}/month and later starts add under {share:.0%} of a ramped rep"
            )
            recs.append(
                (
                    float(f.remaining[g]),
                    Recommendation(
                        action=f"Cut the {ga.region} {ga.segment} target by {_m(f.remaining[g])} "
                        f"({f.remaining[g] / f.targets[g]:.0%}){lift}.",
                        rationale=f"Hiring cannot close it in {o.horizon.period.name}: {why}. "
                        f"Capacity at {conf_name} with the plan is {_m(cap)} against {_m(f.targets[g])}.",
                        impact=Impact(
                            metric=f"{ga.region} {ga.segment} gap at {conf_name} after hiring",
                            before=round(float(f.remaining[g]), 2),
                            after=0.0,
                        ),
                        confidence=0.6,
                        group=where,
                    ),
                )
            )
        surplus = float(capacity_quantile(f.base[:, g], 0.9) - f.targets[g])
        if f.targets[g] > 0 and surplus > 0.1 * f.targets[g]:
            recs.append(
                (
                    surplus / 2,
                    Recommendation(
                        action=f"Raise the {ga.region} {ga.segment} target or move headcount elsewhere: capacity beats "
                        f"it by {_m(surplus)} even at P90 confidence.",
                        rationale=f"Target {_m(f.targets[g])}; capacity P10-P90 {_m(np.percentile(f.base[:, g], 10))}-"
                        f"{_m(np.percentile(f.base[:, g], 90))}.",
                        impact=Impact(
                            metric=f"{ga.region} {ga.segment} surplus at P90 confidence",
                            before=round(surplus, 2),
                            after=0.0,
                        ),
                        confidence=0.6,
                        group=where,
                    ),
                )
            )
    late = o.requisitions[
        o.requisitions["modelled_start"].notna()
        & (o.requisitions["modelled_start"] != o.requisitions["planned_start"].dt.strftime("%Y-%m"))
    ]
    if len(late):
        ids = ", ".join(late["req_id"].head(6))
        recs.append(
            (
                0.0,
                Recommendation(
                    action=f"Fill {len(late)} open requisition{'s' if len(late) > 1 else ''} now ({ids}): their planned "
                    f"start is inside the {ttf}-month time to fill.",
                    rationale="The capacity above assumes they start after the time to fill, not on their planned date.",
                    impact=Impact(
                        metric="requisitions starting later than planned", before=float(len(late)), unit="count"
                    ),
                    confidence=0.7,
                ),
            )
        )
    return [r for _, r in sorted(recs, key=lambda x: -x[0])]


def _summary(data: Data, o: Outcome, f: _Figures, head: dict[str, Any]) -> str:
    where = ", ".join(f"{d} {'/'.join(v)}" for d, v in data.filters.items()) or "all regions and segments"
    cap = head["capacity"]
    gap = head["gap"]["p50"]
    text = (
        f"{o.horizon.period.name} ({where}): target {_m(f.target)} vs capacity P50 {_m(cap['p50'])} "
        f"(P10 {_m(cap['p10'])}, P90 {_m(cap['p90'])}); "
    )
    text += f"gap {_m(gap)} at P50." if gap > 0 else f"surplus {_m(-gap)} at P50."
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
            f" Hiring cannot close {_m(head['uncloseable_gap'])} of shortfall in {short} "
            f"group{'s' if short > 1 else ''} in {o.horizon.period.name}."
        )
    elif not hires and gap <= 0:
        text += " No hires needed beyond the open requisitions."
    return text


def _comparison(o: Outcome, f: _Figures, baseline: Outcome) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    fb = _Figures(baseline)
    hb, hw = _headline(baseline, fb), _headline(o, f)
    rows = []
    for key, label in (
        ("target", "target"),
        ("expected_capacity", "expected capacity"),
        ("capacity.p50", "capacity P50"),
        ("gap.p50", "gap P50"),
        ("p_target_met", "P(capacity >= target)"),
        ("hires_needed", "hires needed"),
        ("uncloseable_gap", "gap hiring cannot close"),
        ("plan_cost", "OTE cost of the hiring plan"),
    ):

        def get(h: dict[str, Any], k: str = key) -> Any:
            part, _, sub = k.partition(".")
            return h[part][sub] if sub else h[part]

        b, w = get(hb), get(hw)
        rows.append(
            {
                "metric": label,
                "baseline": b,
                "what_if": w,
                "change": None if b is None or w is None else round(w - b, 4),
            }
        )
    keys = ("target", "capacity", "gap", "p_target_met", "hires_needed", "uncloseable_gap", "plan_cost")
    return {k: hb[k] for k in keys}, rows


def build(data: Data, o: Outcome, baseline: Outcome | None, warnings: list[DataWarning]) -> CapacityResult:
    f = _Figures(o)
    head = _headline(o, f)
    groups = _groups_table(data, o, f)
    metrics: dict[str, Any] = {
        "period": o.horizon.period.name,
        "as_of": o.horizon.as_of.isoformat(),
        "confidence": o.params.confidence,
        "target_source": o.target_source,
        **head,
        "headcount_now": int(o.headcount_now.sum()),
        "open_requisitions": len(o.requisitions),
        "expected_departures": round(float(o.path.departures[:, o.horizon.in_period[o.horizon.sim_start :]].sum()), 2),
        "assumptions": _assumption_metrics(o),
    }
    tables: dict[str, list[dict[str, Any]]] = {
        "by_period": _by_period(o),
        "hiring_plan": _hiring_plan(o, f),
        "groups": groups,
        "hire_value": _hire_value(o),
        "requisitions": _requisitions(o),
    }
    if data.scenario is not None and o.params.scenario_id is not None:
        metrics["scenario"] = data.scenario
    overrides = o.params.overrides()
    if baseline is not None:
        metrics["baseline"], tables["comparison"] = _comparison(o, f, baseline)
        metrics["what_if"] = overrides
    assumptions = [
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
    return CapacityResult(
        summary=_summary(data, o, f, head),
        metrics=metrics,
        tables=tables,
        recommendations=_recommendations(data, o, f, groups),
        assumptions=assumptions,
        warnings=warnings,
        data_fingerprint=data.fingerprint,
    )
