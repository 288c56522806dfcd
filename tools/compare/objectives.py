"""What ranks the options of each tool: a figure of its result, which way is better, its unit.

The first objective of each tool is its default. A figure's path is a dotted path into the
tool result's `metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass

from tools.core.format import Unit
from warehouse.errors import InputError


@dataclass(frozen=True)
class Objective:
    name: str
    label: str
    path: str
    better: str  # "higher" or "lower"
    unit: Unit


OBJECTIVES: dict[str, tuple[Objective, ...]] = {
    "quota_simulate": (
        Objective("share_at_quota", "P50 share of reps at quota", "share_reps_at_quota.p50", "higher", "share"),
        Objective("bookings", "P50 bookings", "bookings.p50", "higher", "USD"),
        Objective("cost_of_sales", "P50 cost of sales", "cost_of_sales.p50", "lower", "share"),
        Objective("fairness", "Gini of quota to potential", "fairness.gini_quota_to_potential", "lower", "index"),
    ),
    "forecast": (
        Objective("accuracy", "backtest MASE", "backtest.mase", "lower", "index"),
        Objective("p50", "P50 bookings of the first period", "total_first_period.p50", "higher", "USD"),
    ),
    "territory_rebalance": (
        Objective("disruption", "share of value moved", "disruption.value_share", "lower", "share"),
        Objective("accounts", "accounts moved", "disruption.accounts", "lower", "count"),
        Objective("balance", "spread (CV) after the plan", "after.{balanced}.cv", "lower", "index"),
    ),
    "capacity_gap": (
        Objective("confidence", "chance of making target with the plan", "p_target_met_with_plan", "higher", "share"),
        Objective("hires", "hires needed", "hires_needed", "lower", "count"),
        Objective("gap", "P50 gap to target", "gap.p50", "lower", "USD"),
        Objective("gap_with_hires", "P50 gap left with the hires", "given_hires.gap.p50", "lower", "USD"),
        Objective("cost", "cost of the hiring plan", "plan_cost", "lower", "USD"),
    ),
}
# `{balanced}` in a path stands for the first metric the plan balanced on (potential, arr, ...).
# Figures shown beside the objective in the options table: (column, path, unit).
SHOWN: dict[str, tuple[tuple[str, str, Unit], ...]] = {
    "quota_simulate": (
        ("share_at_quota_p50", "share_reps_at_quota.p50", "share"),
        ("bookings_p50", "bookings.p50", "USD"),
        ("cost_of_sales_p50", "cost_of_sales.p50", "share"),
        ("total_quota", "total_quota", "USD"),
    ),
    "forecast": (
        ("p50", "total_first_period.p50", "USD"),
        ("p10", "total_first_period.p10", "USD"),
        ("p90", "total_first_period.p90", "USD"),
        ("mase", "backtest.mase", "index"),
    ),
    "territory_rebalance": (
        ("value_moved_share", "disruption.value_share", "share"),
        ("accounts_moved", "disruption.accounts", "count"),
        ("reps_outside_band", "after.{balanced}.reps_outside_band", "count"),
        ("cv_after", "after.{balanced}.cv", "index"),
    ),
    "capacity_gap": (
        ("capacity_p50_with_hires", "given_hires.capacity.p50", "USD"),
        ("p_target_with_hires", "given_hires.p_target_met", "share"),
        ("hires", "hires_needed", "count"),
        ("gap_p50", "gap.p50", "USD"),
        ("p_target_met_with_plan", "p_target_met_with_plan", "share"),
        ("plan_cost", "plan_cost", "USD"),
    ),
}


def objective(tool: str, name: str | None) -> Objective:
    choices = OBJECTIVES[tool]
    if name is None:
        return choices[0]
    for o in choices:
        if o.name == name:
            return o
    raise InputError(f"Unknown objective {name!r} for {tool}.", f"Use one of: {', '.join(o.name for o in choices)}.")
