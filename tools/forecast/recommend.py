"""Forecast recommendations: where the forecast falls short of target, and what closes it.

For the period in progress and the first forecast period, every series with a target whose
P50 is more than 3% under it gets one recommendation: build pipeline when its coverage is
below what its own win rate requires (tools/core/coverage.py: the same figure the metrics tool
quotes), otherwise work the commit deals that make up the gap, naming how many were pushed
more than once. Reps no longer in seat and the unassigned run-rate get none. Ranked by the
size of the gap; confidence comes from the series' backtest WAPE.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tools.contract import Impact, Recommendation
from tools.core import format as fmt
from tools.forecast.cells import UNASSIGNED

if TYPE_CHECKING:
    from tools.forecast.tool import Forecast

SHORT_BY = 0.03
MAX_RECOMMENDATIONS = 8
DEALS_SHOWN = 5


ALL_DATA = "Total"  # the top series' name when nothing narrows it


def _name(group: dict[str, str], row: dict[str, Any], top: str) -> str:
    parts = [row.get("name") or v if d == "rep" else v for d, v in group.items() if v != "All"]
    return " ".join(str(p) for p in parts) if parts else top


def recommendations(
    f: Forecast, rows: list[dict[str, Any]], current_rows: list[dict[str, Any]], top: str
) -> tuple[list[Recommendation], list[dict[str, Any]]]:
    """Recommendations and the deals they point at; `top` names the top series (the filters or scope)."""
    dims = list(f.params.by)
    periods = {p.name: p for p in f.timeline.periods}
    first = f.timeline.horizon[0].name
    accuracy = {node.id: f.run_rate.accuracy[i] for i, node in enumerate(f.req.hierarchy.nodes)}
    deals = f.pipeline.deals.assign(p_win=f.pipeline.p) if f.pipeline is not None else pd.DataFrame()
    recs: list[tuple[float, Recommendation]] = []
    deals_out: list[dict[str, Any]] = []
    for row in [*current_rows, *(r for r in rows if r["period"] == first)]:
        target, p50 = row.get("target"), row["p50"]
        if not target or p50 >= target * (1 - SHORT_BY) or row.get("in_seat") is False or row.get("rep") == UNASSIGNED:
            continue
        group = {d: str(row[d]) for d in dims}
        node_id = "|".join(f"{d}={v}" for d, v in group.items() if v != "All") or "total"
        gap = target - p50
        name, period = _name(group, row, top), row["period"]
        where = f"in {name}" if name != ALL_DATA else "across the business"
        acc = accuracy.get(node_id)
        confidence = float(np.clip(1 - acc.wape, 0.3, 0.9)) if acc is not None and np.isfinite(acc.wape) else 0.5
        commits = _commits(deals, group, periods[period])
        commit_sum = float(commits["amount"].sum()) if len(commits) else 0.0
        pushed = int((commits["push_count"] >= 2).sum()) if len(commits) else 0
        coverage, required, to_build = row.get("coverage"), row["required_coverage"], row.get("to_build")
        details = []
        if coverage is not None:
            basis = f"its {fmt.share(row['win_rate'])} win rate" if row.get("win_rate") else "the usual rule"
            details.append(f"coverage {fmt.multiple(coverage)} against the {fmt.multiple(required)} {basis} needs")
        if commit_sum > 0:
            details.append(
                f"its {len(commits)} commit deals ({fmt.money(commit_sum)}) are {commit_sum / gap:.0%} of the gap"
                + (f"; {pushed} of them slipped twice or more" if pushed else "")
            )
        headline = f"{name}: {period} P50 is {fmt.money(gap)} ({gap / target:.0%}) under its {fmt.money(target)} target"
        rationale = headline + (": " + "; ".join(details) if details else "") + "."
        if to_build:
            action = f"Build {fmt.money(to_build)} more {period} pipeline {where}, or lower the target."
            impact = Impact(metric=f"pipeline coverage {period} {name}", before=coverage, after=required, unit="x")
        elif commit_sum > 0:
            action = f"Inspect the {len(commits)} commit deals {where} closing in {period}" + (
                f", starting with the {pushed} that slipped more than once." if pushed else "."
            )
            impact = Impact(metric=f"P50 bookings {period} {name}", before=p50, after=target, unit="USD")
        else:
            action = f"Close the {fmt.money(gap)} gap {where} for {period}: no commit deals cover it yet."
            impact = Impact(metric=f"P50 bookings {period} {name}", before=p50, after=target, unit="USD")
        group_out = {d: v for d, v in group.items() if v != "All"}
        recs.append(
            (
                gap,
                Recommendation(
                    action=action, rationale=rationale, impact=impact, confidence=round(confidence, 2), group=group_out
                ),
            )
        )
        for deal in commits.sort_values("amount", ascending=False).head(DEALS_SHOWN).itertuples():
            deals_out.append(
                {
                    "period": period,
                    **group,
                    "opp_id": deal.opp_id,
                    "amount": float(deal.amount),
                    "stage": deal.stage,
                    "close_date": deal.close_date.date().isoformat(),
                    "push_count": int(deal.push_count),
                    "p_win": round(float(deal.p_win), 3),
                    "owner_rep_id": deal.owner_rep_id,
                }
            )
    recs.sort(key=lambda item: -item[0])
    return [r for _, r in recs[:MAX_RECOMMENDATIONS]], deals_out


def _commits(deals: pd.DataFrame, group: dict[str, str], period: Any) -> pd.DataFrame:
    """The group's open commit deals planned to close in `period`."""
    if deals.empty:
        return deals
    mask = (deals["forecast_category"] == "Commit").to_numpy()
    for d, v in group.items():
        if v != "All":
            mask &= deals[d].astype(str).to_numpy() == v
    close = deals["close_date"]
    mask &= ((close >= pd.Timestamp(period.start)) & (close < pd.Timestamp(period.end))).to_numpy()
    return deals[mask]
