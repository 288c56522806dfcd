"""The audit trail's storage: append-only, hash-chained steps per run, and their verification.

Each step's hash is SHA-256 over the previous step's hash and the step's canonical JSON
(sorted keys, no whitespace); the first step chains from a hash of the run id, so steps cannot
be moved between runs. The run row keeps the step count and the last hash, so a truncated
trail is detected too. Every append is its own transaction: a crash leaves the steps written
so far and a run still marked `running` (shown as incomplete), never a lost run.

Each change of a run's header is also an entry of the ledger (`warehouse/audit_ledger.py`),
written in the same transaction, which chains runs to each other: a deleted run, an edited
header or a run restored to an earlier state of itself is detected too.
"""

from __future__ import annotations

import hashlib
import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Self

from warehouse import audit_ledger as ledger
from warehouse.connection import Warehouse
from warehouse.errors import ConflictError, NotFoundError

STEP_KINDS = (
    "question",
    "plan",
    "llm_call",
    "tool_call",
    "tool_result",
    "recommendation",
    "approval",
    "memory",
    "write",
    "error",
)
STEP_FIELDS = (
    "run_id",
    "seq",
    "at",
    "kind",
    "name",
    "args",
    "summary",
    "result_digest",
    "data_fingerprint",
    "duration_ms",
)


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, compact, non-JSON values as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def digest(value: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical(value).encode()).hexdigest()


def genesis(run_id: str) -> str:
    return hashlib.sha256(f"spm-agent audit run {run_id}".encode()).hexdigest()


def step_hash(prev_hash: str, step: dict[str, Any]) -> str:
    body = {k: step.get(k) for k in STEP_FIELDS}
    return hashlib.sha256((prev_hash + canonical(body)).encode()).hexdigest()


@dataclass(frozen=True)
class Step:
    run_id: str
    seq: int
    at: datetime
    kind: str
    name: str | None
    args: Any
    summary: str | None
    result_digest: str | None
    data_fingerprint: str | None
    duration_ms: float | None
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "seq": self.seq,
            "at": self.at.isoformat(),
            "kind": self.kind,
            "name": self.name,
            "args": self.args,
            "summary": self.summary,
            "result_digest": self.result_digest,
            "data_fingerprint": self.data_fingerprint,
            "duration_ms": self.duration_ms,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def step_body(step: Step) -> dict[str, Any]:
    """The fields a step's hash covers, as `step_hash` reads them (`at` in ISO form, `args` canonical)."""
    return {
        "run_id": step.run_id,
        "seq": step.seq,
        "at": step.at.isoformat() if isinstance(step.at, datetime) else str(step.at),
        "kind": step.kind,
        "name": step.name,
        "args": canonical(step.args) if step.args is not None else None,
        "summary": step.summary,
        "result_digest": step.result_digest,
        "data_fingerprint": step.data_fingerprint,
        "duration_ms": step.duration_ms,
    }


def new_step(
    run_id: str,
    seq: int,
    prev_hash: str,
    kind: str,
    name: str | None,
    *,
    args: Any = None,
    summary: str | None = None,
    result_digest: str | None = None,
    data_fingerprint: str | None = None,
    duration_ms: float | None = None,
) -> Step:
    """The next step of a run, chained to `prev_hash` (the run's head). Pure but for the clock."""
    if kind not in STEP_KINDS:
        raise ValueError(f"unknown audit step kind {kind!r}")
    duration = None if duration_ms is None else round(float(duration_ms), 3)
    draft = Step(run_id, seq, datetime.now(), kind, name, args, summary, result_digest, data_fingerprint, duration,
                 prev_hash, "")  # fmt: skip
    return replace(draft, hash=step_hash(prev_hash, step_body(draft)))


def insert_step(cur: Any, step: Step) -> None:
    """Store `step` and move its run's header to it (inside the caller's transaction)."""
    body = step_body(step)
    cur.execute(
        "INSERT INTO audit_steps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [step.run_id, step.seq, step.at, step.kind, step.name, body["args"], step.summary, step.result_digest,
         step.data_fingerprint, step.duration_ms, step.prev_hash, step.hash],
    )  # fmt: skip
    cur.execute("UPDATE audit_runs SET steps = ?, head_hash = ? WHERE run_id = ?", [step.seq, step.hash, step.run_id])


START_FIELDS = ("run_id", "thread_id", "user_id", "interface", "question", "model", "started_at", "code_version")


def insert_run(cur: Any, header: Mapping[str, Any]) -> None:
    """Store a run's header as it starts (`START_FIELDS`; status running), in the caller's transaction."""
    cur.execute(
        f"INSERT INTO audit_runs ({', '.join(START_FIELDS)}, status) VALUES ({', '.join('?' * len(START_FIELDS))}, "
        "'running')",
        [header[f] for f in START_FIELDS],
    )


def finish_run(
    cur: Any, run_id: str, status: str, finished_at: datetime, answer: str | None, grounding: str | None
) -> None:
    """Record how a run ended (`grounding` as canonical JSON), in the caller's transaction."""
    cur.execute(
        "UPDATE audit_runs SET status = ?, finished_at = ?, answer = ?, grounding = ? WHERE run_id = ?",
        [status, finished_at, answer, grounding, run_id],
    )


class RunLog(ABC):
    """A run's trail as it happens: steps numbered and chained here; where they go is the
    subclass's: the warehouse itself (`AuditLog`), or a journal imported into it after
    (`audit_journal.JournalLog`, for runs that only read the warehouse). Thread-safe: parallel
    tool calls append in turn."""

    def __init__(self, run_id: str, key: bytes | None, seq: int, head: str) -> None:
        self.run_id = run_id
        self.key = key  # signs what the trail keeps (HMAC) when set
        self._seq, self._head = seq, head
        self._lock = threading.Lock()

    @classmethod
    def start(
        cls,
        warehouse: Warehouse,
        *,
        run_id: str,
        thread_id: str | None,
        user_id: str | None,
        interface: str,
        question: str,
        model: str,
        code_version: str,
        key: bytes | None = None,
    ) -> Self:
        """A new run: its header (`START_FIELDS`) recorded, no steps yet."""
        header = {"run_id": run_id, "thread_id": thread_id, "user_id": user_id, "interface": interface,
                  "question": question, "model": model, "started_at": datetime.now(), "code_version": code_version}  # fmt: skip
        return cls._begin(warehouse, header, key)

    @classmethod
    @abstractmethod
    def _begin(cls, warehouse: Warehouse, header: dict[str, Any], key: bytes | None) -> Self: ...

    def append(
        self,
        kind: str,
        name: str | None = None,
        *,
        args: Any = None,
        summary: str | None = None,
        result_digest: str | None = None,
        data_fingerprint: str | None = None,
        duration_ms: float | None = None,
    ) -> Step:
        with self._lock:
            step = new_step(self.run_id, self._seq + 1, self._head, kind, name, args=args, summary=summary,
                            result_digest=result_digest, data_fingerprint=data_fingerprint,
                            duration_ms=duration_ms)  # fmt: skip
            self._store(step)
            self._seq, self._head = step.seq, step.hash
            return step

    @abstractmethod
    def _store(self, step: Step) -> None:
        """Keep `step` (called under the lock, in order)."""

    @abstractmethod
    def finish(self, status: str, answer: str | None = None, grounding: Any = None) -> None: ...

    @abstractmethod
    def recorded(self) -> list[Step]:
        """Every step of the run so far."""

    @abstractmethod
    def close(self) -> None:
        """Release what the log holds (a run that never finished stays incomplete)."""


class AuditLog(RunLog):
    """Writes one run's steps into the warehouse as they happen, each in its own transaction."""

    def __init__(self, warehouse: Warehouse, run_id: str, key: bytes | None = None) -> None:
        if not warehouse.writable:
            raise RuntimeError("the audit log needs a writable warehouse handle")
        self.warehouse = warehouse
        with warehouse.reader() as cur:
            row = cur.execute("SELECT steps, head_hash FROM audit_runs WHERE run_id = ?", [run_id]).fetchone()
        super().__init__(
            run_id, key, int(row[0]) if row else 0, (row[1] if row and row[1] else None) or genesis(run_id)
        )

    @classmethod
    def _begin(cls, warehouse: Warehouse, header: dict[str, Any], key: bytes | None) -> Self:
        with warehouse.writer() as cur:
            insert_run(cur, header)
            ledger.record(cur, header["run_id"], "start", key)
        return cls(warehouse, header["run_id"], key)

    def _store(self, step: Step) -> None:
        with self.warehouse.writer() as cur:
            insert_step(cur, step)
            ledger.record(cur, self.run_id, "step", self.key)

    def recorded(self) -> list[Step]:
        with self.warehouse.reader() as cur:
            return steps(cur, self.run_id)

    def close(self) -> None:
        """Nothing to release: every step is already committed."""

    def finish(self, status: str, answer: str | None = None, grounding: Any = None) -> None:
        with self.warehouse.writer() as cur:
            finish_run(
                cur, self.run_id, status, datetime.now(), answer, None if grounding is None else canonical(grounding)
            )
            ledger.record(cur, self.run_id, "finish", self.key)


def _load_args(text: str | None) -> Any:
    return None if text is None else json.loads(text)


RUN_COLUMNS = (
    "run_id",
    "thread_id",
    "user_id",
    "interface",
    "question",
    "model",
    "status",
    "started_at",
    "finished_at",
    "steps",
)


def runs(cur: Any, limit: int = 50, user_id: str | None = None) -> list[dict[str, Any]]:
    cols = list(RUN_COLUMNS)
    sql = f"SELECT {', '.join(cols)} FROM audit_runs"
    params: list[Any] = []
    if user_id is not None:
        sql += " WHERE user_id = ?"
        params.append(user_id)
    sql += " ORDER BY started_at DESC, run_id LIMIT ?"
    params.append(limit)
    out = []
    for row in cur.execute(sql, params).fetchall():
        item = dict(zip(cols, row, strict=True))
        item["status"] = "incomplete" if item["status"] == "running" else item["status"]
        out.append(item)
    return out


def run(cur: Any, run_id: str) -> dict[str, Any]:
    cols = [*RUN_COLUMNS, "code_version", "head_hash", "answer", "grounding"]
    row = cur.execute(f"SELECT {', '.join(cols)} FROM audit_runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise NotFoundError(f"No audit run {run_id!r}.", "List runs with `spm audit list`.")
    item = dict(zip(cols, row, strict=True))
    item["grounding"] = _load_args(item["grounding"])
    return item


def steps(cur: Any, run_id: str) -> list[Step]:
    rows = cur.execute(
        "SELECT run_id, seq, recorded_at, kind, name, args, summary, result_digest, data_fingerprint, duration_ms, "
        "prev_hash, hash FROM audit_steps WHERE run_id = ? ORDER BY seq",
        [run_id],
    ).fetchall()
    return [Step(r[0], r[1], r[2], r[3], r[4], _load_args(r[5]), r[6], r[7], r[8], r[9], r[10], r[11]) for r in rows]


@dataclass(frozen=True)
class Verification:
    run_id: str
    ok: bool
    steps: int
    problem: str | None = None
    first_bad_seq: int | None = None
    # Steps: edited | deleted | reordered | truncated. Header and ledger (audit_ledger.py):
    # header_edited | rolled_back | run_deleted | unsealed | ledger_cut | ledger_edited |
    # signature | unsigned | anchor.
    kind: str | None = None


def verify_chain(run_id: str, rows: list[Step], expected_steps: int, expected_head: str | None) -> Verification:
    """Recompute the chain of `rows` (as stored, in seq order) against the run header's count and head.

    Tells apart an edited step, a deleted one (a gap in the sequence), a reordered one (a step
    that follows another step of this run than its predecessor) and a truncated tail (fewer
    steps than the header records). Pure.
    """
    hashes = {r.hash for r in rows}
    prev = genesis(run_id)
    for i, step in enumerate(rows, start=1):
        if step.seq != i:
            kind = "deleted" if step.seq > i else "reordered"
            return Verification(run_id, False, len(rows), f"step {i} was {kind} (found seq {step.seq})", i, kind)
        if step.prev_hash != prev:
            kind = "reordered" if step.prev_hash in hashes or step.prev_hash == genesis(run_id) else "edited"
            what = "is out of order" if kind == "reordered" else f"does not follow step {i - 1} (chain edited)"
            return Verification(run_id, False, len(rows), f"step {i} {what}", i, kind)
        body = step_body(step)
        if step_hash(prev, body) != step.hash:
            return Verification(
                run_id, False, len(rows), f"step {i} ({step.kind} {step.name or ''}) was edited", i, "edited"
            )
        prev = step.hash
    if len(rows) < expected_steps:
        return Verification(
            run_id,
            False,
            len(rows),
            f"truncated: the run recorded {expected_steps} steps, {len(rows)} are left",
            len(rows) + 1,
            "truncated",
        )
    if len(rows) > expected_steps or (expected_steps and prev != expected_head):
        return Verification(
            run_id, False, len(rows), "the run header does not match its steps (edited)", len(rows), "edited"
        )
    return Verification(run_id, True, len(rows))


def _from_finding(finding: ledger.Finding, steps: int = 0) -> Verification:
    return Verification(finding.run_id or "-", False, steps, finding.problem, finding.seq, finding.kind)


def _verify_run(cur: Any, run_id: str, own: list[ledger.Entry]) -> Verification:
    header = ledger.read_header(cur, run_id)
    if header is None:
        raise NotFoundError(f"No audit run {run_id!r}.", "List runs with `spm audit list`.")
    rows = steps(cur, run_id)
    checked = verify_chain(run_id, rows, int(header["steps"]), header["head_hash"])
    if not checked.ok:
        return checked
    finding = ledger.check_header(run_id, header, own)
    return _from_finding(finding, len(rows)) if finding else checked


def verify(cur: Any, run_id: str, key: bytes | None = None) -> Verification:
    """One run: its steps, its header against the ledger, and the ledger chain it relies on."""
    entries = ledger.entries(cur)
    checked = _verify_run(cur, run_id, [e for e in entries if e.run_id == run_id])
    if not checked.ok:
        return checked
    chain = ledger.check_chain(entries, key)
    return _from_finding(chain[0], checked.steps) if chain else checked


def verify_all(cur: Any, key: bytes | None = None, anchor: str | None = None) -> list[Verification]:
    """Every run, then what only the whole trail shows: deleted runs, a cut or edited ledger,
    signatures (with a key) and, given an anchor kept elsewhere, a roll-back of the whole file."""
    entries = ledger.entries(cur)
    ids = [r[0] for r in cur.execute("SELECT run_id FROM audit_runs ORDER BY started_at, run_id").fetchall()]
    grouped = ledger.by_run(entries)
    results = [_verify_run(cur, run_id, grouped.get(run_id, [])) for run_id in ids]
    findings = ledger.check_runs(set(ids), entries) + ledger.check_chain(entries, key)
    if anchor is not None and (moved := ledger.check_anchor(anchor, entries)):
        findings.append(moved)
    return results + [_from_finding(f) for f in findings]


def anchor(cur: Any) -> str:
    """The ledger's head as `SEQ:HASH`, to keep outside the warehouse (`verify --anchor`)."""
    return ledger.anchor_text(ledger.entries(cur))


# Problems that sealing may settle: runs from before the ledger, entries from before the key.
SEALABLE = frozenset({"unsealed", "unsigned"})


def seal(warehouse: Warehouse, *, user_id: str, code_version: str, key: bytes | None) -> tuple[str, int]:
    """Record every run the ledger has not seen (written before it existed) and sign the ledger's
    head, as one recorded run. Refuses when verification finds anything else wrong: sealing must
    never launder an edit. Returns the sealing run's id and how many runs it sealed."""
    from uuid import uuid4

    with warehouse.reader() as cur:
        found = [v for v in verify_all(cur, key) if not v.ok]
    wrong = [v for v in found if v.kind not in SEALABLE]
    if wrong:
        first = wrong[0]
        raise ConflictError(
            f"The audit trail has {len(wrong)} problem(s) sealing would hide, e.g. run {first.run_id}: "
            f"{first.problem} ({first.kind}).",
            "Investigate with `spm audit verify`; restore the warehouse from a backup if the trail was tampered with.",
        )
    unsealed = [v.run_id for v in found if v.kind == "unsealed"]
    run_id = f"seal-{uuid4().hex[:12]}"
    log = AuditLog.start(
        warehouse,
        run_id=run_id,
        thread_id=None,
        user_id=user_id,
        interface="cli",
        question="spm audit seal",
        model="-",
        code_version=code_version,
        key=key,
    )
    with warehouse.writer() as cur:
        for sealed in unsealed:
            ledger.record(cur, sealed, "seal", key)
    log.append("write", "seal", args={"runs": unsealed}, summary=f"sealed {len(unsealed)} earlier run(s)")
    log.finish("ok", answer=f"Sealed {len(unsealed)} run(s); the ledger head is signed" if key else
               f"Sealed {len(unsealed)} run(s)")  # fmt: skip
    return run_id, len(unsealed)
