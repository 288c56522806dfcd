"""Typed input and result of the data-check tool."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.contract import ToolResult
from warehouse.checks import CHECKS

FILTER_DIMS = ("region", "segment")


class DataCheckInput(BaseModel):
    """Which checks to run (all by default), on which slice (the whole warehouse by default)."""

    model_config = ConfigDict(extra="forbid")

    checks: list[str] = Field(
        default_factory=list,
        description="Checks to run (default: all).",
        json_schema_extra={"items": {"type": "string", "enum": list(CHECKS)}},  # the closed set, for a model
    )
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Regions and/or segments whose findings to keep (deals by their account's, quotas by their rep's).",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    as_of: date | None = Field(None, description="Check as of this date (default: the warehouse's as-of or today).")

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter data checks by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value


class DataCheckResult(ToolResult):
    tool: str = "data_check"
