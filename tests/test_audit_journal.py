"""Runs that only read the warehouse journal their trail beside it (warehouse/audit_journal.py):
other processes read meanwhile, nothing is lost when a run is killed, and a journal edited
before it is imported never gets into the trail."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from interfaces.cli import app
from interfaces.compose import checkpointer
from warehouse import audit, audit_journal
from warehouse.audit_journal import JournalLog
from warehouse.connection import Warehouse
from warehouse.errors import WarehouseLockedError

OFFLINE = ModelSettings(provider="offline")
KEY = b"journal-test-key"

OPEN_READ_ONLY = textwrap.dedent(
    """
    import sys, time, duckdb
    try:
        con = duckdb.connect(sys.argv[1], read_only=True)
    except duckdb.IOException:
        print("blocked", flush=True)
        sys.exit(0)
    print("read", flush=True)
    time.sleep(float(sys.argv[2]))
    """
)


def _reader(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process opening the warehouse read-only (without waiting), holding it `seconds`."""
    return subprocess.Popen(
        [sys.executable, "-c", OPEN_READ_ONLY, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )


@pytest.fixture
def wh(demo_path: Path, tmp_path: Path) -> Warehouse:
    target = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, target)
    return Warehouse(target, writable=True, lock_timeout=5)


def _agent(wh: Warehouse, key: bytes | None = None) -> PlanningAgent:
    return PlanningAgent(wh, OFFLINE, checkpointer(":memory:"), audit_key=key)


def _start(wh: Warehouse, run_id: str, key: bytes | None = None) -> JournalLog:
    return JournalLog.start(wh, run_id=run_id, thread_id="t-1", user_id="admin", interface="test",
                            question="What is pipeline?", model="offline-planner", code_version="test",
                            key=key)  # fmt: skip


def _trail_ok(wh: Warehouse, key: bytes | None = None) -> list[audit.Verification]:
    with wh.reader() as cur:
        results = audit.verify_all(cur, key)
    assert all(r.ok for r in results), [r for r in results if not r.ok]
    return results


def test_another_process_reads_while_an_ask_runs(wh: Warehouse) -> None:
    """Until now an ask held the file read-write for its whole run: every other process waited."""
    seen: list[str] = []
    agent = _agent(wh)

    def probe(update: str) -> None:
        if update.startswith("ran ") and not seen:
            proc = _reader(wh.path, 0)
            assert proc.stdout is not None
            seen.append(proc.stdout.readline().strip())
            proc.wait()

    result = agent.ask("What's pipeline this quarter in EMEA?", on_progress=probe)
    assert result.status == "ok"
    assert seen == ["read"]
    # ... and the run is in the trail once it finished: journal imported, chain and ledger verify.
    assert audit_journal.pending(wh) == []
    with wh.reader() as cur:
        stored = [s.hash for s in audit.steps(cur, result.run_id)]
        header = audit.run(cur, result.run_id)
    assert stored and stored[-1] == header["head_hash"] and header["status"] == "ok"
    assert [s.seq for s in result.steps] == list(range(1, len(result.steps) + 1))
    _trail_ok(wh)


def test_a_run_finishing_while_others_read_is_imported_by_the_next_drain(wh: Warehouse) -> None:
    reader = _reader(wh.path, 60)
    try:
        assert reader.stdout is not None and reader.stdout.readline().strip() == "read"
        result = _agent(wh, KEY).ask("What's pipeline this quarter in EMEA?")
        assert result.status == "ok" and "EMEA" in result.answer
        assert [p.stem for p in audit_journal.pending(wh)] == [result.run_id]  # could not write: kept
        with pytest.raises(WarehouseLockedError):
            audit_journal.drain(wh, KEY, timeout=0)
    finally:
        reader.send_signal(signal.SIGTERM)
        reader.wait()
    runner = CliRunner()
    env = {"SPM_WAREHOUSE": str(wh.path), "SPM_USER": "admin", "SPM_AUDIT_KEY": KEY.decode()}
    listed = runner.invoke(app, ["audit", "list", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert result.run_id in [r["run_id"] for r in json.loads(listed.stdout)]
    verified = runner.invoke(app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0, verified.output
    assert audit_journal.pending(wh) == []


KILLED_MID_RUN = textwrap.dedent(
    """
    import os, sys
    from warehouse.connection import Warehouse
    from warehouse.audit_journal import JournalLog
    log = JournalLog.start(Warehouse(sys.argv[1], writable=True), run_id="run-killed", thread_id=None,
                           user_id="admin", interface="cli", question="q", model="m", code_version="v")
    log.append("tool_call", "metrics", args={"metric": "pipeline"})
    os.write(log._fd, b'{"event": "step", "seq": 2')  # killed in the middle of the next line
    os.kill(os.getpid(), 9)
    """
)


def test_a_killed_run_is_imported_as_incomplete_with_the_steps_it_wrote(wh: Warehouse) -> None:
    proc = subprocess.run([sys.executable, "-c", KILLED_MID_RUN, str(wh.path)], check=False)
    assert proc.returncode == -9
    drained = audit_journal.drain(wh, None)
    assert (drained.imported, drained.live, drained.rejected) == (1, 0, [])
    with wh.reader() as cur:
        assert next(r for r in audit.runs(cur, 5) if r["run_id"] == "run-killed")["status"] == "incomplete"
        assert [s.name for s in audit.steps(cur, "run-killed")] == ["metrics"]
    _trail_ok(wh)


def test_a_live_journal_is_left_alone_and_steps_after_the_answer_keep_their_order(wh: Warehouse) -> None:
    log = _start(wh, "run-live")
    log.append("tool_call", "metrics")
    assert audit_journal.drain(wh, None).live == 1
    with wh.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM audit_runs WHERE run_id = 'run-live'") == 0
    log.finish("ok", "Pipeline is $1.2M.")
    log.append("memory", "record", summary="decision remembered")  # after the answer, as asks do
    log.close()
    assert audit_journal.drain(wh, None).imported == 1
    with wh.reader() as cur:
        header = audit.run(cur, "run-live")
        assert [s.kind for s in audit.steps(cur, "run-live")] == ["tool_call", "memory"]
    assert (header["status"], header["answer"], header["steps"]) == ("ok", "Pipeline is $1.2M.", 2)
    _trail_ok(wh)


def test_a_journal_already_imported_before_a_crash_is_not_imported_twice(wh: Warehouse) -> None:
    log = _start(wh, "run-twice")
    log.append("tool_call", "metrics")
    log.finish("ok", "done")
    log.close()
    kept = log.path.read_bytes()
    assert audit_journal.drain(wh, None).imported == 1
    log.path.write_bytes(kept)  # as if the process died between the commit and the removal
    assert audit_journal.drain(wh, None).imported == 1
    assert audit_journal.pending(wh) == []
    with wh.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM audit_steps WHERE run_id = 'run-twice'") == 1
    _trail_ok(wh)


def _edit(path: Path, line_no: int, **changes: object) -> None:
    lines = path.read_text().splitlines()
    lines[line_no] = json.dumps({**json.loads(lines[line_no]), **changes})
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("key", "line_no", "changes", "why"),
    [
        (None, 1, {"summary": "pipeline is $999M"}, "step 1 (tool_call) was edited"),
        (None, 3, {"steps": 1}, "finish line does not match"),
        (KEY, 3, {"answer": "Approved by nobody."}, "not signed by this key"),
        (None, 3, {"status": None}, "finish without its status"),  # would fail the import's NOT NULL
        (None, 0, {"question": None}, "start line lacks"),
    ],
    ids=["step-edited", "step-removed-from-count", "finish-edited-with-key", "finish-cut", "start-cut"],
)
def test_a_journal_edited_before_import_never_enters_the_trail(
    wh: Warehouse, key: bytes | None, line_no: int, changes: dict[str, object], why: str
) -> None:
    log = _start(wh, "run-forged", key)
    log.append("tool_call", "metrics", summary="pipeline is $1.2M")
    log.append("recommendation", "answer")
    log.finish("ok", "Pipeline is $1.2M.")
    log.close()
    _edit(log.path, line_no, **changes)
    drained = audit_journal.drain(wh, key)
    assert drained.imported == 0 and drained.rejected and why in drained.rejected[0][1]
    with wh.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM audit_runs WHERE run_id = 'run-forged'") == 0
    assert [r for r, _ in audit_journal.rejected(wh, key)] == ["run-forged"]
    env = {"SPM_WAREHOUSE": str(wh.path), "SPM_USER": "admin"} | ({"SPM_AUDIT_KEY": key.decode()} if key else {})
    verified = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert verified.exit_code == 3 and "journal_rejected" in verified.output and "run-forged" in verified.output


def test_an_encrypted_warehouse_keeps_its_trail_inside_the_file(tmp_path: Path) -> None:
    """A journal would be plaintext beside an encrypted file: encrypted warehouses write the trail directly."""
    from warehouse.create import create_warehouse

    path = tmp_path / "secret.duckdb"
    create_warehouse(path, demo="small", seed=7, key="s3cret-key")
    wh = Warehouse(path, writable=True, key="s3cret-key")
    result = _agent(wh).ask("What's pipeline this quarter?")
    assert result.status == "ok"
    assert not audit_journal.folder(wh).exists()
    with wh.reader() as cur:
        assert audit.run(cur, result.run_id)["steps"] == len(result.steps)


def test_a_write_inside_a_read_only_hold_upgrades_it(wh: Warehouse) -> None:
    """An ask holds the file read-only; an approved change inside it (another thread, as tools run)
    reopens it read-write in place."""
    from concurrent.futures import ThreadPoolExecutor

    def write() -> int:
        with wh.writer() as cur:
            cur.execute("UPDATE meta SET value = value WHERE key = 'fiscal_year_start_month'")
        with wh.reader() as cur:
            return int(cur.scalar("SELECT count(*) FROM meta"))

    with wh.held(write=False):
        proc = _reader(wh.path, 0)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "read"  # shared while only read
        proc.wait()
        with ThreadPoolExecutor(1) as pool:
            assert pool.submit(write).result() > 0
    assert os.path.exists(wh.path)


def test_the_threads_file_lets_readers_past_a_writer_and_a_busy_one_is_a_lock_error(tmp_path: Path) -> None:
    """50 simultaneous asks share the threads file: SQLite's default (rollback journal, 5 s wait)
    failed 2 of them with an internal error."""
    import sqlite3

    from interfaces.errors import user_facing

    path = tmp_path / "threads.sqlite"
    saver = checkpointer(path, lock_timeout=0.2)
    assert saver.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    other = sqlite3.connect(path)
    other.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
    try:
        assert saver.conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 0  # reads pass
        with pytest.raises(sqlite3.OperationalError) as info:
            saver.conn.execute("INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx) "
                               "VALUES ('t', '', 'c', 'k', 0)")  # fmt: skip
    finally:
        other.rollback()
        other.close()
    problem = user_facing(info.value)
    assert getattr(problem, "kind", None) == "locked"
    assert "threads file" in str(problem) and "SPM_LOCK_TIMEOUT" in (getattr(problem, "hint", "") or "")
