"""Balance against disruption: the best balance reachable under a series of caps on the value
moved, so a leader can pick the trade-off instead of taking the one plan that meets the band.

Each cap is solved as the least-imbalance problem within it (groups.build_problem's
`max_disruption`, normalised band slack minimised, disruption breaking ties), every group
under the same share of its own value; the uncapped plan that meets the band closes the
series.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

from tools.territory.groups import Group, Pending
from tools.territory.optimize import BAND_TOL
from tools.territory.report import outside_band
from tools.territory.solve import solve_all


def _row(label: str, cap: float | None, plans: list[tuple[Pending, np.ndarray, float]], band: float) -> dict[str, Any]:
    ratios, moved, value, accounts = [], 0.0, 0.0, 0
    for p, assignment, disruption in plans:
        loads = np.zeros_like(p.problem.targets)
        np.add.at(loads, assignment, p.problem.loads)
        ratios.append(loads[:, 0] / np.maximum(p.problem.targets[:, 0], 1e-9))
        moved += disruption
        assert p.problem.pricing is not None
        value += float(p.problem.pricing.unit_value.sum())
        owner = p.accounts["owner_rep_id"].to_numpy()
        accounts += int((p.reps["rep_id"].to_numpy()[assignment[p.unit_of]] != owner).sum())
    ratio = np.concatenate(ratios)
    deviation = np.abs(ratio - 1)
    return {
        "plan": label,
        "cap": cap,
        "moved_share": round(moved / max(value, 1e-9), 4),
        "moved_value": round(moved, 2),
        "accounts_moved": accounts,
        "reps_outside_band": int(outside_band(ratio, band).sum()),
        # What each cap minimises: the reps' distance outside the band, in targets (1 = one book).
        "excess": round(float(np.maximum(deviation - band - BAND_TOL, 0).sum()), 4),
        "worst_deviation": round(float(deviation.max()), 4),
        "mean_deviation": round(float(deviation.mean()), 4),
    }


def frontier(
    pending: list[Pending], groups: list[Group], caps: list[float], band: float, time_limit: float
) -> list[dict[str, Any]]:
    """One row per cap (least imbalance within it), then the plan that meets the band."""
    started = time.time()
    met = _row(f"meet +-{band:.0%}", None, [(g, g.solution.assignment, g.solution.objective) for g in groups], band)
    rows = []
    for i, cap in enumerate(sorted(caps)):
        if met["reps_outside_band"] == 0 and cap >= met["moved_share"]:
            # Room enough for the plan that meets the band: nothing balances better for less.
            rows.append(met | {"plan": f"move at most {cap:.0%}", "cap": cap})
            continue
        problems = []
        for p in pending:
            assert p.problem.pricing is not None
            problems.append(replace(p.problem, max_disruption=cap * float(p.problem.pricing.unit_value.sum())))
        share = (time_limit - (time.time() - started)) / (len(caps) - i)
        solved = solve_all(problems, max(share, 1.0))
        plans = [(p, s.assignment, s.objective) for p, (s, _) in zip(pending, solved, strict=True)]
        rows.append(_row(f"move at most {cap:.0%}", cap, plans, band))
    return [*rows, met]
