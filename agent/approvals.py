"""Approvals for writes: what exactly a write will change, and who may say yes.

The agent stops before a write (LangGraph `interrupt`) with this description; resuming with
an approval from a user whose role allows it lets the tool apply the change in one
transaction, recording who approved.
"""

from __future__ import annotations

import re
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


# Words that ask for a change to take effect. A question without one ("what's pipeline in EMEA?")
# never asks for a write, whatever a model then decides to call.
_WRITE_VERBS = re.compile(
    r"\b(apply|applies|applying|publish|push|roll(?:ing)? (?:[^.?!]{0,60}? )?out|go(?:es)? live|"
    r"(?:make|put|take|turn) [^.?!]{0,60}?\blive|activate|enact|launch|"
    r"adopt|implement|commit|(?:put|bring) (?:[^.?!]{0,60}? )?in(?:to)? (?:place|effect)|set|change|move|switch|starts?)\b",
    re.IGNORECASE,
)


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


def not_asked(question: str, described: dict[str, Any], named: str | None = None) -> str | None:
    """Why an up-front approval (`--approve`) does not cover this write, or None when it does.

    It covers only the change the request itself asked for: the question names the write's
    target (the scenario, the new fiscal-year start month) and asks for it to take effect, or
    the requester named that target explicitly (a batch row's `approve` column).
    """
    target = str(described.get("target") or "")
    what = described.get("summary") or described.get("tool") or "a write"
    if named is not None:
        if not named.strip():
            return f"in a batch, --approve covers only the scenario a row names in its `approve` column ({what})"
        if _words(named) == _words(target):
            return None
        return f"the approval given names {named!r}, but the run tried to change {target!r} ({what})"
    if target and _words(target).strip() and _words(target) in _words(question) and _WRITE_VERBS.search(question):
        return None
    return f"the question did not ask for this change ({what})"


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
