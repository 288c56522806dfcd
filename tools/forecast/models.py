"""Typed input and result of the forecast tool."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.contract import ToolResult

Grain = Literal["month", "quarter"]
Method = Literal["auto", "ets", "arima", "theta", "naive", "ensemble"]
GROUP_DIMS = ("region", "segment", "product", "rep")
FILTER_DIMS = ("region", "segment", "product", "rep", "manager")


class WhatIf(BaseModel):
    """What-ifs; the result shows them beside the baseline."""

    model_config = ConfigDict(extra="forbid")

    win_rate_pts: float = Field(
        0.0,
        ge=-50,
        le=50,
        description="Percentage points added to every deal's win probability, open and future (5 = +5 pts).",
    )
    pipeline_growth_pct: float = Field(
        0.0,
        ge=-90,
        le=500,
        description="New pipeline vs the run-rate, percent (10 = +10%).",
    )
    deal_size_pct: float = Field(
        0.0, ge=-90, le=500, description="Change to deal amounts, open and future, percent (-10 = -10%)."
    )
    slip_rate_pts: float = Field(
        0.0,
        ge=-100,
        le=100,
        description="Percentage points of won deals slipping one period (5 = +5 pts).",
    )

    def is_baseline(self) -> bool:
        return not any((self.win_rate_pts, self.pipeline_growth_pct, self.deal_size_pct, self.slip_rate_pts))

    def describe(self) -> list[str]:
        """The levers moved, in words: ['win rate +5 pts', 'deal size -10%']."""
        out = []
        if self.win_rate_pts:
            out.append(f"win rate {self.win_rate_pts:+g} pts")
        if self.pipeline_growth_pct:
            out.append(f"new pipeline {self.pipeline_growth_pct:+g}%")
        if self.deal_size_pct:
            out.append(f"deal size {self.deal_size_pct:+g}%")
        if self.slip_rate_pts:
            out.append(f"slip rate {self.slip_rate_pts:+g} pts")
        return out


WHAT_IF_KEYS = {
    "win_rate": "win_rate_pts",
    "win_rate_pts": "win_rate_pts",
    "pipeline_growth": "pipeline_growth_pct",
    "pipeline_growth_pct": "pipeline_growth_pct",
    "deal_size": "deal_size_pct",
    "deal_size_pct": "deal_size_pct",
    "slip_rate": "slip_rate_pts",
    "slip_rate_pts": "slip_rate_pts",
}


class ForecastInput(BaseModel):
    """What to forecast. Scope and data come from the caller's context, not from here."""

    model_config = ConfigDict(extra="forbid")

    horizon: int = Field(4, ge=1, le=24, description="Periods (of grain) to forecast.")
    grain: Grain = Field("quarter", description="Period length.")
    by: list[str] = Field(
        default_factory=list,
        description="Breakdown, in hierarchy order (default: one total).",
        json_schema_extra={"items": {"type": "string", "enum": list(GROUP_DIMS)}},  # the closed set, for a model
    )
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Members to keep; reps by id or name, manager: that manager's team.",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    what_if: WhatIf = Field(default_factory=WhatIf)
    scenario_id: str | None = Field(None, description="What-if: a saved territory or quota scenario (name or id).")
    method: Method = Field("auto", description="Time-series model (auto: the best per series by backtest).")
    as_of: date | None = Field(
        None,
        description="Forecast as if today were this date (default: the warehouse's as-of or today).",
    )
    seed: int = Field(0, ge=0, description="Random seed of the Monte Carlo and the model.")
    trials: int = Field(10_000, ge=100, le=200_000, description="Monte Carlo trials.")

    @field_validator("by")
    @classmethod
    def _dims(cls, value: list[str]) -> list[str]:
        out = []
        for dim in value:
            d = dim.strip().lower()
            if d not in GROUP_DIMS:
                raise ValueError(f"cannot group by {dim!r}; use any of {', '.join(GROUP_DIMS)}")
            if d in out:
                raise ValueError(f"{dim!r} is named twice")
            out.append(d)
        return out

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter the forecast by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value


class ForecastResult(ToolResult):
    tool: str = "forecast"
