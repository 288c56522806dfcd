"""The compare tool's input and result models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.contract import ToolResult

Compared = Literal["quota_simulate", "forecast", "territory_rebalance", "capacity_gap"]


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=60, description="How the answer names this option, e.g. 'potential'.")
    args: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments that differ for this option.")


class CompareInput(BaseModel):
    """Several options of one question (allocation methods, bands, hiring levels, what-ifs)."""

    model_config = ConfigDict(extra="forbid")
    tool: Compared = Field(description="The planning tool every option runs.")
    base: dict[str, Any] = Field(default_factory=dict, description="Arguments every option shares (slice, period).")
    variants: list[Variant] = Field(min_length=2, max_length=6, description="The options, each with its own arguments.")
    objective: str | None = Field(
        None,
        description="What ranks them. quota_simulate: share_at_quota, bookings, cost_of_sales, fairness; forecast: "
        "accuracy, p50; territory_rebalance: disruption, balance; capacity_gap: hires, gap, confidence, cost. "
        "Default: the tool's first.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> CompareInput:
        labels = [v.label.strip().lower() for v in self.variants]
        if len(set(labels)) != len(labels):
            raise ValueError("each option needs its own label")
        return self


class CompareResult(ToolResult):
    tool: Literal["compare_plans"] = "compare_plans"
