"""What a question returns, the same for the CLI, Slack, batch and Python callers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class StepView(BaseModel):
    seq: int
    kind: str
    name: str | None = None
    args: Any = None
    summary: str | None = None
    duration_ms: float | None = None


class AgentResult(BaseModel):
    run_id: str
    thread_id: str
    status: Literal["ok", "clarify", "needs_approval", "error"]
    answer: str
    recommendations: list[dict[str, Any]] = Field(default_factory=list)
    steps: list[StepView] = Field(default_factory=list)
    model: str
    grounding: dict[str, Any] = Field(default_factory=dict)
    approval: dict[str, Any] | None = Field(None, description="What will change, when status is needs_approval.")
    tool_results: list[dict[str, Any]] = Field(default_factory=list, description="Full results of this run's tools.")
