"""The capacity gap tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.capacity.models import CapacityInput, CapacityResult
from tools.contract import ToolResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: CapacityInput, user: User) -> ToolResult:
    from tools.capacity.tool import run_capacity

    return run_capacity(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="capacity_gap",
    description="Sales capacity vs target from ramp, attrition and time to fill: the fewest hires by region, segment "
    "and start month that close the gap at a confidence level, or what a given number of hires does.",
    input_model=CapacityInput,
    result_model=CapacityResult,
    heading="Capacity gap",
    run=_run,
    headline_tables=("comparison", "given_hires", "hiring_plan", "groups"),
    column_units={
        **dict.fromkeys(
            (
                "capacity_p10", "capacity_p50", "capacity_p90", "expected_capacity", "gap_p50", "capacity_with_plan",
                "capacity_p50_with_plan", "gap_p50_with_plan", "remaining_gap", "expected_adds", "ote_cost", "ote",
                "productivity_per_month", "potential_per_rep", "potential_per_rep_with_plan",
            ),
            "USD",
        ),
        **dict.fromkeys(("p_target_met", "attrition_annual", "share_of_ramped_rep"), "share"),
        **dict.fromkeys(("headcount", "headcount_with_plan", "ramped_fte", "open_requisitions", "max_hires_per_month"), "count"),
        **dict.fromkeys(("start_month", "role", "grain", "req_id", "planned_start", "modelled_start", "last_useful_start",
                         "productivity_source", "target_source", "allowed"), "text"),
        "ramp_months": "months",
    },
    intent="capacity",
)  # fmt: skip
