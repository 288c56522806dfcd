"""The single record of a planning tool: what the agent, the planner, the evals and every view
read instead of keeping name tables of their own.

A tool is a read (`run`: the caller's scope applies; it may save a draft scenario) or a write
(`apply`: changes base data, only with an approval decision; `describe` says what it would
change, for the person asked to approve). `name` is the name models call it by and the
`tool` field of its result. `column_units` says how its table columns read (the shared
tools.core.format.COMMON_UNITS cover the common ones); `headline_tables` are the tables that
answer its question, first first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from pydantic import BaseModel

from tools.contract import ToolResult
from tools.core.format import COMMON_UNITS, Unit
from warehouse.connection import Warehouse
from warehouse.errors import NotFoundError, PermissionDeniedError
from warehouse.identity import User

_SUFFIX_UNITS: tuple[tuple[str, Unit], ...] = (
    ("_ratio_before", "share"),
    ("_ratio_after", "share"),
    ("_share", "share"),
    ("_pct", "%"),
    ("_months", "months"),
    ("_days", "days"),
)


class Decision(TypedDict, total=False):
    """An approver's answer to a write (agent/approvals.py makes them)."""

    approved: bool
    by: str | None
    role: str
    reason: str
    error: str


@dataclass(frozen=True, eq=False)  # compared (and hashed) by identity: one record per tool
class ToolSpec:
    name: str
    description: str  # for a model: what the tool does and when to use it
    input_model: type[BaseModel]
    result_model: type[ToolResult]
    heading: str  # how answers and views title its results
    run: Callable[[Warehouse, Any, User], ToolResult] | None = None
    apply: Callable[[Warehouse, Any, Decision | None], ToolResult] | None = None
    describe: Callable[[Warehouse, Mapping[str, Any]], dict[str, Any]] | None = None
    headline_tables: tuple[str, ...] = ()
    column_units: Mapping[str, Unit] = field(default_factory=dict)
    intent: str | None = None  # the offline planner's intent (prompts/planner_examples.yaml) for this tool
    saves_scenarios: bool = False  # a read that may save a draft scenario (needs a writable handle)

    def __post_init__(self) -> None:
        if (self.run is None) == (self.apply is None):
            raise ValueError(f"tool {self.name!r} needs exactly one of run (a read) and apply (a write)")
        if self.apply is not None and self.describe is None:
            raise ValueError(f"write tool {self.name!r} needs describe (what an approver is shown)")
        declared = self.result_model.model_fields["tool"].default
        if declared != self.name:
            raise ValueError(f"tool {self.name!r} returns results named {declared!r}: they must be the same")

    @property
    def write(self) -> bool:
        """Changes base data: runs only with an approval decision."""
        return self.apply is not None

    def unit(self, column: str) -> Unit | None:
        """How a column of this tool's tables reads (None: as it is)."""
        if column in self.column_units:
            return self.column_units[column]
        if column in COMMON_UNITS:
            return COMMON_UNITS[column]
        return next((unit for suffix, unit in _SUFFIX_UNITS if column.endswith(suffix)), None)


def require_approval(what: str, decision: Decision | None) -> Decision:
    """`decision` if it approves the write, else the error that says why nothing changed."""
    if decision and decision.get("error"):
        raise NotFoundError(f"{what} was not applied: {decision['error']}")
    if not decision or not decision.get("approved"):
        reason = (decision or {}).get("reason") or "it was not approved"
        raise PermissionDeniedError(f"{what} was not applied: {reason}.")
    return decision
