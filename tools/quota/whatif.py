"""The quota what-if: a saved scenario (account moves, quota rows), group adjustments, leavers.

Applied in that order to the baseline quota set, and simulated on the same draws as the
baseline (common random numbers), so the difference is the plan's, not the dice's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tools.core.scenario import ScenarioUse
from tools.quota import plan, setup
from tools.quota.load import Data
from tools.quota.models import QuotaInput
from tools.quota.setup import Setup
from warehouse.errors import InputError

ADJUST_COLUMN = {"region": "region", "segment": "segment", "manager": "manager_id", "rep": "rep_id"}


@dataclass
class WhatIf:
    quotas: np.ndarray
    setup: Setup
    notes: list[str]
    scenario: ScenarioUse | None


def apply(
    data: Data, params: QuotaInput, people: pd.DataFrame, quotas: np.ndarray, base: Setup, given: object
) -> WhatIf:
    notes: list[str] = []
    w_setup, w_quotas = base, quotas.copy()
    use = ScenarioUse(data.scenario) if data.scenario is not None else None
    if use is not None:
        moves = use.loaded.account_moves
        if moves:
            accounts = use.loaded.with_moves(data.accounts)
            moved, _, _ = setup.build(data, people, accounts, given)  # type: ignore[arg-type]
            w_setup = moved.scaled(base.scale)
            w_quotas = plan.quotas(data, params, w_setup, people, plan.target(data, params), params.over_assign)
            use.used.append(f"{len(moves)} account moves: territories re-built, quotas re-allocated by {params.method}")
        if use.loaded.quota_changes:
            stored = plan.period_quotas(data, use.loaded.overlay(data.quotas, "quotas"))
            w_quotas = people["rep_id"].map(stored).fillna(0.0).to_numpy(dtype=float)
            use.used.append(f"{len(use.loaded.quota_changes)} quota rows: the scenario's quotas for {data.period.name}")
        territories = [c for c in use.loaded.changes if c.table == "accounts" and c.column == "territory_id"]
        if territories:
            use.ignored.append(f"{len(territories)} territory assignments (quotas follow account owners)")
    for adj in params.adjustments:
        mask = people[ADJUST_COLUMN[adj.dim]].astype(str).str.lower().eq(adj.value.lower()).to_numpy()
        if not mask.any():
            raise InputError(
                f"Adjustment {adj.dim}={adj.value} matches no rep in this selection.",
                "Check the name with spm data summary.",
            )
        w_quotas[mask] *= 1 + adj.pct / 100
        notes.append(f"{adj.dim} {adj.value}: quotas {adj.pct:+g}% ({int(mask.sum())} reps).")
    if params.leave:
        unknown = sorted(set(params.leave) - set(people["rep_id"]))
        if unknown:
            raise InputError(
                f"Unknown or out-of-selection rep(s) leaving: {', '.join(unknown)}.", "Use rep ids, e.g. R-00042."
            )
        leaving = people["rep_id"].isin(params.leave).to_numpy()
        w_quotas[leaving] = 0.0
        w_setup = w_setup.without(leaving)
        notes.append(f"{int(leaving.sum())} reps leave at the start of the period; their territories go uncovered.")
    return WhatIf(w_quotas, w_setup, notes, use)


def describe(params: QuotaInput, data: Data) -> list[str]:
    """The what-if's levers in words."""
    out = [f"{a.dim} {a.value} quotas {a.pct:+g}%" for a in params.adjustments]
    if params.leave:
        out.append(f"{len(params.leave)} reps leave ({', '.join(params.leave[:5])})")
    if data.scenario is not None:
        out.append(f"scenario {data.scenario.scenario.name}")
    return out
