"""Per-trial sums of a capacity outcome and its headline figures.

Conventions: capacity quantiles are percentiles of simulated bookings (P10 low, P90 high); the
gap is target minus capacity, so `gap.p90` = target - capacity P10 (the bad case). The hiring
plan's confidence `pXX` means capacity reaches the target in XX% of trials.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.capacity.evaluate import Outcome
from tools.capacity.plan import capacity_quantile
from tools.capacity.quantiles import percentiles
from tools.capacity.ramp import months_to_ramp
from tools.core import format as fmt
from warehouse.calendar import Period

ROLE = "AE"


def quantiles(values: np.ndarray) -> dict[str, float]:
    p10, p50, p90 = percentiles(values, [10, 50, 90])
    return {"p10": round(float(p10), 2), "p50": round(float(p50), 2), "p90": round(float(p90), 2)}


def gap(target: float, cap: dict[str, float]) -> dict[str, float]:
    return {
        "p10": round(target - cap["p90"], 2),
        "p50": round(target - cap["p50"], 2),
        "p90": round(target - cap["p10"], 2),
    }


def month(o: Outcome, s: int | None) -> str | None:
    """A simulation month as YYYY-MM."""
    return None if s is None else o.horizon.sim_months[s].isoformat()[:7]


def label(o: Outcome, s: int) -> str:
    return o.horizon.sim_months[s].strftime("%b %Y")


def money(value: float) -> str:
    return fmt.money(value)


def report_periods(o: Outcome) -> list[tuple[str, Period, np.ndarray]]:
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
        for p in cal.children(period, grain):
            out.append((grain, p, np.array([p.start <= m < p.end for m in months])))
    if period.grain not in ("year", "half") or not out or out[-1][1] != period:
        out.append((period.grain, period, np.array([period.start <= m < period.end for m in months])))
    return out


class Figures:
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


def assumption_metrics(o: Outcome) -> dict[str, Any]:
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
        "hiring_freeze_from": None if o.team.freeze is None else month(o, o.team.freeze),
        "seasonality": [round(float(v), 3) for v in a.season],
        "seasonality_source": a.season_source,
        "market_cv_per_quarter": round(a.market_cv, 4),
        "confidence": o.params.confidence,
        "min_useful_share": o.params.min_useful_share,
        "trials": o.params.trials,
        "seed": o.params.seed,
    }


def headline(o: Outcome, f: Figures) -> dict[str, Any]:
    total = f.base.sum(axis=1)
    planned = f.planned.sum(axis=1)
    cap, cap_plan = quantiles(total), quantiles(planned)
    hiring_groups = [g for g, p in enumerate(o.plans) if p.total > 0]
    useful = [s for g in (hiring_groups or range(len(o.groups))) if (s := o.last_useful[g]) is not None]
    return {
        "target": round(f.target, 2),
        "capacity": cap,
        "expected_capacity": round(f.expected, 2),
        "gap": gap(f.target, cap),
        "p_target_met": round(float((total >= f.target).mean()), 4),
        "hires_needed": int(sum(p.total for p in o.plans)),
        "last_useful_start": month(o, min(useful)) if useful else None,
        "capacity_with_plan": cap_plan,
        "gap_with_plan": gap(f.target, cap_plan),
        "p_target_met_with_plan": round(float((planned >= f.target).mean()), 4),
        "uncloseable_gap": round(float(f.remaining.sum()), 2),
        "team_cost": round(f.team_cost, 2),
        "plan_cost": round(f.plan_cost, 2),
        "cost_of_sales": {
            "baseline": round(f.team_cost / cap["p50"], 4) if cap["p50"] > 0 else None,
            "with_plan": round((f.team_cost + f.plan_cost) / cap_plan["p50"], 4) if cap_plan["p50"] > 0 else None,
        },
    }


def given_headline(o: Outcome, f: Figures) -> dict[str, Any] | None:
    """Capacity with the given hires (`hires`) on the team's own draws, or None when none were given.

    The hires add to the same trials as the baseline, so zero hires is the baseline exactly and
    the plan's own hires give the plan's figures exactly.
    """
    given = o.given
    if given is None:
        return None
    mask = o.horizon.in_period[o.horizon.sim_start :]
    # Summed in the order Figures sums the plan (groups first), so the plan's hires reproduce its
    # figures to the cent rather than to rounding.
    total = (f.base + o.hires_capacity(given.hires)[:, :, mask].sum(axis=2)).sum(axis=1)
    cap = quantiles(total)
    x = given.hires.astype(float)
    ote = np.array([g.ote for g in o.groups])
    heads = np.einsum("gs,gsm->g", x, o.hires.headcount[:, :, mask])
    return {
        "hires": given.total,
        "start": month(o, given.start),
        "capacity": cap,
        "gap": gap(f.target, cap),
        "p_target_met": round(float((total >= f.target).mean()), 4),
        "expected_adds": round(float((x * o.value).sum()), 2),
        "ote_cost": round(float((ote * heads).sum() / 12), 2),
    }
