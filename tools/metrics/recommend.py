"""KPI recommendations: pipeline to build where coverage is short of what a row needs (the same
figure the forecast quotes, tools/core/coverage.py), and AEs far behind quota."""

from __future__ import annotations

from typing import Any

from tools.contract import Impact, Recommendation
from tools.core import format as fmt
from tools.metrics.models import MetricsInput

SHOWN = 3
BEHIND = 0.5


def recommendations(params: MetricsInput, period: str, rows: list[dict[str, Any]]) -> list[Recommendation]:
    recs = []
    if params.metric == "coverage":
        short = [r for r in rows if r.get("value") is not None and r.get("to_build")]
        for r in sorted(short, key=lambda r: -r["to_build"])[:SHOWN]:
            who = " ".join(str(r[d]) for d in params.by) or "the selection"
            basis = f"its {fmt.share(r['win_rate'])} win rate" if r.get("win_rate") else "the usual rule"
            recs.append(
                Recommendation(
                    action=f"Build {fmt.money(r['to_build'])} more {period} pipeline in {who}.",
                    rationale=f"Coverage is {fmt.multiple(r['value'])} of the {fmt.money(r['remaining_target'])} left "
                    f"to book; {basis} needs {fmt.multiple(r['required_coverage'])}.",
                    impact=Impact(metric=f"coverage {who}", before=r["value"], after=r["required_coverage"], unit="x"),
                    confidence=0.6,
                    group={d: str(r[d]) for d in params.by},
                )
            )
    if params.metric == "attainment" and "rep" in params.by:
        behind = [r for r in rows if r.get("value") is not None and r["value"] < BEHIND]
        if behind:
            names = ", ".join(str(r.get("name") or r["rep"]) for r in behind[:5])
            recs.append(
                Recommendation(
                    action=f"Review the {len(behind)} AEs under {fmt.share(BEHIND)} of quota in {period} ({names}).",
                    rationale=f"They hold {fmt.money(sum(r['quota'] for r in behind))} of quota and have booked "
                    f"{fmt.money(sum(r['booked'] for r in behind))}.",
                    impact=Impact(
                        metric=f"AEs under {fmt.share(BEHIND)} attainment", before=float(len(behind)), unit="count"
                    ),
                    confidence=0.5,
                )
            )
    return recs
