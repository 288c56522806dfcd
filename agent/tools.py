"""Tool adapters: each planning tool as a LangChain tool whose schema is the tool's own
pydantic input model, so a model sees typed arguments with their descriptions.

The warehouse and the user's scope come from the run's context (injected as `runtime`, which
the model never sees); a tool can therefore only read what the user may read, whatever the
arguments say. A tool returns (compact JSON for the model, the full result as the artifact).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, StructuredTool
from langgraph.prebuilt.tool_node import ToolRuntime
from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.context import Context, User
from tools.contract import ToolResult
from warehouse.connection import Warehouse
from warehouse.errors import NotFoundError, PermissionDeniedError

CONTENT_LIMIT = 6_000  # characters of a result shown to a language model
ROWS_SHOWN = 5


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input_model: type[BaseModel]
    run: Callable[[Warehouse, User, Any], ToolResult] | None = None  # a read, with the user's scope
    apply: Callable[[Warehouse, Any, dict[str, Any] | None], ToolResult] | None = None  # a write, given its approval

    @property
    def write(self) -> bool:
        """Changes base data: runs only with an approval decision."""
        return self.apply is not None


def _forecast(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.forecast.tool import run_forecast

    return run_forecast(warehouse, params, scope=user.scope)


def _quota(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.quota.tool import run_quota

    return run_quota(warehouse, params, scope=user.scope, user=user.user_id)


def _territory(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.territory.tool import run_territory

    return run_territory(warehouse, params, scope=user.scope, user=user.user_id)


def _capacity(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.capacity.tool import run_capacity

    return run_capacity(warehouse, params, scope=user.scope)


def _metrics(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.metrics.tool import run_metrics

    return run_metrics(warehouse, params, scope=user.scope)


def _data_check(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.data_check.tool import run_data_check

    return run_data_check(warehouse, params, scope=user.scope)


def _scenarios(warehouse: Warehouse, user: User, params: Any) -> ToolResult:
    from tools.scenarios.tool import run_scenarios

    return run_scenarios(warehouse, params, scope=user.scope)


class ApplyScenarioInput(BaseModel):
    """Apply a saved draft scenario to the base data (needs the user's approval)."""

    model_config = ConfigDict(extra="forbid")

    scenario: str = Field(description="Name or id of the saved scenario to apply.")


class ApplyScenarioResult(ToolResult):
    tool: str = "apply_scenario"


class FiscalCalendarInput(BaseModel):
    """Change the warehouse's fiscal-year start for everyone (needs an approver)."""

    model_config = ConfigDict(extra="forbid")

    start_month: int = Field(ge=1, le=12, description="Month the fiscal year starts in (1 = January).")
    note: str | None = Field(None, description="Id of the memory note that asked for the change.")


class FiscalCalendarResult(ToolResult):
    tool: str = "set_fiscal_calendar"


def _refused(what: str, decision: dict[str, Any] | None) -> None:
    """Raise unless `decision` approves the write."""
    if decision and decision.get("error"):
        raise NotFoundError(f"{what} was not applied: {decision['error']}")
    if not decision or not decision.get("approved"):
        reason = (decision or {}).get("reason") or "it was not approved"
        raise PermissionDeniedError(f"{what} was not applied: {reason}.")


def _set_calendar(warehouse: Warehouse, params: Any, decision: dict[str, Any] | None) -> ToolResult:
    from calendar import month_name

    from warehouse.fingerprint import fingerprint
    from warehouse.fiscal_start import set_fiscal_start

    _refused(f"The fiscal-year start change to {month_name[params.start_month]}", decision)
    assert decision is not None
    with warehouse.writer() as cur:
        old = set_fiscal_start(cur, params.start_month)
    with warehouse.reader() as cur:
        fp = fingerprint(cur, ["targets", "quotas"])
    source = f" (as note {params.note} says)" if params.note else ""
    return FiscalCalendarResult(
        summary=f"The fiscal year now starts in {month_name[params.start_month]} instead of {month_name[old]}"
        f"{source}, approved by {decision['by']}.",
        metrics={"from_month": old, "to_month": params.start_month, "approved_by": decision["by"]},
        data_fingerprint=fp,
    )


def _apply(warehouse: Warehouse, params: Any, decision: dict[str, Any] | None) -> ToolResult:
    from warehouse.fingerprint import fingerprint
    from warehouse.scenarios import apply_scenario, get_scenario

    _refused(f"Scenario {params.scenario!r}", decision)
    assert decision is not None
    with warehouse.writer() as cur:
        scenario = get_scenario(cur, params.scenario)
        changed = apply_scenario(cur, scenario.scenario_id, approved_by=decision["by"])
    with warehouse.reader() as cur:
        fp = fingerprint(cur, ["accounts", "quotas", "scenarios"])
    return ApplyScenarioResult(
        summary=f"Applied scenario {scenario.name} ({scenario.kind}): {changed} rows changed, approved by {decision['by']}.",
        metrics={"scenario_id": scenario.scenario_id, "rows_changed": changed, "approved_by": decision["by"]},
        data_fingerprint=fp,
    )


def specs() -> list[ToolSpec]:
    from tools.capacity.models import CapacityInput
    from tools.data_check.models import DataCheckInput
    from tools.forecast.models import ForecastInput
    from tools.metrics.models import MetricsInput
    from tools.quota.models import QuotaInput
    from tools.scenarios.models import ScenariosInput
    from tools.territory.models import TerritoryInput

    return [
        ToolSpec(
            "forecast",
            "Forecast bookings (P10/P50/P90) by fiscal month or quarter for any region, segment, product or rep "
            "breakdown: time series plus open pipeline with calibrated win probabilities, backtested; what-ifs on win "
            "rate, pipeline, deal size and slippage.",
            ForecastInput,
            _forecast,
        ),
        ToolSpec(
            "quota_simulate",
            "Allocate a period's target to reps (history, potential, blended, equal or the stored quotas), then "
            "simulate attainment, comp cost and fairness; what-if quota changes by region/segment/rep.",
            QuotaInput,
            _quota,
        ),
        ToolSpec(
            "territory_rebalance",
            "Rebalance accounts across reps within a band on potential/ARR/workload/pipeline with the least "
            "disruption; locked accounts, disruption caps, zip/MSA units; moves, optimality gap, map.",
            TerritoryInput,
            _territory,
        ),
        ToolSpec(
            "capacity_gap",
            "Capacity vs target by month, quarter and year from ramp, attrition and time to fill; the fewest hires "
            "by region, segment and start month that close the gap at a confidence level.",
            CapacityInput,
            _capacity,
        ),
        ToolSpec(
            "metrics",
            "KPI lookups by fiscal period and dimension: bookings, pipeline, coverage, win rate, average deal size, "
            "sales cycle, attainment (who is below X% of quota), headcount.",
            MetricsInput,
            _metrics,
        ),
        ToolSpec(
            "data_check",
            "Data-quality checks that make plans wrong (zombie deals, duplicates, orphan owners, outliers, quotas).",
            DataCheckInput,
            _data_check,
        ),
        ToolSpec(
            "scenarios",
            "List saved draft scenarios, show one, or compare two side by side.",
            ScenariosInput,
            _scenarios,
        ),
        ToolSpec(
            "apply_scenario",
            "Apply a saved draft scenario to the base data (account owners or quotas). Needs the user's approval.",
            ApplyScenarioInput,
            apply=_apply,
        ),
        ToolSpec(
            "set_fiscal_calendar",
            "Change the month the fiscal year starts in, for every user and tool. Needs an approver.",
            FiscalCalendarInput,
            apply=_set_calendar,
        ),
    ]


WRITE_TOOLS = frozenset(s.name for s in specs() if s.write)


def _compact(value: Any, depth: int = 0) -> Any:
    """A small view of a result for a model: scalars, short lists, first rows of tables."""
    if isinstance(value, dict):
        if depth > 2:
            return {k: v for k, v in value.items() if not isinstance(v, dict | list)}
        return {k: _compact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v, depth + 1) for v in value[:ROWS_SHOWN]]
    return value


def content_for_model(result: dict[str, Any]) -> str:
    view = {
        "tool": result.get("tool"),
        "summary": result.get("summary"),
        "metrics": _compact(result.get("metrics", {})),
        "recommendations": [
            {"action": r["action"], "impact": r["impact"], "confidence": r["confidence"]}
            for r in result.get("recommendations", [])[:ROWS_SHOWN]
        ],
        "warnings": [w["message"] for w in result.get("warnings", [])[:ROWS_SHOWN]],
        "tables": {name: rows[:ROWS_SHOWN] for name, rows in result.get("tables", {}).items()},
    }
    text = json.dumps(view, default=str)
    if len(text) > CONTENT_LIMIT:
        view.pop("tables")
        text = json.dumps(view, default=str)[:CONTENT_LIMIT]
    return text


def adapter(spec: ToolSpec) -> StructuredTool:
    """The LangChain tool for `spec`: the input model plus the injected runtime."""
    schema = create_model(  # type: ignore[call-overload]
        f"{spec.name}_args",
        __base__=spec.input_model,
        __doc__=spec.input_model.__doc__,
        runtime=(Annotated[Any, InjectedToolArg], None),
    )

    def run(runtime: ToolRuntime, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        ctx: Context = runtime.context
        params = spec.input_model(**kwargs)
        ctx.settings.limits.check(params)
        if spec.apply is not None:
            state = runtime.state
            approvals = state.get("approvals", {}) if isinstance(state, dict) else getattr(state, "approvals", {})
            result = spec.apply(ctx.warehouse, params, approvals.get(runtime.tool_call_id or ""))
        else:
            assert spec.run is not None
            result = spec.run(ctx.warehouse, ctx.user, params)
        data = result.model_dump(mode="json")
        return content_for_model(data), data

    return StructuredTool.from_function(
        func=run,
        name=spec.name,
        description=spec.description,
        args_schema=schema,
        response_format="content_and_artifact",
    )


def tools() -> list[StructuredTool]:
    return [adapter(s) for s in specs()]
