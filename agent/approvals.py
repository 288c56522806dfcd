"""Approvals for writes: what exactly a write will change, and who may say yes.

The agent stops before a write (LangGraph `interrupt`) with this description; resuming with
an approval from a user whose role allows it lets the tool apply the change in one
transaction, recording who approved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


# --- LangGraph's human-in-the-loop shape ------------------------------------------------------
# The request an approval interrupt carries, and the decisions it is resumed with, follow
# LangChain's HumanInTheLoopMiddleware (HITLRequest / decisions), so LangGraph Studio, Agent
# Chat UI and other HITL clients render and answer it. spm's own fields (tool, summary, target,
# changes...) stay beside them for the spm interfaces.
DECISIONS = ["approve", "edit", "reject"]


def hitl_request(call: dict[str, Any], described: dict[str, Any], unasked: str | None) -> dict[str, Any]:
    """The interrupt value for one write call waiting for a decision."""
    summary = str(described.get("summary") or described.get("error") or call["name"])
    return {
        "action_requests": [{"name": call["name"], "args": call["args"], "description": summary}],
        "review_configs": [{"action_name": call["name"], "allowed_decisions": DECISIONS}],
        "tool_call_id": call["id"] or "",
        **described,
        **({"unasked": unasked} if unasked else {}),
    }


@dataclass(frozen=True)
class Reply:
    """A reviewer's answer to one action request."""

    approved: bool
    args: dict[str, Any] | None = None  # edited arguments (an `edit` decision), else None
    message: str | None = None  # a rejection's reason, or why a decision could not be read


def read_reply(reply: Any, tool: str) -> Reply:
    """The decision a resume carries: `{"decisions": [{"type": "approve" | "edit" | "reject", ...}]}`
    (HITL), spm's own `{"approved": bool}`, or a bare bool. Anything unreadable approves nothing."""
    if isinstance(reply, bool):
        return Reply(reply)
    if not isinstance(reply, dict):
        return Reply(False, message=f"the reply {reply!r} is not a decision")
    if "decisions" not in reply:
        return Reply(bool(reply.get("approved")))
    decisions = reply["decisions"]
    if not isinstance(decisions, list) or len(decisions) != 1 or not isinstance(decisions[0], dict):
        return Reply(False, message="expected one decision for the one action requested")
    decision = decisions[0]
    kind = decision.get("type")
    if kind == "approve":
        return Reply(True)
    if kind == "reject":
        return Reply(False, message=str(decision.get("message") or "") or None)
    if kind == "edit":
        action = decision.get("edited_action")
        if not isinstance(action, dict) or not isinstance(action.get("args"), dict):
            return Reply(False, message="an edit decision needs edited_action with args")
        if action.get("name", tool) != tool:
            return Reply(False, message=f"an edit may change {tool}'s arguments, not call {action.get('name')!r}")
        return Reply(True, args=dict(action["args"]))
    return Reply(False, message=f"unknown decision type {kind!r} (expected one of {', '.join(DECISIONS)})")


def check_edit(tool: str, args: dict[str, Any]) -> str | None:
    """Why edited arguments cannot run (they fail the tool's input model), or None."""
    from pydantic import ValidationError

    spec = BY_NAME.get(tool)
    if spec is None:
        return f"{tool!r} is not a write tool"
    try:
        spec.input_model.model_validate(args)
    except ValidationError as exc:
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'arguments'}: {e['msg']}" for e in exc.errors())
    return None
