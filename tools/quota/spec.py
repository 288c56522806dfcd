"""The quota simulation tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.quota.models import QuotaInput, QuotaResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: QuotaInput, user: User) -> ToolResult:
    from tools.quota.tool import run_quota

    return run_quota(warehouse, params, scope=user.scope, user=user.user_id)


SPEC = ToolSpec(
    name="quota_simulate",
    description="Allocate a period's target to reps as quotas (or take the stored ones) and simulate attainment, "
    "comp cost and fairness; what-ifs on quotas by group, leavers, a comp plan or a saved scenario.",
    input_model=QuotaInput,
    result_model=QuotaResult,
    heading="Quota simulation",
    run=_run,
    headline_tables=("comparison", "reps"),
    column_units={
        "p_hit": "share",
        "expected_attainment": "share",
        "capacity": "share",
        "quota_to_potential": "x",
        "expected_bookings": "USD",
        "expected_payout": "USD",
        "history": "USD",
        "recommended": "USD",
        "change_pct": "%",
        "quota_baseline": "USD",
        "quota_what_if": "USD",
        "p_hit_baseline": "share",
        "p_hit_what_if": "share",
        "over_capacity": "text",
    },
    intent="quota",
    saves_scenarios=True,
)
