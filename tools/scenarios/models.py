"""Typed input and result of the scenarios tool."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tools.contract import ToolResult


class ScenariosInput(BaseModel):
    """List the saved scenarios, show one, or compare two."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["list", "show", "compare"] = Field(
        "list", description="list all; show one (one name); compare two (two names)."
    )
    names: list[str] = Field(default_factory=list, description="Scenario names or ids.")

    @model_validator(mode="after")
    def _names(self) -> ScenariosInput:
        need = {"list": 0, "show": 1, "compare": 2}[self.action]
        if len(self.names) < need:
            raise ValueError(f"{self.action} needs {need} scenario name{'s' if need > 1 else ''}")
        return self


class ScenariosResult(ToolResult):
    tool: str = "scenarios"
