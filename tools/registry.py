"""Every planning tool, registered once: the agent binds these, the offline planner maps its
intents to them, evals and views read their names, headings, tables and units from here.

Adding a tool: its package (models, a tool that returns its result, a `spec.py` with its
`ToolSpec`), one line below, and its tests (tests/test_tool_contract.py runs the contract on
every registered tool). docs/architecture.md walks through it.
"""

from __future__ import annotations

from tools.calendar.spec import SPEC as FISCAL_CALENDAR
from tools.capacity.spec import SPEC as CAPACITY
from tools.compare.spec import SPEC as COMPARE_PLANS
from tools.data_check.spec import SPEC as DATA_CHECK
from tools.explain.spec import SPEC as EXPLAIN_VARIANCE
from tools.forecast.spec import SPEC as FORECAST
from tools.metrics.spec import SPEC as METRICS
from tools.pipeline.spec import SPEC as PIPELINE_MOVEMENT
from tools.quota.spec import SPEC as QUOTA
from tools.scenarios.spec import APPLY as APPLY_SCENARIO
from tools.scenarios.spec import SPEC as SCENARIOS
from tools.spec import ToolSpec
from tools.territory.spec import SPEC as TERRITORY
from warehouse.errors import InputError

TOOLS: tuple[ToolSpec, ...] = (
    FORECAST,
    QUOTA,
    TERRITORY,
    CAPACITY,
    METRICS,
    PIPELINE_MOVEMENT,
    COMPARE_PLANS,
    EXPLAIN_VARIANCE,
    DATA_CHECK,
    SCENARIOS,
    APPLY_SCENARIO,
    FISCAL_CALENDAR,
)
BY_NAME: dict[str, ToolSpec] = {t.name: t for t in TOOLS}


def is_write(name: str) -> bool:
    """A registered tool that changes base data (it runs only with an approval)."""
    spec = BY_NAME.get(name)
    return spec is not None and spec.write


def tool(name: str) -> ToolSpec:
    if name not in BY_NAME:
        raise InputError(f"No tool {name!r}.", f"Tools: {', '.join(BY_NAME)}.")
    return BY_NAME[name]


def of_intent(intent: str) -> ToolSpec | None:
    """The tool the offline planner's intent stands for."""
    return next((t for t in TOOLS if t.intent == intent), None)
