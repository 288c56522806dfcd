"""Changing the fiscal-year start: the write behind `set_fiscal_calendar` and `spm data calendar`.

`describe` says what the change affects (how many stored rows carry fiscal period names, read
under the new calendar afterwards: warehouse/fiscal_start.py); `apply` makes it in one
transaction once an approver said yes.
"""

from __future__ import annotations

from calendar import month_name
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from tools.contract import ToolResult
from tools.spec import Decision, require_approval
from warehouse.connection import Warehouse
from warehouse.errors import SpmError
from warehouse.fingerprint import fingerprint
from warehouse.fiscal_start import describe_change, set_fiscal_start


class FiscalCalendarInput(BaseModel):
    """Change the warehouse's fiscal-year start for everyone (needs an approver)."""

    model_config = ConfigDict(extra="forbid")

    start_month: int = Field(ge=1, le=12, description="Month the fiscal year starts in (1 = January).")
    note: str | None = Field(None, description="Id of the memory note that asked for the change.")


class FiscalCalendarResult(ToolResult):
    tool: str = "set_fiscal_calendar"


def describe(warehouse: Warehouse, args: Mapping[str, Any]) -> dict[str, Any]:
    try:
        month = int(args.get("start_month", 0))
        with warehouse.reader() as cur:
            change = describe_change(cur, month)
    except (SpmError, TypeError, ValueError) as exc:
        return {"tool": "set_fiscal_calendar", "error": str(exc)}
    note = f" Asked for by note {args['note']}." if args.get("note") else ""
    return {
        "tool": "set_fiscal_calendar",
        "target": month_name[month],  # what a request must name to pre-approve this write
        "changes": 1,
        "tables": ["meta"],
        "examples": [f"meta fiscal_year_start_month: {change['from_month']!r} -> {change['to_month']!r}"],
        "summary": change["summary"] + note,
        "change": change,
    }


def apply(warehouse: Warehouse, params: FiscalCalendarInput, decision: Decision | None) -> FiscalCalendarResult:
    decided = require_approval(f"The fiscal-year start change to {month_name[params.start_month]}", decision)
    with warehouse.writer() as cur:
        old = set_fiscal_start(cur, params.start_month)
    with warehouse.reader() as cur:
        fp = fingerprint(cur, ["targets", "quotas"])
    source = f" (as note {params.note} says)" if params.note else ""
    return FiscalCalendarResult(
        summary=f"The fiscal year now starts in {month_name[params.start_month]} instead of {month_name[old]}"
        f"{source}, approved by {decided['by']}.",
        metrics={"from_month": old, "to_month": params.start_month, "approved_by": decided["by"]},
        data_fingerprint=fp,
    )
