"""The data-check tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.data_check.models import DataCheckInput, DataCheckResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: DataCheckInput, user: User) -> ToolResult:
    from tools.data_check.tool import run_data_check

    return run_data_check(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="data_check",
    description="Data-quality checks that make plans wrong (zombie deals, duplicates, orphan owners, outliers, quotas).",
    input_model=DataCheckInput,
    result_model=DataCheckResult,
    heading="Data quality",
    run=_run,
    headline_tables=("findings",),
    column_units={
        "check": "text",
        "title": "text",
        "severity": "text",
        "affects": "text",
        "fix": "text",
        "example": "text",
    },
    intent="data_check",
)
