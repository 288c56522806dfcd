"""Approvals for writes: what exactly a write will change, and who may say yes.

The agent stops before a write (LangGraph `interrupt`) with this description; resuming with
an approval from a user whose role allows it lets the tool apply the change in one
transaction, recording who approved.
"""

from __future__ import annotations

from typing import Any

from tools.registry import BY_NAME
from tools.spec import Decision
from warehouse.connection import Warehouse
from warehouse.identity import User, roles_for


def describe(warehouse: Warehouse, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """What `tool(args)` would change, for the person asked to approve it (the tool's own `describe`)."""
    spec = BY_NAME.get(tool)
    if spec is None or spec.describe is None:
        return {"tool": tool, "error": f"{tool!r} is not a write tool."}
    return spec.describe(warehouse, args)


def refusal(approver: User) -> str | None:
    """Why this user may not approve a write, or None when they may."""
    if not approver.may_approve:
        return f"role {approver.role} may not approve writes (needs {roles_for('approve_write')})"
    if approver.scope.kind != "all":
        # A scenario changes rows across the organisation; a scoped approver cannot vouch for them all.
        return f"writes need an all-data scope; {approver.user_id}'s scope is {approver.scope.describe()}"
    return None


def decision(approver: User, approved: bool, how: str) -> Decision:
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
