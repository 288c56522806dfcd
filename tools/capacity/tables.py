"""The capacity result's tables: groups, months/quarters/period, the hiring plan (and the given
hires, when `hires` is set), the value of a hire by start month, and the open requisitions with
their modelled start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from tools.capacity.evaluate import Outcome
from tools.capacity.figures import ROLE, Figures, month, quantiles, report_periods
from tools.capacity.quantiles import percentiles
from tools.capacity.ramp import months_to_ramp

if TYPE_CHECKING:
    from tools.capacity.tool import Data


def groups_table(data: Data, o: Outcome, f: Figures) -> list[dict[str, Any]]:
    potential = data.potential.set_index(["region", "segment"])["potential"]
    reqs = o.requisitions.groupby(["region", "segment"]).size() if len(o.requisitions) else {}
    rows = []
    for g, ga in enumerate(o.groups):
        q = quantiles(f.base[:, g])
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
                "target_source": o.target_by_group[g] if g < len(o.target_by_group) else o.target_source,
                "capacity_p10": q["p10"],
                "capacity_p50": q["p50"],
                "capacity_p90": q["p90"],
                "gap_p50": round(float(f.targets[g]) - q["p50"], 2),
                "p_target_met": round(float((f.base[:, g] >= f.targets[g]).mean()), 4),
                "hires": hires,
                "capacity_with_plan": round(float(f.at_conf_plan[g]), 2),
                "remaining_gap": round(float(f.remaining[g]), 2),
                "last_useful_start": month(o, o.last_useful[g]),
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


def by_period(o: Outcome) -> list[dict[str, Any]]:
    periods = report_periods(o)
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


def hiring_plan(o: Outcome, f: Figures) -> list[dict[str, Any]]:
    return hire_rows(o, np.stack([p.hires for p in o.plans]) if o.plans else np.zeros((0, 0), dtype=np.int64))


def given_hires(o: Outcome) -> list[dict[str, Any]]:
    """Where the given hires (`hires`) start: the same columns as the hiring plan."""
    return [] if o.given is None else hire_rows(o, o.given.hires)


def hire_rows(o: Outcome, x: np.ndarray) -> list[dict[str, Any]]:
    """One row per group and start month of hires [G, S], with what they add and cost."""
    rows = []
    in_sim = o.horizon.in_period[o.horizon.sim_start :]
    for g, ga in enumerate(o.groups):
        for s in np.flatnonzero(x[g]):
            n = int(x[g, s])
            rows.append(
                {
                    "start_month": month(o, int(s)),
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


def hire_value(o: Outcome) -> list[dict[str, Any]]:
    rows = []
    for g, ga in enumerate(o.groups):
        for s in range(o.earliest_start, len(o.horizon.sim_months)):
            rows.append(
                {
                    "start_month": month(o, s),
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


def requisitions(o: Outcome) -> list[dict[str, Any]]:
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
