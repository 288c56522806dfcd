"""The scenarios tool: what drafts exist, what one changes, and how two compare.

Compare reads the key metrics each tool stored with its scenario (flattened to dotted names,
numbers only) and puts them side by side with the difference; scenarios of different kinds
compare on the metrics they share.
"""

from __future__ import annotations

from typing import Any

from tools.contract import DataWarning
from tools.scenarios.models import ScenariosInput, ScenariosResult
from warehouse.connection import Warehouse
from warehouse.errors import PermissionDeniedError
from warehouse.fingerprint import fingerprint
from warehouse.identity import Scope
from warehouse.scenarios import Scenario, get_scenario, list_scenarios, scenario_changes

CHANGES_SHOWN = 20


def flatten(metrics: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """{"a": {"b": 1}} -> {"a.b": 1.0}; numbers only."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = float(value)
    return out


def _row(s: Scenario) -> dict[str, Any]:
    return {
        "scenario_id": s.scenario_id,
        "name": s.name,
        "kind": s.kind,
        "status": s.status,
        "created_by": s.created_by,
        "created_at": s.created_at.isoformat(timespec="seconds"),
        "changes": s.changes,
        "summary": s.summary,
    }


def run_scenarios(warehouse: Warehouse, params: ScenariosInput, *, scope: Scope | None = None) -> ScenariosResult:
    scope = scope or Scope.everything()
    if scope.kind != "all":
        # Scenarios hold changes across the whole organisation (account owners, quotas).
        raise PermissionDeniedError(
            f"Scenarios cover the whole organisation; your data scope is {scope.describe()}.",
            "Ask a leader or admin with an all-data scope.",
        )
    with warehouse.reader() as cur:
        fp = fingerprint(cur, ["scenarios", "scenario_changes"])
        if params.action == "list":
            rows = [_row(s) for s in list_scenarios(cur)]
            kinds = sorted({r["kind"] for r in rows})
            summary = f"{len(rows)} saved scenario{'s' if len(rows) != 1 else ''}" + (
                f" ({', '.join(kinds)})." if rows else "; tools save them with save_scenario."
            )
            return ScenariosResult(
                summary=summary, metrics={"scenarios": len(rows)}, tables={"scenarios": rows}, data_fingerprint=fp
            )
        found = [get_scenario(cur, name) for name in params.names[: 2 if params.action == "compare" else 1]]
        changes = {s.scenario_id: scenario_changes(cur, s.scenario_id) for s in found}
    if params.action == "show":
        s = found[0]
        rows = [
            {"table": c.table, "key": dict(c.key), "column": c.column, "old": c.old, "new": c.new}
            for c in changes[s.scenario_id][:CHANGES_SHOWN]
        ]
        return ScenariosResult(
            summary=f"Scenario {s.name} ({s.kind}, {s.status}): {s.changes} changes. {s.summary or ''}".strip(),
            metrics={"scenario": _row(s), "key_metrics": flatten(s.metrics)},
            tables={"changes": rows},
            data_fingerprint=fp,
        )
    a, b = found
    ma, mb = flatten(a.metrics), flatten(b.metrics)
    shared = [k for k in ma if k in mb]
    rows = [{"metric": k, a.name: ma[k], b.name: mb[k], "change": round(mb[k] - ma[k], 6)} for k in shared]
    warnings = []
    if a.kind != b.kind:
        warnings.append(
            DataWarning(code="different_kinds", message=f"{a.name} is a {a.kind} scenario and {b.name} a {b.kind} one.")
        )
    if a.base_fingerprint and b.base_fingerprint and a.base_fingerprint != b.base_fingerprint:
        warnings.append(
            DataWarning(code="different_data", message="The two scenarios were computed on different data.")
        )
    differing = sum(1 for r in rows if abs(r["change"]) > 1e-9)
    return ScenariosResult(
        summary=f"{a.name} vs {b.name}: {len(rows)} shared metrics, {differing} differ; "
        f"{a.changes} vs {b.changes} changes.",
        metrics={"a": _row(a), "b": _row(b), "shared_metrics": len(rows), "differing": differing},
        tables={"comparison": rows},
        warnings=warnings,
        data_fingerprint=fp,
    )
