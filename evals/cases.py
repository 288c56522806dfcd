"""Eval cases: typed models of the YAML suites in `evals/suites/` and their loader.

A case is a prompt (optionally after earlier turns in the same conversation), the user who
asks, and what must happen: status, tools and key arguments, facts in the answer, and what
must not happen (a write without approval, another scope's names in the answer).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from evals.usefulness import Useful
from warehouse.errors import InputError, NotFoundError

SUITES = Path(__file__).resolve().parent / "suites"
Status = Literal["ok", "clarify", "needs_approval", "error"]


class Figure(BaseModel):
    """A number from a tool result that the answer must state (within a relative tolerance)."""

    model_config = ConfigDict(extra="forbid")
    tool: str = Field(description="Tool name, e.g. metrics, forecast.")
    path: str = Field(description="Dotted path into the tool's result, e.g. metrics.total or tables.values.0.value.")
    tolerance: float = Field(0.05, ge=0, le=1, description="Relative tolerance (display rounding).")


class Expect(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Status = "ok"
    tools: list[str] | None = Field(None, description="Tools called, in order (None: not checked; []: none).")
    ordered: bool = Field(False, description="Whether the tools' order matters.")
    args: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per tool: key arguments that must match (a subset of the call's)."
    )
    contains: list[str] = Field(default_factory=list, description="Text the answer must contain (case-insensitive).")
    figures: list[Figure] = Field(default_factory=list)
    not_contains: list[str] = Field(default_factory=list, description="Text the answer must not contain.")
    no_writes: bool = Field(True, description="No write tool may run without a recorded approval.")
    useful: Useful | None = Field(None, description="What a fully useful answer holds (evals/usefulness.py).")


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    prompt: str
    user: str | None = Field(None, description="A users-table id; None: the local admin.")
    conversation: list[str] = Field(default_factory=list, description="Earlier turns in the same thread.")
    approve: bool = False
    tags: list[str] = Field(default_factory=list)
    voice: str | None = Field(None, description="Who asks and how (for people reading the suite).")
    suite: str = Field("", description="The suite the case comes from (set by the loader).")
    expect: Expect

    @model_validator(mode="after")
    def _check(self) -> Case:
        if self.expect.args and self.expect.tools is None:
            raise ValueError("args need tools")
        unknown = set(self.expect.args) - set(self.expect.tools or [])
        if unknown:
            raise ValueError(f"args for tools not expected: {sorted(unknown)}")
        return self


class Suite(BaseModel):
    model_config = ConfigDict(extra="forbid")
    suite: str
    description: str = ""
    cases: list[Case]


def available() -> list[str]:
    return sorted(p.stem for p in SUITES.glob("*.yaml"))


@cache
def load_suite(name: str) -> Suite:
    path = SUITES / f"{name}.yaml"
    if not path.is_file():
        raise NotFoundError(f"No eval suite {name!r}.", f"Suites: {', '.join(available()) or 'none'}.")
    try:
        suite = Suite.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"Eval suite {path.name} is invalid: {exc}") from None
    suite = suite.model_copy(update={"cases": [c.model_copy(update={"suite": suite.suite}) for c in suite.cases]})
    ids = [c.id for c in suite.cases]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise InputError(f"Eval suite {path.name} repeats case ids: {', '.join(duplicated)}.")
    return suite


def load_all() -> list[Case]:
    return [case for name in available() for case in load_suite(name).cases]
