"""The graph's state: the conversation, and what the current run decided and produced.

Messages accumulate across a thread (the checkpointer keeps them, so follow-ups see earlier
questions and tool calls); the other fields describe the latest run and are reset by its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph import add_messages

Status = Literal["running", "ok", "clarify", "needs_approval", "error"]


@dataclass
class InputState:
    """What starts a run: the new question, the run id, and the per-run fields reset."""

    messages: Annotated[Sequence[AnyMessage], add_messages] = field(default_factory=list)
    run_id: str = ""
    status: Status = "running"
    tool_rounds: int = 0  # plan -> tools loops so far in this run
    recalled: list[dict[str, Any]] = field(default_factory=list)  # memories retrieved for the question
    locked_accounts: dict[str, str] = field(default_factory=dict)  # account id -> the note that locks it
    fiscal_note: list[Any] | None = None  # [month, note id]: the fiscal-year start the notes state
    proposed_calls: list[dict[str, Any]] = field(default_factory=list)  # writes the user's own words ask for
    fallback_reason: str | None = None  # set when the model failed and the offline planner took over


@dataclass
class State(InputState):
    answer: str = ""
    recommendations: list[dict[str, Any]] = field(default_factory=list)
    grounding: dict[str, Any] = field(default_factory=dict)
    approvals: dict[str, dict[str, Any]] = field(default_factory=dict)  # tool_call_id -> decision
