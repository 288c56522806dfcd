"""How a run uses memory: recall related memories and standing rules, take notes, record decisions.

Memory never blocks a question: an unavailable store is an audit step and the run goes on
without it. Notes are stored and applied as data (memory/rules.py), never as instructions.
"""

from __future__ import annotations

import re
from typing import Any

from agent.context import NOTE_ROLES, Context
from agent.result import AgentResult
from memory.rules import assumptions
from warehouse.errors import SpmError

_REMEMBER = re.compile(
    r"^\s*(?:please\s+)?(?:remember|note|keep in mind)\s*(?:that|:)?\s+(.+)$", re.IGNORECASE | re.DOTALL
)


def remember_request(question: str) -> str | None:
    """The note in 'remember that ...' / 'note: ...', or None for any other question."""
    m = _REMEMBER.match(question)
    return m[1].strip() if m else None


def recall(memory: Any, ctx: Context, question: str, k: int, before: str | None = None) -> None:
    """Fill `ctx.recalled` and `ctx.assumptions`, recorded as a `memory` audit step.

    `before` (ISO time): decisions remembered at or after it are not recalled (batch and eval
    runs stay independent of the order their questions finish in).
    """
    if memory is None or ctx.audit is None:
        return
    try:
        recalled = memory.search(question, ctx.user, k=k)
        ctx.recalled = [m for m in recalled if before is None or m.kind != "decision" or m.created_at < before]
        notes = memory.list(ctx.user, kind="note", limit=1_000)
    except SpmError as exc:
        ctx.audit.append("error", "memory", summary=f"memory unavailable, answering without it: {exc.message}")
        return
    with ctx.warehouse.reader() as cur:
        accounts = cur.execute("SELECT account_id, name FROM accounts").fetchall()
    ctx.assumptions = assumptions(notes, accounts)
    ctx.audit.append(
        "memory",
        "recall",
        args={
            "retrieved": [m.memory_id for m in ctx.recalled],
            "distances": [m.distance for m in ctx.recalled],
            "rules": ctx.assumptions.describe(),
        },
        summary=f"{len(ctx.recalled)} related memories; {len(ctx.assumptions.describe())} standing rules",
    )


def take_note(memory: Any, ctx: Context, text: str) -> tuple[str, str, Any]:
    """'Remember that ...': store the note if the user's role may. Returns (status, answer, note)."""
    if memory is None:
        return "error", "Memory is not configured, so I cannot remember notes here.", None
    if ctx.user.role not in NOTE_ROLES:
        return "error", f"Role {ctx.user.role} may not add planning notes (needs {' or '.join(NOTE_ROLES)}).", None
    try:
        note = memory.add_note(text, ctx.user)
    except SpmError as exc:
        return "error", f"I could not store the note: {exc.message}", None
    if ctx.audit:
        ctx.audit.append("memory", "add", args={"memory_id": note.memory_id}, summary=f"noted: {note.text[:200]}")
    return "ok", f"Noted as `{note.memory_id}`: {note.text}", note


def calendar_proposal(ctx: Context, note: Any) -> list[dict[str, Any]]:
    """A note that states a fiscal-year start other than the warehouse's asks for a calendar
    change: the tool call that proposes it (it still needs an approver), or nothing."""
    if note is None:
        return []
    conflict = assumptions([note], []).fiscal_conflict(ctx.warehouse.calendar().start_month)
    if conflict is None:
        return []
    args = {"start_month": conflict[0], "note": note.memory_id}
    return [{"name": "set_fiscal_calendar", "args": args, "id": f"call-calendar-{note.memory_id}", "type": "tool_call"}]


def record_decision(memory: Any, ctx: Context, question: str, result: AgentResult) -> None:
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
        )
    except SpmError as exc:
        if ctx.audit:
            ctx.audit.append("error", "memory", summary=f"decision not remembered: {exc.message}")
        return
    if ctx.audit:
        ctx.audit.append("memory", "record", args={"memory_id": remembered.memory_id}, summary="decision remembered")
