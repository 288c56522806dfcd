"""The warehouse handle: read-only readers, transactional writers, locks and clear errors."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import pytest

from warehouse.connection import Warehouse
from warehouse.create import create_warehouse
from warehouse.errors import ConflictError, InputError, NotFoundError, WarehouseLockedError


def test_reader_refuses_writes_even_on_a_writable_handle(empty: Warehouse) -> None:
    with empty.reader() as cur, pytest.raises(PermissionError):
        cur.execute("INSERT INTO regions VALUES ('X', 0)")
    with empty.reader() as cur, pytest.raises(PermissionError):
        cur.execute("SELECT 1; DROP TABLE regions")
    with empty.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM regions") == 0


def test_external_file_access_is_disabled(empty: Warehouse, tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("a\n1\n")
    with empty.reader() as cur, pytest.raises(duckdb.Error, match="disabled"):
        cur.execute(f"SELECT * FROM read_csv('{secret}')")
    with empty.writer() as cur, pytest.raises(duckdb.Error, match="disabled"):
        cur.execute(f"COPY regions TO '{tmp_path / 'out.csv'}'")


def test_writer_rolls_back_on_error(empty: Warehouse) -> None:
    with pytest.raises(RuntimeError), empty.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('EMEA', 0)")
        raise RuntimeError("boom")
    with empty.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM regions") == 0
    with empty.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('EMEA', 0)")
    with empty.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM regions") == 1


def test_read_only_handle_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    create_warehouse(path)
    with pytest.raises(RuntimeError, match="read-only"), Warehouse(path).writer():
        pass


def test_missing_file_and_wrong_file_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as info, Warehouse(tmp_path / "nope.duckdb").reader():
        pass
    assert "spm data init" in (info.value.hint or "")
    bogus = tmp_path / "accounts.csv"
    bogus.write_text("account_id,name\nA,B\n" * 100)
    with pytest.raises(InputError, match="not a DuckDB warehouse"), Warehouse(bogus).reader():
        pass


def test_create_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    create_warehouse(path, fiscal_year_start_month=4)
    with pytest.raises(ConflictError) as info:
        create_warehouse(path)
    assert "--force" in (info.value.hint or "")
    assert Warehouse(path).meta()["fiscal_year_start_month"] == "4"
    create_warehouse(path, fiscal_year_start_month=7, force=True)
    assert Warehouse(path).meta()["fiscal_year_start_month"] == "7"
    assert not list(tmp_path.glob(".*building*"))  # no leftovers


def test_empty_warehouse_has_standard_stages_and_calendar(empty: Warehouse) -> None:
    assert empty.calendar().start_month == 2
    with empty.reader() as cur:
        stages = cur.execute("SELECT name, is_closed, is_won FROM stages ORDER BY sort_order").fetchall()
    assert stages[-2:] == [("Closed Won", True, True), ("Closed Lost", True, False)]


HOLD_LOCK = textwrap.dedent(
    """
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1])
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    con.close()
    """
)


def _hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_lock_held_by_another_process_gives_a_clear_error(empty: Warehouse) -> None:
    proc = _hold(empty.path, 30)
    try:
        handle = Warehouse(empty.path, writable=True, lock_timeout=0.5)
        start = time.monotonic()
        with pytest.raises(WarehouseLockedError) as info, handle.writer():
            pass
        assert time.monotonic() - start < 5  # bounded wait
        assert "another process" in info.value.message and f"PID {proc.pid}" in info.value.message
        assert "SPM_LOCK_TIMEOUT" in (info.value.hint or "")
    finally:
        proc.kill()
        proc.wait()


def test_lock_released_within_timeout_is_waited_for(empty: Warehouse) -> None:
    proc = _hold(empty.path, 0.7)
    try:
        with Warehouse(empty.path, writable=True, lock_timeout=15).writer() as cur:
            cur.execute("INSERT INTO regions VALUES ('APAC', 0)")
    finally:
        proc.wait()
    with Warehouse(empty.path).reader() as cur:
        assert cur.scalar("SELECT count(*) FROM regions") == 1


def test_concurrent_threads_share_one_instance_and_serialise_writes(empty: Warehouse) -> None:
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                with empty.writer() as cur:
                    cur.execute("INSERT INTO regions VALUES (?, ?)", [f"R{i}-{j}", j])
                with empty.reader() as cur:
                    cur.scalar("SELECT count(*) FROM regions")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with empty.reader() as cur:
        assert cur.scalar("SELECT count(*) FROM regions") == 30


def test_file_is_released_after_use(empty: Warehouse) -> None:
    with empty.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('NA', 0)")
    # Another process can now open it read-write, which needs the lock to be free.
    code = f"import duckdb; duckdb.connect({str(empty.path)!r}).close(); print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "ok", result.stderr


def test_a_remembered_fingerprint_changes_with_every_write(empty: Warehouse) -> None:
    """Fingerprints are remembered per file version (hashing big tables takes seconds), so a write
    by this process or by another one must give the next reader a new fingerprint."""
    from warehouse.fingerprint import fingerprint

    def current() -> str:
        with empty.reader() as cur:
            return fingerprint(cur, ["regions"])

    first = current()
    assert current() == first  # unchanged data, the same fingerprint (remembered or not)
    with empty.writer() as cur:
        cur.execute("INSERT INTO regions VALUES ('EMEA', 0)")
    second = current()
    assert second != first
    code = (
        f"import duckdb; c = duckdb.connect({str(empty.path)!r}); c.execute(\"INSERT INTO regions VALUES ('NA', 1)\")"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    third = current()
    assert third not in (first, second)
    with empty.writer() as cur:  # inside a write transaction nothing is remembered: always hashed
        cur.execute("DELETE FROM regions WHERE name = 'NA'")
        assert fingerprint(cur, ["regions"]) == second
