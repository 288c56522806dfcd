"""What a run needs besides its state: warehouse, models, user and scope, audit log, settings.

Passed to the graph as the runtime context (LangGraph `context_schema`): nodes and tool
adapters read it, the model never sees it, so a user's scope can only come from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agent.permissions import PERMISSIONS
from tools.limits import Limits
from tools.scope import Scope

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from warehouse.audit import AuditLog
    from warehouse.connection import Warehouse

ROLES = ("admin", "leader", "manager", "analyst", "rep")
APPROVER_ROLES = PERMISSIONS["approve_write"]  # may approve writes to base data (apply a scenario)
NOTE_ROLES = PERMISSIONS["add_note"]  # may add planning notes to memory


@dataclass(frozen=True)
class User:
    user_id: str
    role: str
    scope: Scope
    name: str | None = None

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}; use one of {', '.join(ROLES)}")

    @property
    def may_approve(self) -> bool:
        return self.role in APPROVER_ROLES

    def describe(self) -> str:
        return f"{self.user_id} ({self.role}, {self.scope.describe()})"


@dataclass(frozen=True)
class AgentSettings:
    recursion_limit: int = 12  # graph steps per run: plan/tools loops, approval, recommend
    max_tool_rounds: int = 4  # plan -> tools loops before the agent must answer
    confidence_threshold: float = 0.45  # offline planner: below this it asks instead of guessing
    max_question_chars: int = 4_000  # longer input is refused: it is a paste, not a question
    memory_results: int = 3  # memories retrieved per question
    memory_cite_distance: float = 0.55  # past decisions closer than this (cosine distance) are cited
    limits: Limits = field(default_factory=Limits)  # caps on Monte Carlo trials and solver time


@dataclass
class Context:
    warehouse: Warehouse  # writable: tools read through it, the audit log and approved writes use it
    model: BaseChatModel  # the planner (offline or OpenAI-compatible)
    offline: BaseChatModel  # the fallback when the model fails
    user: User
    run_id: str
    interface: str = "python"
    audit: AuditLog | None = None
    auto_approve: bool = False  # the user approved writes up front (--approve)
    settings: AgentSettings = field(default_factory=AgentSettings)
    memory: Any = None
    recalled: list[Any] = field(default_factory=list)  # memories retrieved for this question
    assumptions: Any = None  # memory.rules.Assumptions from standing notes
    fallback_reason: str | None = None  # set when the model failed and the offline planner took over
    proposed_calls: list[dict[str, Any]] = field(default_factory=list)  # asked for by the user's own words

    @property
    def scope(self) -> Scope:
        return self.user.scope

    @property
    def model_name(self) -> str:
        if self.fallback_reason:
            return f"{_name(self.model)} -> {_name(self.offline)}"
        return _name(self.model)


def _name(model: Any) -> str:
    return str(getattr(model, "model_name", None) or getattr(model, "_llm_type", type(model).__name__))
