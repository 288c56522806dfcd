"""The pipeline movement tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.pipeline.models import MovementInput, MovementResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: MovementInput, user: User) -> ToolResult:
    from tools.pipeline.tool import run_movement

    return run_movement(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="pipeline_movement",
    description="What changed in a slice's open pipeline between two days (default: the last seven days, deals "
    "closing this quarter): new, pulled in, pushed out, won, lost, amount up and down, and stage moves, "
    "reconciling start to end, with the deals behind each.",
    input_model=MovementInput,
    result_model=MovementResult,
    heading="Pipeline movement",
    run=_run,
    headline_tables=("waterfall",),
    column_units={
        "step": "text",
        "label": "text",
        "flow": "text",
        "from_stage": "text",
        "to_stage": "text",
        "direction": "text",
        "stage_before": "text",
        "stage_after": "text",
        "close_before": "text",
        "close_after": "text",
        "running": "USD",
        "start": "USD",
        "end": "USD",
        "net": "USD",
        "new": "USD",
        "pulled_in": "USD",
        "reopened": "USD",
        "amount_up": "USD",
        "amount_down": "USD",
        "pushed_out": "USD",
        "won": "USD",
        "lost": "USD",
    },
    intent="pipeline_movement",
)
