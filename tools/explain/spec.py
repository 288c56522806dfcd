"""The variance explanation tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.explain.models import ExplainInput, ExplainResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: ExplainInput, user: User) -> ToolResult:
    from tools.explain.tool import run_explain

    return run_explain(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="explain_variance",
    description="Why a slice's bookings are ahead of or behind last year, plan or the previous period: the gap split "
    "into deals closed, win rate and deal size, biggest first, with pipeline, cycle and slipped deals beside it.",
    input_model=ExplainInput,
    result_model=ExplainResult,
    heading="Variance explained",
    run=_run,
    headline_tables=("drivers",),
    column_units={"driver": "text", "unit": "text", "contribution": "USD", "share_of_gap": "share"},
)
