"""What a run needs besides its state: warehouse, models, user and scope, audit log, settings.

Passed to the graph as the runtime context (LangGraph `context_schema`): nodes and tool
adapters read it, the model never sees it, so a user's scope can only come from here. It is
frozen for the run; what a run finds out (memories recalled, a model that failed) goes in the
graph's state (agent/state.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.limits import Limits
from warehouse.identity import Scope, User

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from warehouse.audit import RunLog
    from warehouse.connection import Warehouse


@dataclass(frozen=True)
class AgentSettings:
    recursion_limit: int = 12  # graph steps per run: plan/tools loops, approval, recommend
    max_tool_rounds: int = 4  # plan -> tools loops before the agent must answer
    confidence_threshold: float = 0.45  # offline planner: below this it asks instead of guessing
    max_question_chars: int = 4_000  # longer input is refused: it is a paste, not a question
    memory_results: int = 3  # memories retrieved per question
    memory_cite_distance: float = 0.55  # past decisions closer than this (cosine distance) are cited
    limits: Limits = field(default_factory=Limits)  # caps on Monte Carlo trials and solver time
    planner_cache: Path | None = None  # folder keeping the offline planner's trained classifier


@dataclass(frozen=True)
class Context:
    warehouse: Warehouse  # writable: tools read through it, the audit log and approved writes use it
    model: BaseChatModel  # the planner (offline or OpenAI-compatible)
    offline: BaseChatModel  # the fallback when the model fails
    user: User
    run_id: str
    interface: str = "python"
    audit: RunLog | None = None
    auto_approve: bool = False  # the user approved up front (--approve) the change their request asks for
    approve_target: str | None = None  # ...or the one they named (a batch row's `approve` column)
    settings: AgentSettings = field(default_factory=AgentSettings)
    memory: Any = None

    @property
    def scope(self) -> Scope:
        return self.user.scope

    def model_name(self, fallback_reason: str | None = None) -> str:
        """The planner that answered: the model, or 'model -> offline' after it failed."""
        if fallback_reason:
            return f"{_name(self.model)} -> {_name(self.offline)}"
        return _name(self.model)


def _name(model: Any) -> str:
    return str(getattr(model, "model_name", None) or getattr(model, "_llm_type", type(model).__name__))
