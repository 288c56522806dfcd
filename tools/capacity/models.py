"""Typed input and result of the capacity gap tool."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.contract import ToolResult

FILTER_DIMS = ("region", "segment")
Confidence = Literal["p50", "p80", "p90"]
CONFIDENCE_LEVEL: dict[str, float] = {"p50": 0.5, "p80": 0.8, "p90": 0.9}


class CapacityInput(BaseModel):
    """What to plan. Every assumption left empty is estimated from the warehouse's history."""

    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(
        None, description="Fiscal year, half or quarter, e.g. FY2028 or FY2028-H1 (default: the next fiscal year)."
    )
    target: float | None = Field(
        None, gt=0, description="Bookings target for the selection, USD (default: the targets table)."
    )
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Regions and/or segments to keep.",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    attrition: float | None = Field(
        None, ge=0, lt=1, description="Annual AE attrition, voluntary and involuntary, fraction (0.2 = 20%)."
    )
    ramp_months: int | None = Field(
        None, ge=0, le=36, description="Months to full productivity, linear ramp (not with ramp_curve)."
    )
    ramp_curve: list[float] | None = Field(
        None,
        description="Fraction of full productivity by month of tenure, ending at 1, e.g. [0, 0.25, 0.5, 0.75, 1] "
        "(not with ramp_months).",
    )
    time_to_fill_months: int | None = Field(
        None, ge=0, le=24, description="Months from opening a requisition (or a departure) to the hire's start."
    )
    productivity: float | None = Field(
        None, gt=0, description="USD booked per month by one fully ramped AE (default: estimated per region x segment)."
    )
    backfill: bool = Field(True, description="Replace every departure after the time to fill.")
    confidence: Confidence = Field("p50", description="Probability that the hiring plan closes the gap.")
    freeze_from: date | None = Field(None, description="Hiring freeze: no hire starts in this date's month or later.")
    max_hires_per_month: int | None = Field(
        None, ge=1, description="Most new AEs one region x segment can start per month (default: its 2-year peak)."
    )
    hires: int | None = Field(
        None,
        ge=0,
        le=500,
        description='Evaluate exactly this many new AE hires ("approved for 4"), placed where the plan puts its most '
        "valuable ones; compared with no hires and the full plan.",
    )
    hires_start: str | None = Field(
        None,
        description="Month all the hires start: 2027-03, 'Mar 2027', 'next month'; a quarter: its first month "
        "(default: spread like the plan). Needs hires.",
    )
    min_useful_share: float = Field(
        0.2,
        gt=0,
        lt=1,
        description="A start month is useful if the hire adds this much of a ramped rep's period, fraction (0.2 = 20%).",
    )
    scenario_id: str | None = Field(None, description="What-if: a saved quota or territory scenario (name or id).")
    as_of: date | None = Field(None, description="Plan as of this date (default: the warehouse's as-of or today).")
    trials: int = Field(10_000, ge=100, le=200_000)
    seed: int = 0

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter capacity by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value

    @field_validator("ramp_curve")
    @classmethod
    def _curve(cls, value: list[float] | None) -> list[float] | None:
        from tools.capacity.ramp import validate

        return None if value is None else [float(v) for v in validate(value)]

    @model_validator(mode="after")
    def _ramp(self) -> CapacityInput:
        if self.ramp_months is not None and self.ramp_curve is not None:
            raise ValueError("give either ramp_months or ramp_curve, not both")
        if self.hires_start is not None and self.hires is None:
            raise ValueError("hires_start needs hires: say how many hires start then (e.g. hires=4)")
        return self

    def overrides(self) -> list[str]:
        """The assumptions this request changes from what the warehouse says (the what-if)."""
        named = {
            "target": self.target is not None,
            "attrition": self.attrition is not None,
            "ramp": self.ramp_months is not None or self.ramp_curve is not None,
            "time_to_fill": self.time_to_fill_months is not None,
            "productivity": self.productivity is not None,
            "no_backfill": not self.backfill,
            "hiring_freeze": self.freeze_from is not None,
            "scenario": self.scenario_id is not None,
        }
        return [k for k, v in named.items() if v]

    def baseline(self) -> CapacityInput:
        """The same request with every assumption taken from the warehouse."""
        return self.model_copy(
            update={
                "target": None,
                "attrition": None,
                "ramp_months": None,
                "ramp_curve": None,
                "time_to_fill_months": None,
                "productivity": None,
                "backfill": True,
                "freeze_from": None,
                "scenario_id": None,
            }
        )


class CapacityResult(ToolResult):
    tool: str = "capacity_gap"
