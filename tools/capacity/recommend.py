"""Capacity recommendations: requisitions to open by group and start month, the target cut (or
win-rate lift) hiring cannot make up, headcount to move where capacity beats the target,
requisitions to fill now, and where to seat a given number of hires."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tools.capacity.evaluate import Outcome
from tools.capacity.figures import ROLE, Figures, label, money, quantiles
from tools.capacity.plan import capacity_quantile
from tools.capacity.ramp import months_to_ramp
from tools.contract import Impact, Recommendation

if TYPE_CHECKING:
    from tools.capacity.tool import Data


def recommendations(data: Data, o: Outcome, f: Figures, groups: list[dict[str, Any]]) -> list[Recommendation]:
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
            by = label(o, int(months.max()))
            last = o.last_useful[g]
            timing = (
                f"with a {ttf}-month time to fill and {ramp_m}-month ramp, hires starting after {label(o, last)} "
                f"add under {share:.0%} of a ramped rep in {o.horizon.period.name}"
                if last is not None
                else f"with a {ttf}-month time to fill and {ramp_m}-month ramp"
            )
            adds = float(sum(p.hires[s] * o.value[g, s] for s in months))
            closes = (
                f"closes the {money(gap_before)} gap at {conf_name}"
                if p.closed
                else f"is the most {ga.velocity}/month of hiring can add; {money(f.remaining[g])} stays open"
            )
            pot = groups[g]["potential_per_rep"], groups[g]["potential_per_rep_with_plan"]
            coverage = (
                f" Carve territories for them: potential per seat falls from {money(pot[0])} to {money(pot[1])}."
                if pot[0] and pot[1]
                else ""
            )
            recs.append(
                (
                    gap_before,
                    Recommendation(
                        action=f"Open {p.total} {ga.segment} {ROLE} requisition{'s' if p.total > 1 else ''} in {ga.region} "
                        f"to start by {by}.",
                        rationale=f"{timing[0].upper() + timing[1:]}; the plan adds {money(adds)} expected in "
                        f"{o.horizon.period.name} and {closes} (OTE cost {money(f.plan_cost_by_group[g])}).{coverage}",
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
                        action=f"Cut the {ga.region} {ga.segment} target by {money(f.remaining[g])} "
                        f"({f.remaining[g] / f.targets[g]:.0%}){lift}.",
                        rationale=f"Hiring cannot close it in {o.horizon.period.name}: {why}. "
                        f"Capacity at {conf_name} with the plan is {money(cap)} against {money(f.targets[g])}.",
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
                        f"it by {money(surplus)} even at P90 confidence.",
                        rationale=f"Target {money(f.targets[g])}; capacity P10-P90 {money(np.percentile(f.base[:, g], 10))}-"
                        f"{money(np.percentile(f.base[:, g], 90))}.",
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


def given_recommendation(o: Outcome, f: Figures, given: dict[str, Any]) -> Recommendation:
    """Where to seat the given hires, and what is left to close after them."""
    assert o.given is not None
    seats = []
    for g, ga in enumerate(o.groups):
        for s in np.flatnonzero(o.given.hires[g]):
            seats.append((label(o, int(s)), f"{int(o.given.hires[g, s])} {ga.region} {ga.segment}"))
    by_month: dict[str, list[str]] = {}
    for when, who in seats:
        by_month.setdefault(when, []).append(who)
    where = "; ".join(f"{', '.join(who)} in {when}" for when, who in by_month.items()) or "none"
    period = o.horizon.period.name
    needed = int(sum(p.total for p in o.plans))
    left = given["gap"]["p50"]
    rest = (
        f"{money(left)} of the gap remains at P50; the full plan needs {needed} hires"
        if left > 0
        else f"capacity P50 clears the target by {money(-left)}"
    )
    n = given["hires"]
    return Recommendation(
        action=f"Seat the {n} approved {ROLE} hire{'s' if n != 1 else ''}: {where}.",
        rationale=f"These seats add the most expected bookings per hire in {period} ({money(given['expected_adds'])} "
        f"expected, OTE cost {money(given['ote_cost'])}); {rest}.",
        impact=Impact(
            metric=f"capacity P50, {period}",
            before=quantiles(f.base.sum(axis=1))["p50"],
            after=given["capacity"]["p50"],
        ),
        confidence=0.7,
    )
