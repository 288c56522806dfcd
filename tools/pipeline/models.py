"""Typed input and result of the pipeline movement tool (pipeline_movement)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.contract import ToolResult

FILTER_DIMS = ("region", "segment", "product", "rep", "manager")
BY_DIMS = ("region", "segment", "product", "rep", "manager")


class MovementInput(BaseModel):
    """What changed in the open pipeline between two days: new, pulled in, pushed out, won, lost,
    amount up and down, stage moves."""

    model_config = ConfigDict(extra="forbid")

    since: str | None = Field(
        None,
        description="The earlier day: 2026-11-23, 'last Monday', 'last week', '2 weeks ago', 'quarter start' "
        "(default: seven days before the later one).",
    )
    until: str | None = Field(None, description="The later day, same forms (default: today, the warehouse's as-of).")
    close_in: str | None = Field(
        None,
        description="Which pipeline: deals closing in this fiscal period (FY2027-Q4, 'this quarter', "
        "'next quarter'), or 'all' for every open deal (default: the quarter the later day falls in).",
    )
    by: list[str] = Field(
        default_factory=list,
        description="Break the movement down by region, segment, product, rep or manager (team).",
        json_schema_extra={"items": {"enum": list(BY_DIMS)}},
    )
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The slice: members to keep; reps by id or name, manager: that manager's team.",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},
    )

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter pipeline movement by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value


class MovementResult(ToolResult):
    tool: str = "pipeline_movement"
