"""Forecast recommendations: where the forecast falls short of target, and what closes it.

For the period in progress and the first forecast period, every series with a target whose
P50 is more than 3% under it gets one recommendation: build pipeline when its coverage is
below what its own win rate requires (1 / win rate, not a fixed 3x), otherwise work the
commit deals that make up the gap, naming how many were pushed more than once. Ranked by the
size of the gap; confidence comes from the series' backtest WAPE.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tools.contract import Impact, Recommendation
from tools.forecast.hierarchy import TOTAL, Hierarchy
from warehouse.calendar import Period

SHORT_BY = 0.03
MAX_RECOMMENDATIONS = 8


def _money(value: float) -> str:
    v = abs(value)
    if v >= 1e6:
        return f"${v / 1e6:.1f}M"
    if v >= 1e3:
        return f"${v / 1e3:.0f}K"
    return f"${v:,.0f}"


def _name(group: dict[str, str], top_name: str) -> str:
    parts = [v for v in group.values() if v != "All"]
    return " ".join(parts) if parts else top_name


def recommendations(
    hierarchy: Hierarchy,
    rows: list[dict[str, Any]],
    current_rows: list[dict[str, Any]],
    pipe: pd.DataFrame | None,
    p_win: np.ndarray | None,
    periods: list[Period],
    offset: int,
    backtest: dict[str, Any],
    dims: list[str],
    pipe_column: dict[str, str],
    top_name: str,
) -> tuple[list[Recommendation], list[dict[str, Any]]]:
    """Recommendations and the deals they point at; `top_name` names the hierarchy's top node
    (the filters or scope it stands for)."""
    candidates = [*current_rows, *[r for r in rows if r["period"] == periods[offset].name]]
    by_series = backtest.get("by_series", {})
    recs: list[tuple[float, Recommendation]] = []
    deals_out: list[dict[str, Any]] = []
    for row in candidates:
        target, p50 = row.get("target"), row["p50"]
        if not target or p50 >= target * (1 - SHORT_BY):
            continue
        group = {d: row[d] for d in dims}
        node_id = "|".join(f"{d}={v}" for d, v in group.items() if v != "All") or TOTAL
        gap = target - p50
        name = _name(group, top_name)
        period = row["period"]
        acc = by_series.get(node_id)
        confidence = float(np.clip(1 - acc.wape, 0.3, 0.9)) if acc is not None and np.isfinite(acc.wape) else 0.5
        coverage, required, win_rate = (
            row.get("coverage"),
            row.get("required_coverage"),
            row.get("win_rate"),
        )

        deals = pd.DataFrame()
        if pipe is not None and p_win is not None and len(pipe):
            mask = np.ones(len(pipe), dtype=bool)
            for d, v in group.items():
                if v != "All":
                    mask &= pipe[pipe_column[d]].astype(str).to_numpy() == v
            period_obj = next(p for p in periods if p.name == period)
            close = pipe["close_date"]
            in_period = (close >= pd.Timestamp(period_obj.start)) & (close < pd.Timestamp(period_obj.end))
            mask &= in_period.to_numpy()
            deals = pipe[mask].assign(p_win=p_win[mask])
        commits = deals[deals["forecast_category"] == "Commit"] if not deals.empty else deals
        commit_sum = float(commits["amount"].sum()) if not commits.empty else 0.0
        pushed = int((commits["push_count"] >= 2).sum()) if not commits.empty else 0

        headline = f"{name}: {period} P50 is {_money(gap)} ({gap / target:.0%}) under its {_money(target)} target"
        details = []
        if coverage is not None and required is not None and win_rate:
            details.append(f"coverage {coverage:.1f}x against the {required:.1f}x its {win_rate:.0%} win rate needs")
        if commit_sum > 0:
            details.append(
                f"its {len(commits)} commit deals ({_money(commit_sum)}) are {commit_sum / gap:.0%} of the gap"
                + (f"; {pushed} of them slipped twice or more" if pushed else "")
            )
        rationale = headline + (": " + "; ".join(details) if details else "") + "."
        if coverage is not None and required is not None and coverage < required:
            needed = (required - coverage) * (target - row.get("booked_to_date", 0.0))
            action = f"Build {_money(needed)} more {period} pipeline in {name}, or lower its target."
            impact = Impact(
                metric=f"pipeline coverage {period} {name}",
                before=coverage,
                after=required,
                unit="x",
            )
        elif commit_sum > 0:
            action = f"Inspect the {len(commits)} commit deals in {name} closing in {period}" + (
                f", starting with the {pushed} that slipped more than once." if pushed else "."
            )
            impact = Impact(metric=f"P50 bookings {period} {name}", before=p50, after=target, unit="USD")
        else:
            action = f"Close the {_money(gap)} gap in {name} for {period}: no commit deals cover it yet."
            impact = Impact(metric=f"P50 bookings {period} {name}", before=p50, after=target, unit="USD")
        recs.append(
            (
                gap,
                Recommendation(
                    action=action,
                    rationale=rationale,
                    impact=impact,
                    confidence=round(confidence, 2),
                    group={k: v for k, v in group.items() if v != "All"},
                ),
            )
        )
        for deal in commits.sort_values("amount", ascending=False).head(5).itertuples():
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
