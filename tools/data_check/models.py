"""Typed input and result of the data-check tool."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from tools.contract import ToolResult


class DataCheckInput(BaseModel):
    """Which checks to run (all by default)."""

    model_config = ConfigDict(extra="forbid")

    checks: list[str] = Field(
        default_factory=list,
        description="Check names (zombie_opportunities, stale_stages, duplicate_accounts, orphan_owners, "
        "zips_without_territory, amount_outliers, active_reps_without_quota, quotas_without_rep); empty: all.",
    )
    as_of: date | None = Field(None, description="Check as of this date (default: the warehouse's as-of or today).")


class DataCheckResult(ToolResult):
    tool: str = "data_check"
