"""Saved scenarios as the tools use them: load one, read its parts, overlay them, save a draft.

A scenario holds cell-level changes (warehouse/scenarios.py): account owners and territories
(a territory plan), quota amounts (a quota plan). Each tool uses the parts it can model and
says which: `ScenarioUse` records what was used and what was ignored, and the result carries
that record (`metrics.scenario`) and a warning for every ignored part, so a plan is never
silently half-applied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from warehouse.connection import Warehouse
from warehouse.errors import PermissionDeniedError
from warehouse.identity import Scope
from warehouse.scenarios import Change, Scenario, ScenarioKind, get_scenario, overlay, save_scenario, scenario_changes

SCENARIO_TABLES = ["scenarios", "scenario_changes"]  # fingerprinted by every tool that reads a scenario


@dataclass
class LoadedScenario:
    scenario: Scenario
    changes: list[Change]

    @property
    def account_moves(self) -> dict[str, str | None]:
        """account id -> its new owner."""
        return {
            dict(c.key)["account_id"]: c.new
            for c in self.changes
            if c.table == "accounts" and c.column == "owner_rep_id"
        }

    @property
    def quota_changes(self) -> list[Change]:
        return [c for c in self.changes if c.table == "quotas"]

    def overlay(self, frame: pd.DataFrame, table: str) -> pd.DataFrame:
        """`frame` (rows of `table`) as the scenario has them."""
        return overlay(frame, self.changes, table)

    def with_moves(self, frame: pd.DataFrame, owner_column: str = "owner_rep_id") -> pd.DataFrame:
        """Rows with an `account_id` (accounts, open deals) owned as the scenario moves them."""
        moves = self.account_moves
        if not moves or frame.empty:
            return frame
        out = frame.copy()
        out[owner_column] = out["account_id"].map(moves).fillna(out[owner_column])
        return out

    def check_scope(self, scope: Scope) -> None:
        """A territory plan moves accounts between teams: a team or own scope cannot evaluate it."""
        if self.account_moves and scope.kind in ("team", "own"):
            raise PermissionDeniedError(
                f"Evaluating a territory scenario needs a company, region or segment scope; yours is {scope.describe()}.",
                "Ask a leader or analyst to run it.",
            )


def load_scenario(cur: Any, ref: str) -> LoadedScenario:
    """A saved scenario by name or id, with its changes (an error lists the known ones)."""
    scenario = get_scenario(cur, ref)
    return LoadedScenario(scenario, scenario_changes(cur, scenario.scenario_id))


@dataclass
class ScenarioUse:
    """What a tool did with a scenario: the parts it used and the parts it could not use."""

    loaded: LoadedScenario
    used: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        s = self.loaded.scenario
        return {
            "scenario_id": s.scenario_id,
            "name": s.name,
            "kind": s.kind,
            "changes": len(self.loaded.changes),
            "accounts_moved": len(self.loaded.account_moves),
            "quota_rows": len(self.loaded.quota_changes),
            "used": list(self.used),
            "ignored": list(self.ignored),
        }

    def notes(self) -> list[str]:
        """One sentence per ignored part (for warnings), or a note that nothing applied."""
        s = self.loaded.scenario
        out = [f"Scenario {s.name} ({s.scenario_id}): {part}" for part in self.ignored]
        if not self.used:
            out.append(f"Scenario {s.name} ({s.scenario_id}, {s.kind}) changes nothing this tool uses.")
        return out


def save_draft(
    warehouse: Warehouse,
    *,
    name: str,
    kind: ScenarioKind,
    changes: Sequence[Change],
    user: str | None,
    params: dict[str, Any],
    summary: str,
    metrics: dict[str, Any],
    base_fingerprint: str,
) -> dict[str, Any]:
    """Store a draft scenario in one write transaction; returns its id, name and change count."""
    if not warehouse.writable:
        raise RuntimeError("saving a scenario needs a writable warehouse handle")
    with warehouse.writer() as cur:
        saved = save_scenario(
            cur,
            name=name,
            kind=kind,
            changes=changes,
            created_by=user,
            params=params,
            summary=summary,
            metrics=metrics,
            base_fingerprint=base_fingerprint,
        )
    return {
        "scenario_id": saved.scenario_id,
        "name": saved.name,
        "changes": saved.changes,  # rows (a moved account is one, however many of its columns)
        "field_changes": len(changes),
        "summary": summary,
    }
