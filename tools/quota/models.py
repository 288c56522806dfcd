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
    """Change one group's quotas by a percentage (the CLI writes it region=EMEA:+10%)."""

    model_config = ConfigDict(extra="forbid")

    dim: Literal["region", "segment", "manager", "rep"] = Field(description="manager: that manager's team.")
    value: str = Field(description="A region or segment name, or a rep id.")
    pct: float = Field(ge=-90, le=500, description="Percent (10 = +10%).")

    @classmethod
    def parse(cls, text: str) -> Adjustment:
        m = re.fullmatch(r"\s*(\w+)\s*=\s*([^:]+?)\s*:\s*([+-]?\d+(?:\.\d+)?)\s*%?\s*", text)
        if not m:
            raise ValueError(f"adjustment {text!r} is not DIM=VALUE:+X% (e.g. region=EMEA:+10%)")
        return cls(dim=m[1].lower(), value=m[2], pct=float(m[3]))


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: float = Field(alias="from", ge=0, description="Attainment where the tier starts, fraction (1.0 = 100%).")
    multiplier: float = Field(ge=0, description="Pay rate in the tier, x the plan rate.")


class CompPlanInput(BaseModel):
    """A comp plan given directly, instead of the warehouse's plans."""

    model_config = ConfigDict(extra="forbid")

    variable_share: float = Field(
        0.5, ge=0, le=1, description="Variable part of OTE at 100% attainment, fraction (0.5 = 50%)."
    )
    threshold: float = Field(0.0, ge=0, description="Attainment below which nothing is paid, fraction (0.5 = 50%).")
    decelerator: float = Field(1.0, ge=0, description="Pay rate below 100% attainment, x the plan rate.")
    accelerators: list[Tier] = Field(default_factory=list, description="Tiers above plan, sorted by from.")
    cap: float | None = Field(None, ge=0, description="Most payout, x the target variable (2 = 200%).")


class QuotaInput(BaseModel):
    """What to allocate and simulate. Scope and data come from the caller's context."""

    model_config = ConfigDict(extra="forbid")

    period: str | None = Field(
        None, description="Fiscal year, half or quarter, e.g. FY2028-Q1 (default: the next fiscal year)."
    )
    target: float | None = Field(None, gt=0, description="USD to allocate (default: the targets table).")
    method: Method = Field(
        "blended",
        description="blended: history and potential mixed by weights; current: the stored quotas.",
    )
    weights: tuple[float, float] = Field((0.5, 0.5), description="[history, potential] for blended, summing to 1.")
    over_assign: float = Field(0.10, ge=0, le=1, description="Quotas sum to target x (1 + this), fraction (0.1 = 10%).")
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Members to keep; manager: that manager's team (rep id or name).",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    adjustments: list[Adjustment] = Field(default_factory=list, description="What-if: change a group's quotas.")
    leave: list[str] = Field(default_factory=list, description="What-if: ids of reps who leave at the period's start.")
    scenario_id: str | None = Field(None, description="What-if: a saved territory or quota scenario (name or id).")
    floor: float | None = Field(None, ge=0, description="Least quota of a fully ramped rep, USD.")
    cap: float | None = Field(None, gt=0, description="Most quota of a fully ramped rep, USD.")
    unit: float = Field(1_000.0, ge=0, description="Round quotas to this many USD (0: no rounding).")
    reallocate: bool = Field(False, description="Mid-period: re-allocate the target left, crediting bookings so far.")
    target_share: float = Field(
        0.6,
        gt=0,
        lt=1,
        description="Share of reps at quota (P50) the over-assignment advice aims for, fraction (0.6 = 60%).",
    )
    as_of: date | None = Field(None, description="Simulate as of this date (default: the warehouse's as-of or today).")
    trials: int = Field(10_000, ge=100, le=200_000)
    seed: int = 0
    save_scenario: ScenarioName | None = Field(
        None, description=f"Save as a draft quota scenario named this {SAVE_AS}."
    )
    comp_plan: CompPlanInput | None = Field(None, description="What-if: one comp plan for every rep.")

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
