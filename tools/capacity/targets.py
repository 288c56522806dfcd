"""What each region x segment group must book in each month of the plan, and where that comes from.

* The targets table, through tools/core/targets.py (the figure every tool quotes for a slice);
  a group without a target of its own gets its share of what the company target leaves,
  split like expected capacity.
* A saved quota plan (a quota scenario): a group whose reps hold quota rows of the scenario for
  the period must carry their sum (the question "can the team carry the plan?"); the other
  groups keep their targets, and the result says which groups are which.
* `--target`: the given total, split like the targets (or expected capacity).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tools.capacity.evaluate import Horizon
from tools.core import format as fmt
from tools.core.hierarchy import build_hierarchy
from tools.core.scenario import ScenarioUse
from tools.core.selection import Selection
from tools.core.targets import node_targets, overlap_weights
from warehouse.calendar import FiscalCalendar, Period
from warehouse.errors import InputError


@dataclass
class Targets:
    values: np.ndarray  # [groups, months]; 0 outside the period
    source: str
    by_group: list[str] = field(default_factory=list)  # where each group's target comes from


def _table(
    selection: Selection,
    calendar: FiscalCalendar,
    months: list[Period],
    groups: list[tuple[str, str]],
    targets: pd.DataFrame,
    quotas: pd.DataFrame,
    shape: np.ndarray,
) -> np.ndarray | None:
    """[groups, months in period] from the targets table, or None when it has none."""
    hierarchy = build_hierarchy(["region", "segment"], groups)
    values = node_targets(hierarchy, selection.constraints, months, calendar, targets, quotas)
    if np.isnan(values).all():
        return None
    bottom = values[hierarchy.bottom]  # groups are sorted like the hierarchy's bottom
    total = values[0]
    for j in range(len(months)):
        known = ~np.isnan(bottom[:, j])
        if known.all():
            continue
        rest = total[j] - np.nansum(bottom[:, j])
        if np.isnan(rest):
            bottom[~known, j] = 0.0
            continue
        weights = shape[~known, j]
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(weights), 1 / len(weights))
        bottom[~known, j] = max(rest, 0.0) * weights
    return np.nan_to_num(bottom)


def targets(
    *,
    selection: Selection,
    horizon: Horizon,
    groups: list[tuple[str, str]],
    targets_table: pd.DataFrame,
    quotas: pd.DataFrame,
    aes: pd.DataFrame,
    shape: np.ndarray,
    given: float | None,
    scenario: ScenarioUse | None,
) -> Targets:
    """Target per group and month (see the module docstring); `shape` [groups, months] splits
    what has no finer target."""
    in_period = horizon.in_period
    cal = horizon.calendar
    months = [cal.month(m.year, m.month) for m, inside in zip(horizon.months, in_period, strict=True) if inside]
    out = np.zeros((len(groups), len(horizon.months)))
    table = _table(selection, cal, months, groups, targets_table, quotas, shape[:, in_period])
    by_group = ["targets table" if table is not None else "none"] * len(groups)
    if table is not None:
        out[:, in_period] = table
    source = "targets table" if table is not None else ""
    if scenario is not None and scenario.loaded.quota_changes:
        plan = scenario.loaded.overlay(quotas, "quotas")
        rep_group = aes.set_index("rep_id")[["region", "segment"]]
        plan = plan.drop(columns=["region", "segment"]).join(rep_group, on="rep_id")
        plan["amount"] = pd.to_numeric(plan["amount"], errors="coerce").fillna(0.0)
        changed = {dict(c.key)["rep_id"] for c in scenario.loaded.quota_changes}
        covered = []
        for g, (r, s) in enumerate(groups):
            rows = plan[(plan["region"] == r) & (plan["segment"] == s)]
            weights = [overlap_weights(cal, rows["period"], p) for p in months]
            touched = rows["rep_id"].isin(changed).to_numpy() & np.any([w > 0 for w in weights], axis=0)
            if not touched.any():
                continue
            out[g, in_period] = [float((rows["amount"] * w).sum()) for w in weights]
            by_group[g] = f"quota plan {scenario.loaded.scenario.name}"
            covered.append(f"{r} {s}")
        if covered:
            total = float(out[[g for g, b in enumerate(by_group) if b.startswith("quota plan")]].sum())
            scenario.used.append(
                f"quota rows for {len(covered)} of {len(groups)} groups: each must carry its reps' quotas "
                f"({fmt.money(total)} in all) instead of its target"
            )
            uncovered = [f"{r} {s}" for g, (r, s) in enumerate(groups) if not by_group[g].startswith("quota plan")]
            rest = len(uncovered)
            if rest:
                scenario.ignored.append(
                    f"it holds no quota for {', '.join(uncovered)} (no rep there has one in the plan), so "
                    f"{'that group keeps its target' if rest == 1 else 'those groups keep their targets'}"
                )
            source = f"quota plan {scenario.loaded.scenario.name} for {len(covered)} groups" + (
                f", targets table for {rest}" if rest else ""
            )
        else:
            scenario.ignored.append(f"its quota rows: none falls in {horizon.period.name}")
    if given is not None:
        base = out if out.sum() > 0 else np.where(in_period[None, :], shape, 0.0)
        if base.sum() <= 0:
            base = np.where(in_period[None, :], 1.0, 0.0) * np.ones((len(groups), 1))
        out = base / base.sum() * given
        source = "given (--target), split like " + (source or "expected capacity")
        by_group = ["given (--target)"] * len(groups)
    if out.sum() <= 0:
        raise InputError(
            f"No target found for {horizon.period.name} and {selection.describe()}.",
            "Give one with --target AMOUNT, or import targets (spm data import).",
        )
    return Targets(out, source, by_group)
