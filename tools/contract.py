"""The tool contract: what every planning tool returns (DESIGN.md, "Tool contract").

Each tool takes a typed input model and returns a `ToolResult` subclass. The same models serve
the agent, `spm <tool> --json` and Python callers.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.core.format import Unit


class Quantiles(BaseModel):
    """A distribution summarised by its 10th, 50th and 90th percentiles."""

    p10: float
    p50: float
    p90: float


class Impact(BaseModel):
    metric: str = Field(description="What changes, e.g. 'P50 bookings FY2028-Q1'.")
    before: float | None = None
    after: float | None = None
    unit: Unit = "USD"  # how `before` and `after` read (tools.core.format)


class Recommendation(BaseModel):
    action: str = Field(description="What to do, in one sentence a leader can act on.")
    rationale: str = Field(description="Why, with the numbers that support it.")
    impact: Impact
    confidence: float = Field(ge=0.0, le=1.0, description="0-1: how sure the tool is.")
    group: dict[str, str] = Field(default_factory=dict, description="Region/segment/... it concerns.")


class DataWarning(BaseModel):
    """A data-quality finding or a limitation that affects this result."""

    code: str
    message: str
    count: int | None = None


class ToolResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool: str
    summary: str
    metrics: dict[str, Any] = Field(default_factory=dict)
    tables: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)
    recommendations: list[Recommendation] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)
    warnings: list[DataWarning] = Field(default_factory=list)
    data_fingerprint: str = ""
