"""Typed input and result of the metrics tool (the everyday KPI lookups); the KPIs themselves
are in tools/metrics/registry.py."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.contract import ToolResult
from tools.metrics.registry import ALL_DIMS, METRICS

FILTER_DIMS = ALL_DIMS
# How a KPI's value reads, for `below` and `above` (tools/core/format.py names the units).
_UNIT_WORDS = {"share": "fraction", "x": "ratio"}


def _metric_schema(schema: dict[str, Any]) -> None:
    schema["enum"] = list(METRICS)
    # Built with the schema, like the enum, so a KPI registered later is described too.
    schema["description"] = "The KPI (its unit): " + "; ".join(
        f"{m.name} ({_UNIT_WORDS.get(m.unit, m.unit)}): {m.description}" for m in METRICS.values()
    )


def _allowed(breakdowns: tuple[str, ...]) -> str:
    """A KPI's breakdowns in the fewer words: the ones allowed, or the ones that are not."""
    others = [d for d in ALL_DIMS if d not in breakdowns]
    return f"not {', '.join(others)}" if len(others) < len(breakdowns) else ", ".join(breakdowns)


def _by_schema(schema: dict[str, Any]) -> None:
    schema["items"] = {"type": "string", "enum": list(ALL_DIMS)}
    defaults = "".join(f"; {m.name}: {', '.join(m.default_by)}" for m in METRICS.values() if m.default_by)
    limits = "; ".join(f"{m.name}: {_allowed(m.breakdowns)}" for m in METRICS.values() if m.breakdowns != ALL_DIMS)
    schema["description"] = f"Breakdown (default: none{defaults}). {limits}."


class MetricsInput(BaseModel):
    """One KPI for a fiscal period, optionally broken down and filtered."""

    model_config = ConfigDict(extra="forbid")

    metric: str = Field(description="The KPI.", json_schema_extra=_metric_schema)
    period: str | None = Field(
        None,
        description="Fiscal period: FY2027, FY2027-H2, FY2027-Q3, 2026-09, 'this quarter', 'last year', 'YTD', "
        "'trailing 12 months' (default: the current quarter).",
    )
    by: list[str] = Field(default_factory=list, description="Breakdown.", json_schema_extra=_by_schema)
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Members to keep; reps by id or name, manager: that manager's team.",
        json_schema_extra={"propertyNames": {"enum": list(FILTER_DIMS)}},  # the closed set of keys, for a model
    )
    below: float | None = Field(
        None, description="Only rows below this value, in the KPI's unit (fractions: 0.5 = 50%)."
    )
    above: float | None = Field(
        None, description="Only rows above this value, in the KPI's unit (fractions: 0.5 = 50%)."
    )
    as_of: date | None = Field(None, description="Today for the lookup (default: the warehouse's as-of or today).")
    limit: int = Field(50, ge=1, le=10_000, description="Most rows returned, largest first.")

    @field_validator("metric")
    @classmethod
    def _metric(cls, value: str) -> str:
        name = value.strip().lower()
        if name not in METRICS:
            raise ValueError(f"unknown KPI {value!r}; use one of {', '.join(METRICS)}")
        return name

    @field_validator("filters")
    @classmethod
    def _filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for dim in value:
            if dim not in FILTER_DIMS:
                raise ValueError(f"cannot filter metrics by {dim!r}; use {', '.join(FILTER_DIMS)}")
        return value

    @model_validator(mode="after")
    def _by(self) -> MetricsInput:
        spec = METRICS[self.metric]
        bad = [d for d in self.by if d not in spec.breakdowns]
        if bad:
            raise ValueError(
                f"{self.metric} cannot be broken down by {', '.join(bad)}; use {', '.join(spec.breakdowns)}"
            )
        if len(set(self.by)) != len(self.by):
            raise ValueError("a dimension is named twice in by")
        if not self.by and spec.default_by:
            self.by = list(spec.default_by)
        return self


class MetricsResult(ToolResult):
    tool: str = "metrics"
