"""The territory rebalance tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.spec import ToolSpec
from tools.territory.models import TerritoryInput, TerritoryResult
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: TerritoryInput, user: User) -> ToolResult:
    from tools.territory.tool import run_territory

    return run_territory(warehouse, params, scope=user.scope, user=user.user_id)


SPEC = ToolSpec(
    name="territory_rebalance",
    description="Rebalance accounts across reps to within a band on potential, ARR, workload or pipeline, moving "
    "the least value: the moves, the balance before and after.",
    input_model=TerritoryInput,
    result_model=TerritoryResult,
    heading="Territory rebalance",
    run=_run,
    headline_tables=("reps", "moves", "groups", "pareto"),
    column_units={
        "band_met": "share",
        "tightest_band": "share",
        "band_reachable": "text",
        "plan": "text",
        "cap": "share",
        "moved_share": "share",
        "moved_value": "USD",
        "accounts_moved": "count",
        "reps_outside_band": "count",
        "worst_deviation": "share",
        "mean_deviation": "share",
        "excess": "count",
        "bound_covers": "text",
        "optimality_gap": "share",
        "disruption": "USD",
        "lower_bound": "USD",
        "late_stage_pipeline": "USD",
        "distance_km": "count",
        "units": "count",
        "seconds": "count",
        "accounts_before": "count",
        "accounts_after": "count",
        "unit": "text",
        "from_rep_id": "text",
        "to_rep_id": "text",
        "account_id": "text",
        "reason": "text",
        **{f"{m}_{k}": "USD" for m in ("potential", "arr", "pipeline") for k in ("target", "before", "after")},
        **{f"workload_{k}": "count" for k in ("target", "before", "after")},
    },
    intent="territory",
    saves_scenarios=True,
)
