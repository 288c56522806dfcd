"""A simulated quota set as figures people read: headline metrics, one row per rep, the summary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tools.core import format as fmt
from tools.core.whatif import Figure
from tools.quota.fairness import fairness
from tools.quota.setup import Setup
from tools.quota.simulate import Summary
from tools.quota.whatif import ADJUST_COLUMN

# The headline figures a what-if compares (tables.comparison).
FIGURES = (
    Figure("total_quota", "total quota", "USD"),
    Figure("share_reps_at_quota.p50", "P50 share of reps at quota", "share"),
    Figure("bookings.p50", "P50 bookings", "USD"),
    Figure("p_bookings_at_or_above_target", "chance bookings reach the target", "share"),
    Figure("payout.p50", "P50 payout", "USD"),
    Figure("cost_of_sales.p50", "P50 cost of sales", "share"),
    Figure("fairness.gini_quota_to_potential", "Gini of quota to potential", "index"),
)


def quantiles(values: np.ndarray, digits: int = 4) -> dict[str, float]:
    v = values[np.isfinite(values)]
    if not len(v):
        return {"p10": 0.0, "p50": 0.0, "p90": 0.0}
    p10, p50, p90 = np.percentile(v, [10, 50, 90])
    return {"p10": round(float(p10), digits), "p50": round(float(p50), digits), "p90": round(float(p90), digits)}


def headline(summary: Summary, quotas: np.ndarray, setup: Setup, goal: float | None) -> dict[str, Any]:
    seated = setup.capacity > 0
    fair = fairness(quotas[seated], setup.potential[seated], summary.p_hit[seated], summary.p90_bookings[seated])
    return {
        "total_quota": round(float(quotas.sum()), 2),
        "share_reps_at_quota": quantiles(summary.share_at_quota),
        "bookings": quantiles(summary.total_bookings, 2),
        "expected_bookings": round(setup.expected_total, 2),
        "p_bookings_at_or_above_target": None
        if goal is None
        else round(float((summary.total_bookings >= goal).mean()), 4),
        "payout": quantiles(summary.total_payout, 2),
        "cost_of_sales": quantiles(summary.cost_of_sales),
        "fairness": {k: v for k, v in fair.items() if k != "over_capacity_index"},
    }


def _num(value: float, digits: int = 4) -> float | None:
    return None if not np.isfinite(value) else round(float(value), digits)


def rep_rows(people: pd.DataFrame, quotas: np.ndarray, s: Summary, setup: Setup) -> list[dict[str, Any]]:
    rows = []
    for i, p in enumerate(people.itertuples()):
        rows.append(
            {
                "rep_id": p.rep_id,
                "name": p.name,
                "region": p.region,
                "segment": p.segment,
                "kind": p.kind,
                "quota": round(float(quotas[i]), 2),
                "p_hit": _num(s.p_hit[i]),
                "expected_attainment": _num(s.mean_attainment[i]),
                "expected_bookings": round(float(setup.expected_full[i]), 2),
                "booked_to_date": round(float(setup.booked[i]), 2),
                "potential": round(float(setup.potential[i]), 2),
                "history": round(float(setup.history[i]), 2),
                "capacity": round(float(setup.capacity[i]), 4),
                "quota_to_potential": None
                if setup.potential[i] <= 0
                else round(float(quotas[i] / setup.potential[i]), 4),
                "expected_payout": round(float(s.mean_payout[i]), 2),
                "over_capacity": bool(quotas[i] > s.p90_bookings[i] and quotas[i] > 0),
            }
        )
    return rows


def group_rows(
    people: pd.DataFrame,
    groups: list[tuple[str, str]],
    base: tuple[np.ndarray, Summary],
    asked: tuple[np.ndarray, Summary],
) -> list[dict[str, Any]]:
    """Comparison rows for the groups a what-if changes: their quota and expected share at quota."""
    out = []
    for dim, value in groups:
        mask = people[ADJUST_COLUMN[dim]].astype(str).str.lower().eq(value.lower()).to_numpy()
        if not mask.any():
            continue
        figures = (
            ("quota", "USD", float(base[0][mask].sum()), float(asked[0][mask].sum())),
            (
                "expected share of reps at quota",
                "share",
                float(np.nanmean(base[1].p_hit[mask])),
                float(np.nanmean(asked[1].p_hit[mask])),
            ),
        )
        for label, unit, before, after in figures:
            out.append(
                {
                    dim: value,
                    "metric": label,
                    "unit": unit,
                    "baseline": round(before, 4),
                    "what_if": round(after, 4),
                    "change": round(after - before, 4),
                }
            )
    return out


def summary_text(period: str, m: dict[str, Any], method: str, goal: float | None) -> str:
    share = m["share_reps_at_quota"]
    text = (
        f"{period}: {fmt.money(m['total_quota'])} of quota for a {'' if goal is None else fmt.money(goal) + ' '}target "
        f"({method}, {fmt.share(m['over_assign'])} over-assigned) across {m['reps']} reps"
        + (f" and {m['open_requisitions']} open requisitions" if m["open_requisitions"] else "")
        + f": P50 {fmt.share(share['p50'])} of reps reach quota (P10 {fmt.share(share['p10'])}, P90 "
        f"{fmt.share(share['p90'])}); bookings P50 {fmt.money(m['bookings']['p50'])}"
        + ("" if goal is None else f" ({fmt.share(m['p_bookings_at_or_above_target'])} chance of reaching target)")
        + f"; cost of sales P50 {fmt.share(m['cost_of_sales']['p50'])}."
    )
    if "baseline" in m:
        b = m["baseline"]
        text += (
            f" What-if ({', '.join(m['what_if_inputs'])}): total quota {fmt.money(b['total_quota'])} -> "
            f"{fmt.money(m['total_quota'])}; P50 share at quota {fmt.share(b['share_reps_at_quota']['p50'])} -> "
            f"{fmt.share(share['p50'])}; bookings P50 {fmt.money(b['bookings']['p50'])} -> "
            f"{fmt.money(m['bookings']['p50'])}; cost of sales {fmt.share(b['cost_of_sales']['p50'])} -> "
            f"{fmt.share(m['cost_of_sales']['p50'])}."
        )
    return text
