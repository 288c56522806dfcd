"""The compare tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.compare.models import CompareInput, CompareResult
from tools.contract import ToolResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: CompareInput, user: User) -> ToolResult:
    from tools.compare.tool import run_compare

    return run_compare(warehouse, params, user)


SPEC = ToolSpec(
    name="compare_plans",
    description="Compare 2-6 options of one planning question (methods, quota changes, bands, hiring levels, "
    "what-ifs) on the same random draws; ranks them and names the winner.",
    input_model=CompareInput,
    result_model=CompareResult,
    heading="Comparison",
    run=_run,
    headline_tables=("options",),
    column_units={"objective": "text", "share_at_quota_p50": "share", "bookings_p50": "USD",
                  "cost_of_sales_p50": "share", "total_quota": "USD", "mase": "index", "value_moved_share": "share",
                  "accounts_moved": "count", "reps_outside_band": "count", "cv_after": "index", "hires": "count",
                  "gap_p50": "USD", "p_target_met_with_plan": "share", "plan_cost": "USD", "rank": "count",
                  "capacity_p50_with_hires": "USD", "p_target_with_hires": "share"},
)  # fmt: skip
