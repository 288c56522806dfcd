"""Replay a recorded run: re-run its tool calls on today's data and compare result digests.

A mismatch is explained: the data changed (the tool's data fingerprint differs), the code
changed (the recorded code version differs), or the same data and code gave another result
(nondeterminism: report it). Writes are never replayed, and replays never save scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.graph import result_digest
from agent.version import code_version
from tools.registry import BY_NAME
from warehouse import audit
from warehouse.connection import Warehouse
from warehouse.errors import SpmError
from warehouse.identity import Scope, User


@dataclass
class ReplayedCall:
    seq: int
    tool: str
    match: bool | None  # None: not replayed
    reason: str


@dataclass
class ReplayReport:
    run_id: str
    calls: list[ReplayedCall] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.match is not False for c in self.calls)

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "ok": self.ok,
            "calls": [c.__dict__ for c in self.calls],
        }


def _user(steps: list[audit.Step], fallback: str | None) -> User:
    for step in steps:
        if step.kind == "question" and isinstance(step.args, dict):
            scope = step.args.get("scope") or {}
            return User(
                str(step.args.get("user") or fallback or "local"),
                str(step.args.get("role") or "analyst"),
                Scope(scope.get("kind", "all"), scope.get("value")),
            )
    return User(fallback or "local", "analyst", Scope.everything())


def replay(warehouse: Warehouse, run_id: str) -> ReplayReport:
    with warehouse.reader() as cur:
        header = audit.run(cur, run_id)
        steps = audit.steps(cur, run_id)
    user = _user(steps, header.get("user_id"))
    by_name = BY_NAME
    report = ReplayReport(run_id)
    pending: list[audit.Step] = []
    outcomes: dict[int, audit.Step] = {}
    for step in steps:
        if step.kind == "tool_call":
            pending.append(step)
        elif step.kind in ("tool_result", "error") and step.name in by_name:
            for call in pending:
                if call.name == step.name and call.seq not in outcomes:
                    outcomes[call.seq] = step
                    break
    for call in pending:
        spec = by_name.get(call.name or "")
        recorded = outcomes.get(call.seq)
        if spec is None or spec.run is None:
            report.calls.append(ReplayedCall(call.seq, call.name or "", None, "writes are not replayed"))
            continue
        args = dict(call.args or {})
        saved = args.pop("save_scenario", None)
        try:
            result = spec.run(warehouse, spec.input_model(**args), user).model_dump(mode="json")
        except SpmError as exc:
            failed_before = recorded is not None and recorded.kind == "error"
            report.calls.append(
                ReplayedCall(call.seq, spec.name, failed_before, f"fails {'again' if failed_before else 'now'}: {exc}")
            )
            continue
        if recorded is None or recorded.kind == "error":
            report.calls.append(ReplayedCall(call.seq, spec.name, False, "failed when recorded, succeeds now"))
            continue
        if saved:
            report.calls.append(
                ReplayedCall(call.seq, spec.name, None, f"saved scenario {saved!r} when recorded; not re-saved")
            )
            continue
        if result_digest(result) == recorded.result_digest:
            report.calls.append(ReplayedCall(call.seq, spec.name, True, "same result"))
        elif result.get("data_fingerprint") != recorded.data_fingerprint:
            report.calls.append(
                ReplayedCall(
                    call.seq,
                    spec.name,
                    False,
                    f"the data changed (fingerprint {recorded.data_fingerprint} -> {result.get('data_fingerprint')})",
                )
            )
        elif header.get("code_version") != code_version():
            report.calls.append(
                ReplayedCall(
                    call.seq, spec.name, False, f"the code changed ({header.get('code_version')} -> {code_version()})"
                )
            )
        else:
            report.calls.append(
                ReplayedCall(call.seq, spec.name, False, "same data and code, different result (not deterministic)")
            )
    return report
