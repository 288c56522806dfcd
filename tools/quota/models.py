"""Typed input and result of the quota simulation tool."""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.contract import ToolResult
from tools.core.names import SAVE_AS, ScenarioName

Method = Literal["historical", "potential", "blended", "equal", "current"]
FILTER_DIMS = ("region", "segment", "manager")
ADJUST_DIMS = ("region", "segment", "manager", "rep")


class Adjustment(BaseModel):
    """Change the quotas of a group by a percentage: region=EMEA:+10%."""

    model_config = ConfigDict(extra="forbid")

    dim: Literal["region", "segment", "manager", "rep"]
    value: str
    pct: float = Field(ge=-90, le=500)

    @classmethod
    def parse(cls, text: str) -> Adjustment:
        m = re.fullmatch(r"\s*(\w+)\s*=\s*([^:]+?)\s*:\s*([+-]?\d+(?:\.\d+)?)\s*%?\s*", text)
        if not m:
            raise ValueError(f"adjustment {text!r} is not DIM=VALUE:+X% (e.g. region=EMEA:+10%)")
        return cls(dim=m[1].lower(), value=m[2], pct=float(m[3]))


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: float = Field(alias="from", ge=0, description="Attainment where the tier starts, e.g. 1.0.")
    multiplier: float = Field(ge=0, description="Pay per point of attainment inside the tier, relative to plan rate.")


class CompPlanInput(BaseModel):
    """A comp plan given directly, instead of the warehouse's plans."""

    model_config = ConfigDict(extra="forbid")

    variable_share: float = Field(0.5, ge=0, le=1, description="Share of OTE paid as variable at 100%.")
    threshold: float = Field(0.0, ge=0, description="Attainment below which nothing is paid.")
    decelerator: float = Field(1.0, ge=0, description="Rate multiplier below 100% attainment.")
    accelerators: list[Tier] = Field(default_factory=list, description="Tiers above plan, sorted by start.")
    cap: float | None = Field(None, ge=0, description="Maximum payout as a multiple of target variable.")


class QuotaInput(BaseModel):
    """What to allocate and simulate. Scope and data come from the caller's context."""

    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(None, description="Fiscal year, half or quarter (default: the next fiscal year).")
    target: float | None = Field(None, gt=0, description="Target to allocate (default: the targets table).")
    method: Method = Field(
        "blended", description="historical, potential, blended, equal, or current (the stored quotas)."
    )
    weights: tuple[float, float] = Field((0.5, 0.5), description="Blend weights (history, potential), summing to 1.")
    over_assign: float = Field(0.10, ge=0, le=1, description="Quotas add up to target x (1 + this).")
    filters: dict[str, list[str]] = Field(default_factory=dict, description="region, segment or manager (a team).")
    adjustments: list[Adjustment] = Field(default_factory=list, description="What-if quota changes by group.")
    leave: list[str] = Field(default_factory=list, description="What-if: these reps leave at the start of the period.")
    scenario_id: str | None = Field(None, description="What-if: evaluate a saved territory or quota scenario.")
    floor: float | None = Field(None, ge=0, description="Minimum quota of a fully ramped rep.")
    cap: float | None = Field(None, gt=0, description="Maximum quota of a fully ramped rep.")
    unit: float = Field(1_000.0, ge=0, description="Round quotas to this unit (0: no rounding).")
    reallocate: bool = Field(
        False, description="Mid-period: re-allocate what is left of the target, crediting bookings closed so far."
    )
    target_share: float = Field(
        0.6, gt=0, lt=1, description="Share of reps at quota the over-assignment solver aims for."
    )
    as_of: date | None = Field(None, description="Simulate as of this date (default: the warehouse's as-of or today).")
    trials: int = Field(10_000, ge=100, le=200_000)
    seed: int = 0
    save_scenario: ScenarioName | None = Field(
        None, description=f"Save the allocation as a draft quota scenario with this name {SAVE_AS}."
    )
    comp_plan: CompPlanInput | None = Field(
        None, description="Use this comp plan for every rep instead of the stored plans."
    )

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter quotas by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value

    @model_validator(mode="after")
    def _weights(self) -> QuotaInput:
        w_h, w_p = self.weights
        if min(w_h, w_p) < 0 or abs(w_h + w_p - 1) > 1e-9:
            raise ValueError(f"weights must be non-negative and sum to 1, got {w_h:g},{w_p:g}")
        if self.floor is not None and self.cap is not None and self.floor > self.cap:
            raise ValueError("floor must not exceed cap")
        return self

    def has_what_if(self) -> bool:
        return bool(self.adjustments or self.leave or self.scenario_id)


class QuotaResult(ToolResult):
    tool: str = "quota_simulate"
