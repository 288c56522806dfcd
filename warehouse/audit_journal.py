"""Runs journaled beside the warehouse while they only read it, imported into the trail after.

An `spm ask` reads the warehouse; its audit trail is the only thing it writes. Holding the file
read-write for the whole run made every other process wait for it (DuckDB lets one process
write, or many read). So a run journals its trail instead, in a file of its own,
`<warehouse>.journal/<run_id>.jsonl`, and holds the warehouse read-only, as many processes can
at once:

* one JSON line per event (`start`, each `step`, `finish`, then any step recorded after the
  answer, such as the decision remembered), written and fsynced as it happens;
  the steps carry the same hash chain as the trail's (`warehouse/audit.py`) and, with
  `SPM_AUDIT_KEY`, every line an HMAC, so a journal edited before it is imported is detected;
* the live run holds an exclusive `flock` on its journal; `drain` imports every journal no
  live run holds, each run in one transaction writing the rows and ledger entries a direct run
  writes, and removes the journal only after the commit (a journal whose run is already in the
  trail, from a crash between the two, is just removed);
* a run killed mid-way leaves a journal without its finish line: it is imported as incomplete,
  as a direct run's header would show; a torn last line (killed mid-write) is dropped;
* a journal whose chain, signature or shape does not hold is never imported: it is renamed
  `<run_id>.rejected` and `spm audit verify` names it (`journal_rejected`).

The run that finishes drains at once if no other process holds the file (a non-blocking try);
otherwise the next drain takes it: the next finished ask, and every `spm audit` command first.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from warehouse import audit_ledger as ledger
from warehouse.audit import (
    START_FIELDS,
    RunLog,
    Step,
    canonical,
    finish_run,
    genesis,
    insert_run,
    insert_step,
    step_body,
    step_hash,
)
from warehouse.connection import Warehouse
from warehouse.errors import WarehouseLockedError
from warehouse.files import PRIVATE_FILE, private_dir


def folder(warehouse: Warehouse) -> Path:
    """Where the warehouse's journals live: a folder next to the file."""
    return warehouse.path.with_name(warehouse.path.name + ".journal")


def _mac(key: bytes, line: dict[str, Any]) -> str:
    body = canonical({k: v for k, v in line.items() if k != "mac"})
    return hmac.new(key, f"journal|{body}".encode(), hashlib.sha256).hexdigest()


class JournalLog(RunLog):
    """One run's trail, journaled (the `audit.RunLog` of a run that only reads the warehouse)."""

    def __init__(self, path: Path, fd: int, run_id: str, key: bytes | None) -> None:
        super().__init__(run_id, key, 0, genesis(run_id))
        self.path = path
        self._fd: int | None = fd
        self._steps: list[Step] = []

    @classmethod
    def _begin(cls, warehouse: Warehouse, header: dict[str, Any], key: bytes | None) -> Self:
        where = private_dir(folder(warehouse))
        run_id = header["run_id"]
        # Written under a name `drain` skips, locked, then renamed: the lock is on the file
        # itself, so no drain ever sees the journal of a live run unlocked.
        part = where / f".{run_id}.part"
        fd = os.open(part, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_APPEND, PRIVATE_FILE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        log = cls(where / f"{run_id}.jsonl", fd, run_id, key)
        try:
            log._write({"event": "start", **header, "started_at": header["started_at"].isoformat()})
            os.replace(part, log.path)
        except BaseException:
            log.close()
            part.unlink(missing_ok=True)
            raise
        return log

    def _write(self, line: dict[str, Any]) -> None:
        if self._fd is None:
            raise RuntimeError(f"the journal of run {self.run_id} is closed")
        if self.key is not None:
            line = {**line, "mac": _mac(self.key, line)}
        data = (canonical(line) + "\n").encode()
        os.write(self._fd, data)  # one write of one line, O_APPEND: a crash tears at most this line
        os.fsync(self._fd)

    def _store(self, step: Step) -> None:
        self._write({"event": "step", **step.as_dict()})
        self._steps.append(step)

    def recorded(self) -> list[Step]:
        with self._lock:
            return list(self._steps)

    def finish(self, status: str, answer: str | None = None, grounding: Any = None) -> None:
        with self._lock:
            self._write({"event": "finish", "status": status, "finished_at": datetime.now().isoformat(),
                         "answer": answer, "grounding": None if grounding is None else canonical(grounding),
                         "steps": self._seq, "head_hash": self._head if self._steps else None})  # fmt: skip

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # closing releases the flock
                self._fd = None


# --- reading and importing ---------------------------------------------------------------


class JournalError(ValueError):
    """A journal that must not be imported, and why."""


@dataclass
class Journal:
    """A journal as read back: its header, steps and (if the run finished) its finish line."""

    header: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    finish: dict[str, Any] | None = None


def _is_time(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return False
    return True


def parse(path: Path, text: str, key: bytes | None) -> Journal:
    """Check and read a journal's text. Raises `JournalError` naming the first problem. Pure."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    elif lines:
        lines.pop()  # no newline at the end: the last write was torn by a crash
    events: list[dict[str, Any]] = []
    for number, raw in enumerate(lines, start=1):
        try:
            line = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise JournalError(f"line {number} is not JSON ({exc.msg})") from exc
        if not isinstance(line, dict):
            raise JournalError(f"line {number} is not an object")
        if key is not None and not (
            isinstance(line.get("mac"), str) and hmac.compare_digest(line["mac"], _mac(key, line))
        ):
            raise JournalError(f"line {number} is not signed by this key (edited, or written with another key)")
        events.append(line)
    if not events or events[0].get("event") != "start" or events[0].get("run_id") != path.stem:
        raise JournalError(f"it does not start with the start of run {path.stem}")
    journal = Journal({k: events[0].get(k) for k in START_FIELDS})
    required = ("interface", "question", "model", "code_version")
    if not _is_time(journal.header["started_at"]) or not all(isinstance(journal.header[k], str) for k in required):
        raise JournalError("its start line lacks the run's time, interface, question, model or code version")
    head = genesis(path.stem)
    for number, line in enumerate(events[1:], start=2):
        if line.get("event") == "finish":
            # Steps may follow the finish (the decision remembered after the answer), as in the trail.
            if journal.finish is not None:
                raise JournalError(f"line {number} is a second finish")
            if not isinstance(line.get("status"), str) or not _is_time(line.get("finished_at")):
                raise JournalError(f"line {number} is a finish without its status and time")
            if line.get("steps") != len(journal.steps) or line.get("head_hash") != (
                journal.steps[-1].hash if journal.steps else None
            ):
                raise JournalError("the finish line does not match the steps before it (steps removed or added)")
            journal.finish = line
            continue
        if line.get("event") != "step":
            raise JournalError(f"line {number} is neither a step nor the finish")
        try:
            step = Step(path.stem, int(line["seq"]), datetime.fromisoformat(line["at"]), line["kind"], line.get("name"),
                        line.get("args"), line.get("summary"), line.get("result_digest"), line.get("data_fingerprint"),
                        line.get("duration_ms"), line["prev_hash"], line["hash"])  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise JournalError(f"line {number} is not a step ({exc})") from exc
        if step.seq != len(journal.steps) + 1 or step.prev_hash != head:
            raise JournalError(
                f"step {step.seq} does not follow step {len(journal.steps)} (a step was removed or moved)"
            )
        if step_hash(head, step_body(step)) != step.hash:
            raise JournalError(f"step {step.seq} ({step.kind}) was edited")
        journal.steps.append(step)
        head = step.hash
    return journal


def _import(cur: Any, journal: Journal, key: bytes | None) -> None:
    """Write the run as a direct run would have: header, ledger start, steps, finish, ledger entry."""
    h = journal.header
    insert_run(cur, {**h, "started_at": datetime.fromisoformat(h["started_at"])})
    ledger.record(cur, h["run_id"], "start", key)
    end = journal.finish
    before = len(journal.steps) if end is None else int(end["steps"])
    for step in journal.steps[:before]:
        insert_step(cur, step)
    if end is not None:
        finish_run(cur, h["run_id"], end["status"], datetime.fromisoformat(end["finished_at"]),
                   end.get("answer"), end.get("grounding"))  # fmt: skip
    for step in journal.steps[before:]:
        insert_step(cur, step)
    if end is not None or journal.steps:
        ledger.record(cur, h["run_id"], "finish" if end is not None else "step", key)


@dataclass(frozen=True)
class Drained:
    imported: int = 0
    live: int = 0  # journals of runs still going (or of a process that holds them)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (run id, problem) set aside this time


def pending(warehouse: Warehouse) -> list[Path]:
    where = folder(warehouse)
    return sorted(where.glob("*.jsonl")) if where.is_dir() else []


def drain(warehouse: Warehouse, key: bytes | None, *, timeout: float | None = None) -> Drained:
    """Import every journal no live run holds. `timeout`: how long to wait for the file (default
    the handle's; 0: only if it is free now). Raises `WarehouseLockedError` when it is not."""
    paths = pending(warehouse)
    if not paths:
        return Drained()
    handle = Warehouse(warehouse.path, writable=True, key=warehouse.encryption_key,
                       lock_timeout=warehouse.lock_timeout if timeout is None else timeout)  # fmt: skip
    imported, live, rejected = 0, 0, []
    with handle.held():
        for path in paths:
            outcome = _drain_one(handle, path, key)
            if outcome == "live":
                live += 1
            elif outcome == "imported":
                imported += 1
            elif outcome is not None:
                rejected.append((path.stem, outcome))
    return Drained(imported, live, rejected)


def _drain_one(handle: Warehouse, path: Path, key: bytes | None) -> str | None:
    """'imported', 'live', a rejection's reason, or None (gone: another drain took it)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return "live"
        if not path.exists():  # imported and removed by another drain while we waited
            return None
        with open(fd, "rb", closefd=False) as stream:
            text = stream.read().decode("utf-8", errors="replace")
        try:
            journal = parse(path, text, key)
        except JournalError as exc:
            os.replace(path, path.with_suffix(".rejected"))
            return f"{exc}"
        with handle.writer() as cur:
            done = cur.execute("SELECT head_hash FROM audit_runs WHERE run_id = ?", [path.stem]).fetchone()
            if done is None:
                _import(cur, journal, key)
        path.unlink()
        return "imported"
    finally:
        os.close(fd)


def drain_quietly(warehouse: Warehouse, key: bytes | None) -> None:
    """Drain now if the file is free, else leave it to the next drain (never waits, never fails a run)."""
    with contextlib.suppress(WarehouseLockedError):
        drain(warehouse, key, timeout=0)


def rejected(warehouse: Warehouse, key: bytes | None) -> list[tuple[str, str]]:
    """Journals set aside as untrustworthy: (run id, why), for `spm audit verify`."""
    where = folder(warehouse)
    found = []
    for path in sorted(where.glob("*.rejected")) if where.is_dir() else []:
        try:
            parse(path, path.read_text(encoding="utf-8", errors="replace"), key)
            why = "set aside by an earlier import (check it, e.g. signed with another key)"
        except JournalError as exc:
            why = str(exc)
        found.append((path.stem, why))
    return found
