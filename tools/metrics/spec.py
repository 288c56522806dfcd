"""The metrics tool's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.contract import ToolResult
from tools.metrics.models import MetricsInput, MetricsResult
from tools.metrics.registry import METRICS
from tools.spec import ToolSpec
from warehouse.connection import Warehouse
from warehouse.identity import User


def _run(warehouse: Warehouse, params: MetricsInput, user: User) -> ToolResult:
    from tools.metrics.tool import run_metrics

    return run_metrics(warehouse, params, scope=user.scope)


SPEC = ToolSpec(
    name="metrics",
    description="KPI lookups by fiscal period and dimension: " + ", ".join(m.replace("_", " ") for m in METRICS)
    + " (e.g. who is below 50% of quota).",
    input_model=MetricsInput,
    result_model=MetricsResult,
    heading="Metrics",
    run=_run,
    headline_tables=("values",),
    column_units={"booked": "USD", "quota": "USD", "weighted": "USD", "won_amount": "USD", "closed_amount": "USD",
                  "avg_won_amount": "USD", "cycle_days": "days", "won": "count", "closed": "count",
                  "open_requisitions": "count", "value_win_rate": "share"},
    intent="metrics",
)  # fmt: skip
