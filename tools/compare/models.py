"""The compare tool's input and result models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.compare.objectives import OBJECTIVES
from tools.contract import ToolResult

Compared = Literal["quota_simulate", "forecast", "territory_rebalance", "capacity_gap"]
# Every tool's objectives, its default first: the closed set a model picks from, said once.
_OBJECTIVE_NAMES = tuple(dict.fromkeys(o.name for choices in OBJECTIVES.values() for o in choices))
_OBJECTIVES_TEXT = "; ".join(f"{tool}: {', '.join(o.name for o in choices)}" for tool, choices in OBJECTIVES.items())


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=60, description="The option's name in the answer, e.g. 'potential'.")
    args: dict[str, Any] = Field(default_factory=dict, description="The tool's arguments that differ for this option.")


class CompareInput(BaseModel):
    """Several options of one question (allocation methods, bands, hiring levels, what-ifs)."""

    model_config = ConfigDict(extra="forbid")
    tool: Compared = Field(description="The planning tool every option runs.")
    base: dict[str, Any] = Field(
        default_factory=dict, description="The tool's arguments every option shares, e.g. period and filters."
    )
    variants: list[Variant] = Field(min_length=2, max_length=6, description="The options.")
    objective: str | None = Field(
        None,
        description=f"What ranks the options, one of the tool's (default: its first): {_OBJECTIVES_TEXT}.",
        json_schema_extra={"enum": list(_OBJECTIVE_NAMES)},  # the closed set, for a model; the tool checks it per tool
    )

    @model_validator(mode="after")
    def _distinct(self) -> CompareInput:
        labels = [v.label.strip().lower() for v in self.variants]
        if len(set(labels)) != len(labels):
            raise ValueError("each option needs its own label")
        return self


class CompareResult(ToolResult):
    tool: Literal["compare_plans"] = "compare_plans"
