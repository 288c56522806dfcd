"""The forecast tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.forecast.models import ForecastInput, ForecastResult
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: ForecastInput, user: User) -> ToolResult:
    from tools.forecast.tool import run_forecast

    return run_forecast(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="forecast",
    description="Forecast bookings (P10/P50/P90, USD) by fiscal month or quarter for any slice or breakdown, from "
    "history and open pipeline, backtested; what-ifs on win rate, pipeline, deal size and slippage.",
    input_model=ForecastInput,
    result_model=ForecastResult,
    heading="Forecast",
    run=_run,
    headline_tables=("forecast", "current_period", "comparison"),
    column_units={"booked_to_date": "USD", "in_seat": "text", "opp_id": "text", "points": "count"},
    intent="forecast",
)
