"""Typed input and result of the variance explanation tool (explain_variance)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.contract import ToolResult

FILTER_DIMS = ("region", "segment", "product", "rep", "manager")
Against = Literal["last_year", "plan", "last_period"]
AGAINST: tuple[str, ...] = ("last_year", "plan", "last_period")

# How people (and models) name the references; anything else is refused with the three names.
_AGAINST_WORDS: dict[str, str] = {
    "last_year": "last_year",
    "prior_year": "last_year",
    "previous_year": "last_year",
    "year_ago": "last_year",
    "py": "last_year",
    "ly": "last_year",
    "yoy": "last_year",
    "plan": "plan",
    "target": "plan",
    "targets": "plan",
    "budget": "plan",
    "last_period": "last_period",
    "previous_period": "last_period",
    "prior_period": "last_period",
    "last_quarter": "last_period",
    "previous_quarter": "last_period",
    "qoq": "last_period",
}


class ExplainInput(BaseModel):
    """Why a slice's bookings are ahead of or behind last year, plan or the previous period."""

    model_config = ConfigDict(extra="forbid")

    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The slice: members to keep; reps by id or name, manager: that manager's team.",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    period: str | None = Field(
        None,
        description="Fiscal period: FY2027-Q3, FY2027, FY2027-H2, 2026-09, 'last quarter', 'this year', 'QTD' "
        "(default: the current quarter).",
    )
    against: Against = Field(
        "last_year",
        description="last_year: the same period a fiscal year earlier; plan: the targets table; last_period: "
        "the previous period of the same grain.",
    )
    as_of: date | None = Field(None, description="Today for the comparison (default: the warehouse's as-of or today).")

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter a variance explanation by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value

    @field_validator("against", mode="before")
    @classmethod
    def _against(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        word = value.strip().lower().replace(" ", "_").replace("-", "_")
        if word not in _AGAINST_WORDS:
            raise ValueError(f"cannot compare against {value!r}; use {', '.join(AGAINST)}")
        return _AGAINST_WORDS[word]


class ExplainResult(ToolResult):
    tool: str = "explain_variance"
