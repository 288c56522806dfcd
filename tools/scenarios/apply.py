"""Applying a saved draft scenario to the base data: the write behind `apply_scenario`.

`describe` says exactly what would change (the person asked to approve reads it); `apply`
writes every change in one transaction once an approver said yes, after checking that every
old value is still current (warehouse/scenarios.py). Every entry point (the agent, the CLI)
calls these two, so there is one way to apply a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.contract import ToolResult
from tools.spec import Decision, require_approval
from warehouse.connection import Warehouse
from warehouse.errors import SpmError
from warehouse.fingerprint import fingerprint
from warehouse.scenarios import apply_scenario, describe_changes, get_scenario, rows_changed, scenario_changes

EXAMPLES = 10


class ApplyScenarioInput(BaseModel):
    """Apply a saved draft scenario to the base data (needs the user's approval)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(description="Name or id of the saved draft scenario.")


class ApplyScenarioResult(ToolResult):
    tool: str = "apply_scenario"


def describe(warehouse: Warehouse, args: Mapping[str, Any]) -> dict[str, Any]:
    """What applying the scenario would change, or an `error` when there is nothing to apply."""
    name = str(args.get("scenario") or "")
    try:
        with warehouse.reader() as cur:
            scenario = get_scenario(cur, name)
            changes = scenario_changes(cur, scenario.scenario_id)
    except SpmError as exc:
        return {"tool": "apply_scenario", "scenario": name, "error": str(exc)}
    tables = sorted({c.table for c in changes})
    return {
        "tool": "apply_scenario",
        "scenario": scenario.name,
        "target": scenario.name,  # what a request must name to pre-approve this write
        "scenario_id": scenario.scenario_id,
        "kind": scenario.kind,
        "status": scenario.status,
        "changes": rows_changed(changes),  # rows, as the scenario's tables list them
        "field_changes": len(changes),
        "tables": tables,
        "examples": [
            f"{c.table} {', '.join(f'{k}={v}' for k, v in c.key)}: {c.column} {c.old!r} -> {c.new!r}"
            for c in changes[:EXAMPLES]
        ],
        "summary": f"Apply {scenario.kind} scenario {scenario.name} ({scenario.scenario_id}): "
        f"changes {describe_changes(changes)}" + (f" ({scenario.summary})" if scenario.summary else "") + ".",
    }


def apply(warehouse: Warehouse, params: ApplyScenarioInput, decision: Decision | None) -> ApplyScenarioResult:
    decided = require_approval(f"Scenario {params.scenario!r}", decision)
    with warehouse.writer() as cur:
        scenario = get_scenario(cur, params.scenario)
        changed = apply_scenario(cur, scenario.scenario_id, approved_by=str(decided["by"]))
    with warehouse.reader() as cur:
        fp = fingerprint(cur, ["accounts", "quotas", "scenarios"])
    return ApplyScenarioResult(
        summary=f"Applied scenario {scenario.name} ({scenario.kind}): {changed} rows changed, approved by {decided['by']}.",
        metrics={"scenario_id": scenario.scenario_id, "rows_changed": changed, "approved_by": decided["by"]},
        data_fingerprint=fp,
    )
