"""Typed input and result of the territory rebalance tool."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tools.contract import ToolResult
from tools.core.names import SAVE_AS, ScenarioName

Metric = Literal["potential", "arr", "workload", "pipeline"]
Unit = Literal["account", "zip", "msa", "state"]
FILTER_DIMS = ("region", "segment")
PARETO_CAPS = (0.01, 0.02, 0.05, 0.1, 0.2)  # shares of the value moved, when --pareto names none


class TerritoryInput(BaseModel):
    """What to rebalance. Scope and data come from the caller's context."""

    model_config = ConfigDict(extra="forbid")

    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Regions and/or segments to rebalance.",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    balance_on: list[Metric] = Field(
        default_factory=lambda: list[Metric](["potential"]),
        description="Metrics every rep must end within the band on (default: potential).",
    )
    band: float = Field(
        0.05, gt=0, le=1, description="Allowed deviation from each rep's target, fraction (0.05 = +-5%)."
    )
    max_disruption: float | None = Field(
        None,
        ge=0,
        description="Cap on the account value (ARR, else potential) moved: up to 1 a fraction of the total "
        "(0.1 = 10%), above 1 USD; imbalance is then minimised.",
    )
    lock: list[str] = Field(
        default_factory=lambda: ["strategic", "late-stage"],
        description="Accounts that never move: 'strategic', 'late-stage' (open deals in Proposal or later) and/or "
        "account ids (default: both kinds).",
    )
    unit: Unit = Field("account", description="Move whole accounts, ZIPs, metro areas (MSA) or states.")
    allow_cross_segment: bool = Field(
        False, description="Let accounts move to reps of another segment in their region."
    )
    travel_weight: float = Field(
        0.0, ge=0, description="USD of disruption per km between the rep's home and the account."
    )
    count_weight: float = Field(
        0.0, ge=0, description="Extra disruption per account moved, fraction of the mean account value (0.1 = 10%)."
    )
    max_accounts: int | None = Field(None, gt=0, description="Most accounts a rep may own after the plan.")
    max_change_per_rep: int | None = Field(
        None, ge=0, description="Most accounts any one rep may gain or lose (in + out), so no book is turned over."
    )
    k_nearest: int = Field(
        5, ge=1, le=50, description="Candidate reps per unit besides its current owner (nearest first)."
    )
    time_limit: float = Field(
        60.0,
        gt=0,
        le=3_600,
        description="Time limit for the whole run, seconds (the best plan found so far, and its gap, when it cuts).",
    )
    pareto: list[float] | None = Field(
        None,
        description="Trade balance against disruption: caps on the value moved (shares, 0.05 = 5%); the best "
        "balance within each, beside the plan that meets the band. Empty list: 1%, 2%, 5%, 10%, 20%.",
    )
    save_scenario: ScenarioName | None = Field(
        None, description=f"Save the plan as a draft territory scenario named this {SAVE_AS}."
    )

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter territories by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value

    @field_validator("pareto")
    @classmethod
    def _caps(cls, value: list[float] | None) -> list[float] | None:
        if value is None:
            return None
        if any(not 0 < c <= 1 for c in value):
            raise ValueError("pareto caps are shares of the value moved, above 0 and at most 1 (0.05 = 5%)")
        return sorted(set(value)) or list(PARETO_CAPS)

    @field_validator("balance_on")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("balance on at least one metric")
        return list(dict.fromkeys(value))


class TerritoryResult(ToolResult):
    tool: str = "territory_rebalance"
