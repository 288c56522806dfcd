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
        description="Metrics to balance.",
    )
    band: float = Field(
        0.05, gt=0, le=1, description="Allowed deviation from each rep's target, fraction (0.05 = +-5%)."
    )
    max_disruption: float | None = Field(
        None,
        ge=0,
        description="Cap on value moved: up to 1 a fraction (0.1 = 10%), above 1 USD; imbalance is then minimised.",
    )
    lock: list[str] = Field(
        default_factory=lambda: ["strategic", "late-stage"],
        description="Accounts that never move: 'strategic', 'late-stage' (deals in Proposal or later), account ids.",
    )
    named: dict[str, str] = Field(
        default_factory=dict,
        description="Named accounts pinned to a rep: account id -> rep id (overrides locks; the family follows).",
    )
    keep_families: bool = Field(
        True, description="Accounts of one parent/child family (the CRM's parent account) move together."
    )
    open_seats: bool = Field(False, description="Also carve books for open AE requisitions (to-be-hired seats).")
    unit: Unit = Field("account", description="Move accounts, ZIPs, metros (MSA) or states.")
    allow_cross_segment: bool = Field(False, description="Let accounts move across segments within their region.")
    travel_weight: float = Field(0.0, ge=0, description="USD of disruption per km from the rep's home.")
    count_weight: float = Field(0.0, ge=0, description="Disruption per account moved, in mean account values.")
    max_accounts: int | None = Field(None, gt=0, description="Most accounts per rep after the plan.")
    max_change_per_rep: int | None = Field(None, ge=0, description="Most accounts a rep may gain plus lose.")
    k_nearest: int = Field(5, ge=1, le=50, description="Starting candidate reps per unit besides its owner.")
    time_limit: float = Field(
        60.0,
        gt=0,
        le=3_600,
        description="Seconds for the whole run.",
    )
    pareto: list[float] | None = Field(
        None,
        description="Caps on value moved (fractions): the best balance within each; [] = 1-20%.",
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
