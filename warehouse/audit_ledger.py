"""The audit ledger: one hash chain over every state of every run's header, across runs.

A run's steps are chained within the run (`warehouse/audit.py`); that alone cannot tell when a
whole run is deleted, a header field (user, question, answer, status, times) is edited, or a
run is put back to an earlier state of itself (an approval and its write vanish). The ledger
records each header change as an entry: the digest of the whole header after the change,
chained to the entry before it, whichever run it belongs to, and signed (HMAC-SHA256) with
`SPM_AUDIT_KEY` when one is set. Verification then compares every header with its run's last
entry and walks the chain:

* a header that matches an earlier entry of its run but not the last: `rolled_back`;
* a header that matches no entry of its run: `header_edited`;
* a run named by the ledger that no longer exists: `run_deleted`;
* a run the ledger never saw (written before the ledger existed): `unsealed`, until
  `spm audit seal` records it once;
* a gap or a broken link in the chain: `ledger_cut` / `ledger_edited`;
* with a key, an entry whose signature does not match: `signature`; a newest entry without
  one: `unsigned`;
* against an anchor kept elsewhere (`spm audit anchor`): `anchor` when the entry it names
  is gone or different, which also catches a roll-back of the whole file.

Without a key, someone who can write the file can recompute every hash; the chain then
catches edits made without recomputing it, and the anchor catches the rest. With a key,
nothing short of restoring the whole file passes, and the anchor catches that too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warehouse.errors import InputError

HEADER_COLUMNS = (
    "run_id",
    "thread_id",
    "user_id",
    "interface",
    "question",
    "model",
    "status",
    "started_at",
    "finished_at",
    "code_version",
    "steps",
    "head_hash",
    "answer",
    "grounding",
)
GENESIS = hashlib.sha256(b"spm-agent audit ledger").hexdigest()
EVENTS = ("start", "step", "finish", "seal")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def header_digest(header: dict[str, Any]) -> str:
    """SHA-256 over every header field as stored (timestamps as the database returns them)."""
    return hashlib.sha256(_canonical({k: header.get(k) for k in HEADER_COLUMNS}).encode()).hexdigest()


def entry_hash(prev_hash: str, seq: int, run_id: str, event: str, digest: str, at: Any) -> str:
    body = {"seq": seq, "run_id": run_id, "event": event, "header_digest": digest, "recorded_at": str(at)}
    return hashlib.sha256((prev_hash + _canonical(body)).encode()).hexdigest()


def sign(key: bytes, entry: str) -> str:
    return hmac.new(key, f"ledger|{entry}".encode(), hashlib.sha256).hexdigest()


def read_header(cur: Any, run_id: str) -> dict[str, Any] | None:
    row = cur.execute(f"SELECT {', '.join(HEADER_COLUMNS)} FROM audit_runs WHERE run_id = ?", [run_id]).fetchone()
    return None if row is None else dict(zip(HEADER_COLUMNS, row, strict=True))


def record(cur: Any, run_id: str, event: str, key: bytes | None) -> str:
    """Append the entry for `run_id`'s header as it now stands; call inside the write's transaction,
    after the change, so the header and its entry commit (or roll back) together."""
    if event not in EVENTS:
        raise ValueError(f"unknown ledger event {event!r}")
    header = read_header(cur, run_id)
    if header is None:
        raise ValueError(f"no audit run {run_id!r} to record in the ledger")
    last = cur.execute("SELECT seq, hash FROM audit_ledger ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (int(last[0]) + 1, str(last[1])) if last else (1, GENESIS)
    at = datetime.now()  # a TIMESTAMP keeps microseconds: the database returns this same value
    digest = header_digest(header)
    new_hash = entry_hash(prev, seq, run_id, event, digest, at)
    cur.execute(
        "INSERT INTO audit_ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [seq, run_id, event, digest, at, prev, new_hash, sign(key, new_hash) if key else None],
    )
    return new_hash


@dataclass(frozen=True)
class Entry:
    seq: int
    run_id: str
    event: str
    header_digest: str
    recorded_at: Any
    prev_hash: str
    hash: str
    mac: str | None


def entries(cur: Any) -> list[Entry]:
    rows = cur.execute(
        "SELECT seq, run_id, event, header_digest, recorded_at, prev_hash, hash, mac FROM audit_ledger ORDER BY seq"
    ).fetchall()
    return [Entry(*row) for row in rows]


@dataclass(frozen=True)
class Finding:
    """One thing the ledger check found wrong: `kind` is one of the names in the module docstring."""

    kind: str
    problem: str
    run_id: str | None = None
    seq: int | None = None


def check_chain(found: list[Entry], key: bytes | None) -> list[Finding]:
    """Walk the chain: gaps, broken links, edited entries and, with a key, signatures. Pure."""
    problems: list[Finding] = []
    prev = GENESIS
    for expected, entry in enumerate(found, start=1):
        if entry.seq != expected:
            problems.append(
                Finding("ledger_cut", f"ledger entries {expected}..{entry.seq - 1} are missing", seq=expected)
            )
            return problems
        if entry.prev_hash != prev:
            problems.append(Finding("ledger_edited", f"ledger entry {entry.seq} does not follow entry {entry.seq - 1}",
                                    seq=entry.seq))  # fmt: skip
            return problems
        recomputed = entry_hash(prev, entry.seq, entry.run_id, entry.event, entry.header_digest, entry.recorded_at)
        if recomputed != entry.hash:
            problems.append(Finding("ledger_edited", f"ledger entry {entry.seq} was edited", seq=entry.seq))
            return problems
        if key is not None and entry.mac and not hmac.compare_digest(entry.mac, sign(key, entry.hash)):
            problems.append(
                Finding(
                    "signature",
                    f"ledger entry {entry.seq} is not signed by this key (rewritten, or signed with another key)",
                    seq=entry.seq,
                )
            )
            return problems
        prev = entry.hash
    if key is not None and found and not found[-1].mac:
        problems.append(
            Finding(
                "unsigned",
                f"the newest ledger entry ({found[-1].seq}) is not signed",
                seq=found[-1].seq,
            )
        )
    return problems


def by_run(found: list[Entry]) -> dict[str, list[Entry]]:
    """Each run's entries in ledger order (built once: a trail holds thousands of runs)."""
    grouped: dict[str, list[Entry]] = {}
    for entry in found:
        grouped.setdefault(entry.run_id, []).append(entry)
    return grouped


def check_header(run_id: str, header: dict[str, Any], own: list[Entry]) -> Finding | None:
    """Does this run's header equal its last ledger entry (`own`: the run's entries)? Pure."""
    if not own:
        return Finding("unsealed", "the ledger has no record of this run (run `spm audit seal` once)", run_id)
    digest = header_digest(header)
    if own[-1].header_digest == digest:
        return None
    if any(e.header_digest == digest for e in own[:-1]):
        return Finding(
            "rolled_back",
            f"the run was put back to an earlier state of itself (ledger entry {own[-1].seq} records a later one)",
            run_id,
            own[-1].seq,
        )
    return Finding("header_edited", "the run's header (user, question, answer, status or times) was edited", run_id)


def check_runs(present: set[str], found: list[Entry]) -> list[Finding]:
    """Runs the ledger recorded that are no longer in the trail. Pure."""
    gone: dict[str, int] = {}
    for e in found:
        if e.run_id not in present:
            gone.setdefault(e.run_id, e.seq)
    return [Finding("run_deleted", "the ledger records this run but the trail no longer has it", r, s)
            for r, s in gone.items()]  # fmt: skip


def anchor_text(found: list[Entry]) -> str:
    """The ledger head to keep elsewhere: `SEQ:HASH`."""
    return f"{found[-1].seq}:{found[-1].hash}" if found else f"0:{GENESIS}"


def check_anchor(anchor: str, found: list[Entry]) -> Finding | None:
    seq_text, _, expected = anchor.strip().partition(":")
    if not seq_text.isdigit() or len(expected) != 64:
        raise InputError(
            f"The anchor {anchor!r} is not a ledger head.",
            "Give the text `spm audit anchor` printed: SEQ:HASH (a number, a colon, 64 hex digits).",
        )
    seq = int(seq_text)
    if seq == 0:
        return None
    at = next((e for e in found if e.seq == seq), None)
    if at is None:
        return Finding("anchor", f"the anchored ledger entry {seq} is gone: the trail was rolled back or cut", seq=seq)
    if at.hash != expected:
        return Finding("anchor", f"ledger entry {seq} differs from the anchor: the trail was rewritten", seq=seq)
    return None
