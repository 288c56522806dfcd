"""The fiscal-calendar write's record in the registry (tools/registry.py)."""

from __future__ import annotations

from tools.calendar import tool
from tools.spec import ToolSpec

SPEC = ToolSpec(
    name="set_fiscal_calendar",
    description="Change the month the fiscal year starts in, for every user and tool. Needs an approver.",
    input_model=tool.FiscalCalendarInput,
    result_model=tool.FiscalCalendarResult,
    heading="Fiscal calendar",
    apply=tool.apply,
    describe=tool.describe,
)
