"""Approvals for writes: what exactly a write will change, and who may say yes.

The agent stops before a write (LangGraph `interrupt`) with this description; resuming with
an approval from a user whose role allows it lets the tool apply the change in one
transaction, recording who approved.
"""

from __future__ import annotations

from typing import Any

from agent.context import APPROVER_ROLES, User
from warehouse.connection import Warehouse
from warehouse.errors import SpmError
from warehouse.scenarios import get_scenario, scenario_changes

EXAMPLES = 10


def describe(warehouse: Warehouse, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """What `tool(args)` would change, for the person asked to approve it."""
    if tool == "set_fiscal_calendar":
        return _describe_calendar(warehouse, tool, args)
    name = str(args.get("scenario") or "")
    try:
        with warehouse.reader() as cur:
            scenario = get_scenario(cur, name)
            changes = scenario_changes(cur, scenario.scenario_id)
    except SpmError as exc:
        return {"tool": tool, "scenario": name, "error": str(exc)}
    tables = sorted({c.table for c in changes})
    return {
        "tool": tool,
        "scenario": scenario.name,
        "scenario_id": scenario.scenario_id,
        "kind": scenario.kind,
        "status": scenario.status,
        "changes": len(changes),
        "tables": tables,
        "examples": [
            f"{c.table} {', '.join(f'{k}={v}' for k, v in c.key)}: {c.column} {c.old!r} -> {c.new!r}"
            for c in changes[:EXAMPLES]
        ],
        "summary": f"Apply {scenario.kind} scenario {scenario.name} ({scenario.scenario_id}): "
        f"{len(changes)} changes to {', '.join(tables) or 'nothing'}.",
    }


def _describe_calendar(warehouse: Warehouse, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    from warehouse.fiscal_start import describe_change

    try:
        month = int(args.get("start_month", 0))
        with warehouse.reader() as cur:
            change = describe_change(cur, month)
    except (SpmError, TypeError, ValueError) as exc:
        return {"tool": tool, "error": str(exc)}
    note = f" Asked for by note {args['note']}." if args.get("note") else ""
    return {
        "tool": tool,
        "changes": 1,
        "tables": ["meta"],
        "examples": [f"meta fiscal_year_start_month: {change['from_month']!r} -> {change['to_month']!r}"],
        "summary": change["summary"] + note,
    }


def refusal(approver: User) -> str | None:
    """Why this user may not approve a write, or None when they may."""
    if not approver.may_approve:
        return f"role {approver.role} may not approve writes (needs {' or '.join(APPROVER_ROLES)})"
    if approver.scope.kind != "all":
        # A scenario changes rows across the organisation; a scoped approver cannot vouch for them all.
        return f"writes need an all-data scope; {approver.user_id}'s scope is {approver.scope.describe()}"
    return None


def decision(approver: User, approved: bool, how: str) -> dict[str, Any]:
    """The recorded decision; a user who may not approve turns any answer into a refusal."""
    refused = refusal(approver)
    if refused:
        return {"approved": False, "by": approver.user_id, "role": approver.role, "reason": refused}
    return {
        "approved": approved,
        "by": approver.user_id,
        "role": approver.role,
        "reason": how if approved else f"declined by {approver.user_id}",
    }
