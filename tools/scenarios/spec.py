"""The scenario tools' records in the registry: list/show/compare (a read) and apply (a write)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.scenarios import apply
from tools.scenarios.models import ScenariosInput, ScenariosResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: ScenariosInput, user: User) -> ToolResult:
    from tools.scenarios.tool import run_scenarios

    return run_scenarios(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="scenarios",
    description="List saved draft scenarios, show one, or compare two side by side.",
    input_model=ScenariosInput,
    result_model=ScenariosResult,
    heading="Scenarios",
    run=_run,
    headline_tables=("scenarios", "comparison", "changes"),
    column_units={
        "scenario_id": "text",
        "created_by": "text",
        "created_at": "text",
        "summary": "text",
        "changes": "count",
    },
    intent="scenarios",
)

APPLY = ToolSpec(
    name="apply_scenario",
    description="Apply a saved draft scenario to the base data (account owners or quotas). Needs the user's approval.",
    input_model=apply.ApplyScenarioInput,
    result_model=apply.ApplyScenarioResult,
    heading="Apply scenario",
    apply=apply.apply,
    describe=apply.describe,
    intent="apply",
)
