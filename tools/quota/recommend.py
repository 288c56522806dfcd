"""Quota recommendations: rebalance unfair quotas, set the over-assignment for a share at quota,
revisit a target no split can carry, review quotas above what a territory books in a good year.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tools.contract import Impact, Recommendation
from tools.core import format as fmt
from tools.quota import plan
from tools.quota.allocate import round_exact
from tools.quota.fairness import fairness
from tools.quota.load import Data
from tools.quota.models import QuotaInput
from tools.quota.setup import Setup, payout_fn
from tools.quota.simulate import Summary, run

SOLVER_TRIALS = 2_000
REBALANCE_TRIALS = 4_000
OVER_CAPACITY_SHOWN = 6


def _simulate(setup: Setup, quotas: np.ndarray, trials: int, seed: int) -> Summary:
    return run(setup.sim, {"q": quotas}, {"q": payout_fn(setup)}, trials=trials, seed=seed, scale=setup.trial(trials))[
        "q"
    ]


def rebalance(
    data: Data, params: QuotaInput, people: pd.DataFrame, quotas: np.ndarray, setup: Setup, summary: Summary
) -> tuple[Recommendation, list[dict[str, Any]]] | None:
    """Move quota from reps carrying far more per dollar of potential than peers (and with a
    below-median chance to hit) to reps with headroom; keep the total; recommend it when the
    share of reps at quota or the fairness of the plan improves."""
    seated = (setup.capacity >= 0.5) & (setup.potential > 0) & (quotas > 0)
    if seated.sum() < 4:
        return None
    ratio = np.where(seated, quotas / np.where(setup.potential > 0, setup.potential, 1), np.nan)
    med = float(np.nanmedian(ratio))
    over = seated & (ratio > 1.25 * med) & (summary.p_hit < np.median(summary.p_hit[seated]))
    under = seated & (ratio < 0.9 * med)
    headroom = np.where(under, setup.potential * med - quotas, 0.0).clip(min=0)
    if not over.any() or headroom.sum() <= 0:
        return None
    cut = np.where(over, np.minimum(0.15, 0.5 * (ratio / med - 1)), 0.0)
    new = quotas * (1 - cut)
    moved = float((quotas - new).sum())
    new = round_exact(
        new + moved * headroom / headroom.sum(), people["rep_id"].tolist(), params.unit, float(quotas.sum())
    )
    after = _simulate(setup, new, min(params.trials, REBALANCE_TRIALS), params.seed)
    share_b, share_a = float(np.mean(summary.share_at_quota)), float(np.mean(after.share_at_quota))
    cos_b, cos_a = float(np.nanmedian(summary.cost_of_sales)), float(np.nanmedian(after.cost_of_sales))
    gini_b = float(
        fairness(quotas[seated], setup.potential[seated], summary.p_hit[seated], summary.p90_bookings[seated])[
            "gini_quota_to_potential"
        ]  # type: ignore[arg-type]
    )
    gini_a = float(
        fairness(new[seated], setup.potential[seated], after.p_hit[seated], after.p90_bookings[seated])[
            "gini_quota_to_potential"
        ]  # type: ignore[arg-type]
    )
    if not (share_a > share_b + 0.01 or gini_b - gini_a > 0.02):
        return None
    pot_gap = 1 - float(np.mean(setup.potential[over])) / float(np.mean(setup.potential[seated & ~over]))
    cuts = cut[over] * 100
    span = f"{cuts.min():.0f}%" if round(cuts.min()) == round(cuts.max()) else f"{cuts.min():.0f}-{cuts.max():.0f}%"
    n_over, n_under = int(over.sum()), int(under.sum())
    rec = Recommendation(
        action=f"Lower the quota of {n_over} rep{'s' if n_over != 1 else ''} by {span} and move the {fmt.money(moved)} "
        f"to {n_under} rep{'s' if n_under != 1 else ''} with headroom.",
        rationale=(
            f"Their quotas are {np.nanmean(ratio[over]) / med:.1f}x the median quota per dollar of potential; "
            f"their territories hold {pot_gap:.0%} less potential than peers. Expected share of reps at quota "
            f"{fmt.share(share_b)} -> {fmt.share(share_a)}; Gini of quota to potential {gini_b:.2f} -> {gini_a:.2f}; "
            f"cost of sales {fmt.share(cos_b)} -> {fmt.share(cos_a)} ({fmt.change(cos_a - cos_b, 'share')})."
        ),
        impact=Impact(
            metric=f"expected share of reps at quota {data.period.name}",
            before=share_b * 100,
            after=share_a * 100,
            unit="%",
        ),
        confidence=0.7,
    )
    rows = [
        {
            "rep_id": people["rep_id"][i],
            "name": people["name"][i],
            "quota": round(float(quotas[i]), 2),
            "recommended": round(float(new[i]), 2),
            "change_pct": round(float(new[i] / quotas[i] - 1) * 100, 1),
        }
        for i in np.flatnonzero(new != quotas)
    ]
    return rec, rows


def share_at(
    data: Data, params: QuotaInput, people: pd.DataFrame, setup: Setup, goal: float, over: float
) -> tuple[float, float]:
    """(P50 share of reps at quota, chance bookings reach `goal`) with quotas over-assigned by `over`."""
    q = plan.quotas(data, params, setup, people, goal, over)
    s = _simulate(setup, q, min(params.trials, SOLVER_TRIALS), params.seed)
    return float(np.median(s.share_at_quota)), float((s.total_bookings >= goal).mean())


def solve_over_assignment(
    data: Data, params: QuotaInput, people: pd.DataFrame, setup: Setup, goal: float
) -> tuple[float, float, float] | None:
    """(over-assignment, its P50 share at quota, chance of reaching the target) for the target share
    (bisection), or None when 0-100% over-assignment cannot reach it."""
    lo, hi = 0.0, 1.0
    if params.cap is not None:
        # Caps bound what can be handed out: never try an over-assignment the caps cannot hold.
        room = float((params.cap * np.clip(setup.capacity[setup.capacity > 0], 0, 1)).sum())
        hi = max(0.0, min(1.0, room / goal - 1 - 1e-4))
    s_lo, _ = share_at(data, params, people, setup, goal, lo)
    s_hi, _ = share_at(data, params, people, setup, goal, hi)
    if s_lo < params.target_share or s_hi > params.target_share:
        return None
    for _ in range(12):
        mid = (lo + hi) / 2
        if share_at(data, params, people, setup, goal, mid)[0] >= params.target_share:
            lo = mid
        else:
            hi = mid
    s_final, p_final = share_at(data, params, people, setup, goal, lo)
    return round(lo, 3), s_final, p_final


def recommendations(
    data: Data,
    params: QuotaInput,
    people: pd.DataFrame,
    quotas: np.ndarray,
    setup: Setup,
    summary: Summary,
    goal: float | None,
) -> tuple[list[Recommendation], dict[str, list[dict[str, Any]]]]:
    recs: list[Recommendation] = []
    tables: dict[str, list[dict[str, Any]]] = {}
    moved = rebalance(data, params, people, quotas, setup, summary)
    if moved is not None:
        recs.append(moved[0])
        tables["quota_changes"] = moved[1]
    if params.method != "current" and goal is not None:
        recs += _over_assignment(data, params, people, setup, summary, goal)
    over_capacity = np.flatnonzero((quotas > summary.p90_bookings) & (quotas > 0))
    if len(over_capacity):
        names = ", ".join(str(people["rep_id"][i]) for i in over_capacity[:OVER_CAPACITY_SHOWN])
        recs.append(
            Recommendation(
                action=f"Review {len(over_capacity)} quotas that exceed what the territory books even in a good period: "
                f"{names}{' ...' if len(over_capacity) > OVER_CAPACITY_SHOWN else ''}.",
                rationale="Each is above the rep's simulated 90th-percentile bookings: the rep would need a "
                "better-than-1-in-10 outcome to reach it.",
                impact=Impact(metric="reps over capacity", before=float(len(over_capacity)), after=0.0, unit="count"),
                confidence=0.7,
            )
        )
    return recs, tables


def _over_assignment(
    data: Data, params: QuotaInput, people: pd.DataFrame, setup: Setup, summary: Summary, goal: float
) -> list[Recommendation]:
    period = data.period.name
    solved = solve_over_assignment(data, params, people, setup, goal)
    if solved is None:
        p_target = float((summary.total_bookings >= goal).mean())
        floor_share, _ = share_at(data, params, people, setup, goal, 0.0)
        if floor_share >= params.target_share:
            return []
        if p_target < 0.5:
            return [
                Recommendation(
                    action=f"Revisit the {period} target: even with no over-assignment only {fmt.share(floor_share)} of "
                    "reps reach quota (P50).",
                    rationale=(
                        f"The simulated territories book {fmt.money(float(np.median(summary.total_bookings)))} at P50 "
                        f"against a {fmt.money(goal)} target ({fmt.share(p_target)} chance of reaching it); no split of "
                        f"that target gets {fmt.share(params.target_share)} of reps to quota. Add capacity "
                        "(spm capacity gap) or lower the target."
                    ),
                    impact=Impact(metric="chance bookings reach target", before=p_target * 100, after=None, unit="%"),
                    confidence=0.6,
                )
            ]
        return [
            Recommendation(
                action=f"Expect at most {fmt.share(floor_share)} of reps at quota (P50, with no over-assignment), "
                f"not {fmt.share(params.target_share)}.",
                rationale=(
                    f"Bookings reach the {fmt.money(goal)} target in {fmt.share(p_target)} of trials, but single "
                    "territories swing too much for more reps to reach an even split of it; over-assigning lowers the "
                    "share further."
                ),
                impact=Impact(
                    metric="P50 share of reps at quota",
                    before=float(np.median(summary.share_at_quota)) * 100,
                    after=floor_share * 100,
                    unit="%",
                ),
                confidence=0.6,
            )
        ]
    x, share, p_target = solved
    now = float(np.median(summary.share_at_quota))
    if abs(x - params.over_assign) <= 0.005:
        return []
    return [
        Recommendation(
            action=f"Set over-assignment to {fmt.share(x)} (now {fmt.share(params.over_assign)}) for a P50 of "
            f"{fmt.share(share)} of reps at quota.",
            rationale=(
                f"At {fmt.share(params.over_assign)} the P50 share at quota is {fmt.share(now)}. Quotas then total "
                f"{fmt.money(goal * (1 + x))} against the {fmt.money(goal)} target; the chance that bookings reach the "
                f"target is {fmt.share(p_target)} either way (quotas do not change what the territories can book)."
            ),
            impact=Impact(metric="P50 share of reps at quota", before=now * 100, after=share * 100, unit="%"),
            confidence=0.6,
        )
    ]
