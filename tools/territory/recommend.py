"""Territory recommendations: apply the plan (or the closest one), the biggest rep-to-rep moves,
what blocks an impossible band, and hires when reps may not own all the accounts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tools.contract import Impact, Recommendation
from tools.core import format as fmt
from tools.territory.blockers import Blocker
from tools.territory.groups import Group
from tools.territory.models import TerritoryInput
from tools.territory.report import Figures, rep_ratios

PAIRS_SHOWN = 5


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def recommendations(
    groups: list[Group], params: TerritoryInput, f: Figures, found: list[Blocker]
) -> list[Recommendation]:
    recs: list[Recommendation] = []
    m = f.metrics
    m0 = params.balance_on[0]
    b, a = m["before"][m0], m["after"][m0]
    moves = f.moves
    if len(moves):
        impossible = [g for g in groups if g.solution.status == "infeasible"]
        closest = max((g.solved_band for g in impossible), default=None)
        plan = (
            f"Apply the closest plan: {_plural(len(moves), 'account move')}"
            if impossible
            else f"Apply the plan: {_plural(len(moves), 'account move')}"
        )
        why = (
            f" A +-{params.band:.0%} band is impossible in {_plural(len(impossible), 'group')} (see below); this plan keeps "
            f"every rep there within +-{closest:.1%}."
            if impossible and closest is not None
            else f" The plan is within {m['optimality_gap'] or 0:.1%} of the least disruption possible."
        )
        recs.append(
            Recommendation(
                action=f"{plan}, {fmt.share(m['disruption']['value_share'])} of value "
                f"({fmt.share(m['disruption']['arr_share'])} of ARR).",
                rationale=f"Reps outside +-{params.band:.0%} of their {m0} target go from {b['reps_outside_band']} "
                f"to {a['reps_outside_band']}; the spread (CV) from {b['cv']:.2f} to {a['cv']:.2f}." + why,
                impact=Impact(
                    metric=f"reps outside the {m0} band",
                    before=float(b["reps_outside_band"]),
                    after=float(a["reps_outside_band"]),
                    unit="count",
                ),
                confidence=0.8 if m["status"] in ("optimal", "feasible") else 0.5,
            )
        )
        recs += _pairs(groups, params, moves)
    pareto = f.tables.get("pareto") or []
    if pareto:
        recs.append(_trade_off(pareto, params))
    for blocker in found:
        if blocker.action:
            recs.append(
                Recommendation(
                    action=blocker.action,
                    rationale=f"This blocks a +-{params.band:.0%} band in {blocker.group}; "
                    "the tightest achievable band is in the groups table.",
                    impact=Impact(metric="band", before=params.band * 100, after=None, unit="%"),
                    confidence=0.9,
                    group=dict(zip(("region", "segment"), blocker.group.split(" ", 1), strict=False)),
                )
            )
    recs += _hires(groups, params)
    return recs


def _pairs(groups: list[Group], params: TerritoryInput, moves: pd.DataFrame) -> list[Recommendation]:
    """The largest moves from one rep to another, with what they do to both reps' loads."""
    m0 = params.balance_on[0]
    rows = {rep: r for g in groups for rep, r in rep_ratios(g, params).items()}
    pairs = (
        moves[moves["from_rep_id"].isin(rows)]
        .groupby(["from_rep_id", "to_rep_id"])
        .agg(
            n=("account_id", "size"),
            value=("value", "sum"),
            potential=("potential", "sum"),
            arr=("arr", "sum"),
            late=("late_stage_pipeline", "sum"),
        )
        .reset_index()
        .sort_values("value", ascending=False)
    )
    out = []
    for p in pairs.head(PAIRS_SHOWN).itertuples():
        src, dst = rows[p.from_rep_id], rows[p.to_rep_id]
        late = (
            f"; {fmt.money(p.late)} of late-stage pipeline moves with them: agree credit splits" if p.late > 0 else ""
        )
        out.append(
            Recommendation(
                action=f"Move {_plural(int(p.n), 'account')} from {src['name']} ({p.from_rep_id}) to {dst['name']} "
                f"({p.to_rep_id}): {fmt.money(p.potential)} potential, {fmt.money(p.arr)} ARR.",
                rationale=f"{p.from_rep_id} goes from {src['before']:.0%} to {src['after']:.0%} of target {m0}, "
                f"{p.to_rep_id} from {dst['before']:.0%} to {dst['after']:.0%}{late}.",
                impact=Impact(
                    metric=f"{p.from_rep_id} {m0} vs target",
                    before=src["before"] * 100,
                    after=src["after"] * 100,
                    unit="%",
                ),
                confidence=0.75,
                group={"region": src["region"], "segment": src["segment"]},
            )
        )
    return out


def _hires(groups: list[Group], params: TerritoryInput) -> list[Recommendation]:
    out = []
    for g in groups:
        p = g.problem
        if p.max_count is None or p.counts is None or p.counts.sum() <= p.max_count.sum():
            continue
        need = int(np.ceil((p.counts.sum() - p.max_count.sum()) / max(p.max_count[0], 1)))
        label = " ".join(str(k) for k in g.key)
        out.append(
            Recommendation(
                action=f"Hire {_plural(need, 'more AE')} in {label}: the accounts exceed what current reps may own.",
                rationale=f"{int(p.counts.sum())} accounts against {int(p.max_count.sum())} slots at "
                f"--max-accounts {params.max_accounts}; see spm capacity gap.",
                impact=Impact(metric="AEs", before=float(p.reps), after=float(p.reps + need), unit="count"),
                confidence=0.7,
            )
        )
    return out


def _trade_off(rows: list[dict[str, Any]], params: TerritoryInput) -> Recommendation:
    """The knee of balance vs disruption: the smallest cap that leaves no rep further than twice
    the band out (else the plan that meets the band), with the whole series in the rationale."""
    met = rows[-1]
    knee = next((r for r in rows[:-1] if r["worst_deviation"] <= 2 * params.band), met)
    if knee["moved_share"] >= met["moved_share"]:
        knee = met  # the plan that meets the band moves no more: nothing to trade
    series = "; ".join(
        f"{r['plan']}: {fmt.share(r['moved_share'])} moved, {r['reps_outside_band']} reps outside, "
        f"worst {fmt.share(r['worst_deviation'])}"
        for r in rows
    )
    return Recommendation(
        action=f"For the least disruption with near balance: {knee['plan']} ({fmt.share(knee['moved_share'])} of value, "
        f"{_plural(knee['accounts_moved'], 'account')}), leaving {knee['reps_outside_band']} reps outside +-{params.band:.0%}.",
        rationale=f"Balance vs disruption: {series}.",
        impact=Impact(
            metric="share of value moved",
            before=float(met["moved_share"]),
            after=float(knee["moved_share"]),
            unit="share",
        ),
        confidence=0.7,
    )
