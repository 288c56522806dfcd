"""What a question returns, the same for the CLI, Slack, batch and Python callers."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from agent import cost
from agent.cost import PriceTable


class StepView(BaseModel):
    seq: int
    kind: str
    name: str | None = None
    args: Any = None
    summary: str | None = None
    duration_ms: float | None = None


class Usage(BaseModel):
    """Tokens the run's language-model calls used, as the provider reported them (zero offline),
    and what they cost where a price table is configured (agent/cost.py)."""

    model_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = Field(
        None, description="USD at the configured prices (SPM_PRICES); null: no table, or a model it does not price."
    )

    @classmethod
    def of(cls, steps: list[StepView], prices: PriceTable | Literal["installed"] | None = "installed") -> Usage:
        """The run's usage from its steps, priced with `prices`: a table, None (no cost), or by
        default the table the interfaces installed (agent/cost.py)."""
        reported = [(s.name or "", s.args["usage"]) for s in steps if s.kind == "llm_call"
                    and isinstance(s.args, dict) and isinstance(s.args.get("usage"), dict)]  # fmt: skip
        table = cost.installed() if isinstance(prices, str) else prices
        total = None if table is None else cost.run_cost(reported, table)
        return cls(
            model_calls=sum(1 for s in steps if s.kind == "llm_call"),
            **{
                k: sum(int(u.get(k) or 0) for _, u in reported)
                for k in ("input_tokens", "output_tokens", "total_tokens")
            },
            cost_usd=None if total is None else round(total, 10),  # below 1e-10 USD is float noise
        )


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
    usage: Usage = Field(default_factory=Usage, description="Tokens this run's model calls used.")
