"""How a run uses memory: recall related memories and standing rules, take notes, record decisions.

Memory never blocks a question: an unavailable store is an audit step and the run goes on
without it. Notes are stored and applied as data (memory/rules.py), never as instructions.
"""

from __future__ import annotations

import re
from typing import Any

from agent.context import Run
from agent.result import AgentResult
from memory.rules import assumptions
from warehouse.errors import SpmError
from warehouse.identity import allowed, roles_for

_REMEMBER = re.compile(
    r"^\s*(?:please\s+)?(?:remember|note|keep in mind)\s*(?:that|:)?\s+(.+)$", re.IGNORECASE | re.DOTALL
)


def remember_request(question: str) -> str | None:
    """The note in 'remember that ...' / 'note: ...', or None for any other question."""
    m = _REMEMBER.match(question)
    return m[1].strip() if m else None


def recall(memory: Any, ctx: Run, question: str, k: int, before: str | None = None) -> dict[str, Any]:
    """The run's starting state from memory (`recalled`, `locked_accounts`, `fiscal_note`),
    recorded as a `memory` audit step.

    `before` (ISO time): decisions remembered at or after it are not recalled (batch and eval
    runs stay independent of the order their questions finish in).
    """
    if memory is None or ctx.audit is None:
        return {}
    try:
        found = memory.search(question, ctx.user, k=k)
        recalled = [m for m in found if before is None or m.kind != "decision" or m.created_at < before]
        notes = memory.list(ctx.user, kind="note", limit=1_000)
    except SpmError as exc:
        ctx.audit.append("error", "memory", summary=f"memory unavailable, answering without it: {exc.message}")
        return {}
    with ctx.warehouse.reader() as cur:
        accounts = cur.execute("SELECT account_id, name FROM accounts").fetchall()
    rules = assumptions(notes, accounts)
    ctx.audit.append(
        "memory",
        "recall",
        args={
            "retrieved": [m.memory_id for m in recalled],
            "distances": [m.distance for m in recalled],
            "rules": rules.describe(),
        },
        summary=f"{len(recalled)} related memories; {len(rules.describe())} standing rules",
    )
    return {
        "recalled": [_shareable(m.as_dict(), ctx.user.user_id) for m in recalled],
        "locked_accounts": dict(rules.locked_accounts),
        "fiscal_note": list(rules.fiscal_start_month) if rules.fiscal_start_month else None,
    }


def _shareable(memory: dict[str, Any], user_id: str) -> dict[str, Any]:
    """A memory as this user may see it: another user's decision keeps its run id, date, topic and
    what was recommended (the tools' output on a slice this user sees), but not the words of the
    question, which are that user's own (the audit trail keeps them for those who may read it)."""
    if memory.get("kind") != "decision" or memory.get("user_id") == user_id:
        return memory
    return {
        **memory,
        "text": f"a question by {memory.get('user_id')} on the same topic (spm audit show {memory.get('run_id')})",
    }


def take_note(memory: Any, ctx: Run, text: str) -> tuple[str, str, Any]:
    """'Remember that ...': store the note if the user's role may. Returns (status, answer, note)."""
    if memory is None:
        return "error", "Memory is not configured, so I cannot remember notes here.", None
    if not allowed(ctx.user.role, "add_note"):
        return "error", f"Role {ctx.user.role} may not add planning notes (needs {roles_for('add_note')}).", None
    try:
        note = memory.add_note(text, ctx.user)
    except SpmError as exc:
        return "error", f"I could not store the note: {exc.message}", None
    if ctx.audit:
        ctx.audit.append("memory", "add", args={"memory_id": note.memory_id}, summary=f"noted: {note.text[:200]}")
    return "ok", f"Noted as `{note.memory_id}`: {note.text}", note


def calendar_proposal(ctx: Run, note: Any) -> list[dict[str, Any]]:
    """A note that states a fiscal-year start other than the warehouse's asks for a calendar
    change: the tool call that proposes it (it still needs an approver), or nothing."""
    if note is None:
        return []
    conflict = assumptions([note], []).fiscal_conflict(ctx.warehouse.calendar().start_month)
    if conflict is None:
        return []
    args = {"start_month": conflict[0], "note": note.memory_id}
    return [{"name": "set_fiscal_calendar", "args": args, "id": f"call-calendar-{note.memory_id}", "type": "tool_call"}]


def topic(calls: list[tuple[str, dict[str, Any]]]) -> str:
    """What a run was about: its tools and the slice they looked at ("forecast|region=EMEA").

    Two questions share a topic when they ran the same tools on the same members; only then is an
    earlier decision cited as related (a forecast for APAC is not a decision about EMEA).
    """
    tools = sorted({name for name, _ in calls})
    members: set[str] = set()
    for _, args in calls:
        for dim, values in (args.get("filters") or {}).items():
            members |= {f"{dim}={v}" for v in (values if isinstance(values, list) else [values])}
        for adj in args.get("adjustments") or []:
            if isinstance(adj, dict):
                members.add(f"{adj.get('dim')}={adj.get('value')}")
    return "|".join([",".join(tools), *sorted(members)])


def run_topic(result: AgentResult) -> str:
    return topic([(s.name or "", s.args) for s in result.steps if s.kind == "tool_call" and isinstance(s.args, dict)])


def record_decision(memory: Any, ctx: Run, question: str, result: AgentResult) -> None:
    """An answered planning question becomes a decision memory (cited by later related questions)."""
    if memory is None or result.status != "ok" or not result.tool_results:
        return
    saved = [
        r["metrics"]["saved_scenario"].get("name")
        for r in result.tool_results
        if isinstance(r.get("metrics", {}).get("saved_scenario"), dict)
    ]
    try:
        remembered = memory.record_decision(
            run_id=result.run_id,
            question=question,
            actions=[r.get("action", "") for r in result.recommendations[:5]],
            user=ctx.user,
            scenario=saved[0] if saved else None,
            topic=run_topic(result),
        )
    except SpmError as exc:
        if ctx.audit:
            ctx.audit.append("error", "memory", summary=f"decision not remembered: {exc.message}")
        return
    if ctx.audit:
        ctx.audit.append("memory", "record", args={"memory_id": remembered.memory_id}, summary="decision remembered")
