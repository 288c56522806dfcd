"""Typed input and result of the metrics tool (the everyday KPI lookups)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.contract import ToolResult

Metric = Literal[
    "bookings",
    "pipeline",
    "coverage",
    "win_rate",
    "avg_deal_size",
    "cycle_length",
    "attainment",
    "headcount",
]
Dimension = Literal["region", "segment", "product", "rep", "manager"]
METRICS: tuple[str, ...] = Metric.__args__  # type: ignore[attr-defined]
DIMENSIONS: tuple[str, ...] = Dimension.__args__  # type: ignore[attr-defined]
# Which breakdowns each metric supports (coverage needs targets, which exist by region/segment).
ALLOWED_BY: dict[str, tuple[str, ...]] = {
    "bookings": DIMENSIONS,
    "pipeline": DIMENSIONS,
    "coverage": ("region", "segment"),
    "win_rate": DIMENSIONS,
    "avg_deal_size": DIMENSIONS,
    "cycle_length": DIMENSIONS,
    "attainment": ("rep", "region", "segment", "manager"),
    "headcount": ("region", "segment", "manager"),
}
FILTER_DIMS = ("region", "segment", "product", "rep", "manager")


class MetricsInput(BaseModel):
    """One KPI for a fiscal period, optionally broken down and filtered."""

    model_config = ConfigDict(extra="forbid")

    metric: Metric = Field(
        description="bookings, pipeline (open, closing in the period), coverage (pipeline / remaining target), "
        "win_rate, avg_deal_size, cycle_length (days), attainment (bookings / quota per rep), headcount (AEs)."
    )
    period: str | None = Field(
        None, description="Fiscal period: FY2027, FY2027-H2, FY2027-Q3 or 2026-09 (default: the current quarter)."
    )
    by: list[Dimension] = Field(
        default_factory=list, description="Break down by region, segment, product, rep, manager."
    )
    filters: dict[str, list[str]] = Field(default_factory=dict, description="region, segment, product, rep or manager.")
    below: float | None = Field(None, description="Only rows whose value is below this (attainment: 0.5 = 50%).")
    above: float | None = Field(None, description="Only rows whose value is above this.")
    as_of: date | None = Field(None, description="Today for the lookup (default: the warehouse's as-of or today).")
    limit: int = Field(50, ge=1, le=10_000, description="Most rows returned, largest first.")

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter metrics by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value

    @model_validator(mode="after")
    def _by(self) -> MetricsInput:
        allowed = ALLOWED_BY[self.metric]
        bad = [d for d in self.by if d not in allowed]
        if bad:
            raise ValueError(f"{self.metric} cannot be broken down by {', '.join(bad)}; use {', '.join(allowed)}")
        if len(set(self.by)) != len(self.by):
            raise ValueError("a dimension is named twice in by")
        if self.metric == "attainment" and not self.by:
            self.by = ["rep"]
        return self


class MetricsResult(ToolResult):
    tool: str = "metrics"
