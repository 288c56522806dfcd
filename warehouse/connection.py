"""The warehouse handle: one DuckDB file, one writer at a time, many readers.

DuckDB lets one process open a file read-write, or many processes open it read-only, and
within a process only one database instance may exist per file. The handle hides this:

* a process-wide registry keeps one instance per file, reference-counted, and closes it when
  the last user leaves, so the file lock is held only while work is under way;
* `reader()` yields a cursor that can only run read statements, with file system access
  (`read_csv`, `COPY`, extensions) disabled for the whole instance;
* `writer()` yields a cursor inside a transaction, serialised within the process; a failure
  rolls the whole transaction back;
* when another process holds the file, opening retries with backoff for `lock_timeout`
  seconds and then raises `WarehouseLockedError` naming the process;
* with a key the file is an encrypted database (`warehouse/encryption.py`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from warehouse.calendar import FiscalCalendar
from warehouse.encryption import CATALOG, connect
from warehouse.encryption import explain as explain_key_error
from warehouse.errors import (
    InputError,
    NotFoundError,
    SchemaError,
    WarehouseLockedError,
    storage_error,
)
from warehouse.files import private_files
from warehouse.migrate import current_version, latest_version, migrate

_READ_STATEMENTS = frozenset(
    {
        duckdb.StatementType.SELECT,
        duckdb.StatementType.EXPLAIN,
        duckdb.StatementType.PRAGMA,
    }
)

# No extension is ever installed or loaded behind the user's back: the tool runs offline.
_BASE_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class ReadCursor:
    """A cursor restricted to read statements (SELECT, EXPLAIN, PRAGMA)."""

    def __init__(self, cursor: duckdb.DuckDBPyConnection, *, version: tuple[Any, ...] | None = None) -> None:
        self._cursor = cursor
        # Which state of the file this cursor reads (Warehouse._version): equal versions hold
        # equal data, so a fingerprint computed once serves every reader of that version.
        self.version = version

    def execute(self, sql: str, params: Any = None) -> ReadCursor:
        # Checked on read-only instances too: the same error whichever instance the reader shares.
        for statement in duckdb.extract_statements(sql):
            if statement.type not in _READ_STATEMENTS:
                raise PermissionError(f"A read cursor cannot run a {statement.type.name} statement.")
        self._cursor.execute(sql, params)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cursor.fetchall()

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cursor.fetchone()

    def df(self) -> Any:
        """The result as a pandas DataFrame."""
        return self._cursor.df()

    def query_df(self, sql: str, params: Any = None) -> Any:
        return self.execute(sql, params).df()

    def scalar(self, sql: str, params: Any = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return None if row is None else row[0]

    @property
    def description(self) -> Any:
        return self._cursor.description


@dataclass
class _Instance:
    """One open DuckDB database instance for a file, shared by the handles of a process."""

    connection: duckdb.DuckDBPyConnection
    writable: bool
    encrypted: bool = False  # the file is attached as catalog `wh`: each cursor must USE it
    refs: int = 0
    cursors: dict[int, int] = field(default_factory=dict)  # thread id -> cursors open (an upgrade waits for none)
    holders: dict[int, int] = field(default_factory=dict)  # thread id -> refs held


class _Registry:
    """Process-wide map of file path -> open instance, with a condition for upgrades."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.instances: dict[str, _Instance] = {}
        self.write_locks: dict[str, threading.RLock] = {}
        self.commits: dict[str, int] = {}  # file -> writes committed through this process

    def write_lock(self, key: str) -> threading.RLock:
        with self.lock:
            return self.write_locks.setdefault(key, threading.RLock())


_REGISTRY = _Registry()


def _open_duckdb(path: Path, *, writable: bool, timeout: float, key: str | None) -> duckdb.DuckDBPyConnection:
    config = dict(_BASE_CONFIG)
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            connection = connect(path, key=key, read_only=not writable, config=config)
        except duckdb.IOException as exc:
            text = str(exc)
            if "lock" not in text.lower():
                raise (storage_error(exc, path) or _explain_open_error(path, exc)) from exc
            if time.monotonic() >= deadline:
                holder = re.search(r"held in (\S+) \(PID (\d+)\)", text)
                who = f"PID {holder[2]}, {Path(holder[1]).name}" if holder else "unknown PID"
                raise WarehouseLockedError(
                    f"The warehouse {path} is in use by another process ({who}) "
                    f"and was not released within {timeout:g} s.",
                    "Wait for that command to finish (or stop it) and try again; set SPM_LOCK_TIMEOUT to wait longer.",
                ) from exc
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        except duckdb.Error as exc:
            raise (explain_key_error(path, exc) or _explain_open_error(path, exc)) from exc
        else:
            # Set after open: the writer needs no file access either (imports hand data over
            # as registered DataFrames), and once disabled DuckDB cannot re-enable it.
            connection.execute("SET enable_external_access = false")
            connection.execute("SET lock_configuration = true")
            return connection


def _stat(path: Path) -> Any:
    try:
        return path.stat()
    except FileNotFoundError:
        return None


@contextmanager
def _cursor(instance: _Instance) -> Iterator[duckdb.DuckDBPyConnection]:
    """A new cursor on the instance, its default catalog the warehouse (cursors do not inherit USE)."""
    thread = threading.get_ident()
    with _REGISTRY.lock:
        cursor = instance.connection.cursor()
        instance.cursors[thread] = instance.cursors.get(thread, 0) + 1
    try:
        if instance.encrypted:
            cursor.execute(f"USE {CATALOG}")
        yield cursor
    finally:
        cursor.close()
        with _REGISTRY.lock:
            if instance.cursors[thread] > 1:
                instance.cursors[thread] -= 1
            else:
                del instance.cursors[thread]
            _REGISTRY.lock.notify_all()


def _explain_open_error(path: Path, exc: Exception) -> Exception:
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "version number" in first_line and "can only read" in first_line:
        return SchemaError(
            f"{path} was written by a different DuckDB storage version than this spm-agent's "
            f"DuckDB {duckdb.__version__} reads ({first_line}).",
            "Open it with the spm-agent version that wrote it and export the tables, or re-create it with "
            "`spm data init` and `spm data import FILES` (the demo: `spm data init --demo --force`).",
        )
    return InputError(
        f"{path} is not a DuckDB warehouse file ({first_line}).",
        "Point SPM_WAREHOUSE at a warehouse created by `spm data init`.",
    )


class Warehouse:
    """Handle on a warehouse file. Cheap to create; opens the file only inside `reader`/`writer`.

    Reads open the file read-only, so several processes can read at once; `writable=True`
    handles open it read-write to write (and to upgrade the schema on first open). A reader
    shares whatever instance the process holds, restricted to reads either way.
    """

    def __init__(
        self, path: str | Path, *, writable: bool = False, lock_timeout: float = 10.0, key: str | None = None
    ) -> None:
        self.path = Path(path)
        self.writable = writable
        self.lock_timeout = lock_timeout
        self.encryption_key = key  # SPM_WAREHOUSE_KEY: the file is an encrypted DuckDB database
        self._key = str(self.path.expanduser().resolve())
        self._local = threading.local()
        self.applied_migrations: list[int] = []  # versions this handle's first writable open applied

    def __repr__(self) -> str:
        mode = "rw" if self.writable else "ro"
        return f"Warehouse({str(self.path)!r}, {mode})"

    def exists(self) -> bool:
        return self.path.is_file()

    def with_writes(self) -> Warehouse:
        """A writable handle on the same file."""
        return Warehouse(self.path, writable=True, lock_timeout=self.lock_timeout, key=self.encryption_key)

    # --- instance management ------------------------------------------------------------

    def _acquire(self, write: bool | None = None, *, reading: bool = False) -> _Instance:
        """This process's instance of the file, opened if needed. `write` (default: the handle's
        mode) asks for a read-write instance; a read-only one that is held (`held`) but has no
        cursor open is reopened read-write in place (an ask that reads, then applies a change).
        `reading`: any open instance will do (a reader shares what is held)."""
        if not self.exists():
            raise NotFoundError(
                f"No warehouse at {self.path}.",
                "Create one with `spm data init --demo` (demo company) or `spm data init` "
                "followed by `spm data import FILES`, or set SPM_WAREHOUSE to an existing file.",
            )
        write = self.writable if write is None else write
        thread = threading.get_ident()
        deadline = time.monotonic() + self.lock_timeout
        with _REGISTRY.lock:
            while True:
                instance = _REGISTRY.instances.get(self._key)
                if reading:
                    write = False  # a read never takes the writer's lock (but for a pending migration)
                if instance is None or (instance.refs == 0 and write and not instance.writable):
                    if instance is not None:  # idle read-only instance: reopen read-write
                        instance.connection.close()
                        del _REGISTRY.instances[self._key]
                    instance = _Instance(*self._open(write), self.encryption_key is not None)
                    _REGISTRY.instances[self._key] = instance
                elif write and not instance.writable and not instance.cursors:
                    instance.connection.close()  # held, but no one is reading: upgrade in place
                    instance.connection, instance.writable = self._open(True)
                if instance.writable or not write:
                    instance.refs += 1
                    instance.holders[thread] = instance.holders.get(thread, 0) + 1
                    return instance
                # A read-only instance is being read and we need to write: wait for its readers.
                if instance.cursors.get(thread):
                    raise RuntimeError("This thread is reading from a read-only connection and asked to write.")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WarehouseLockedError(
                        f"The warehouse {self.path} is busy with reads in this process.",
                        "Try again when they finish; set SPM_LOCK_TIMEOUT to wait longer.",
                    )
                _REGISTRY.lock.wait(remaining)

    def _open(self, writable: bool) -> tuple[duckdb.DuckDBPyConnection, bool]:
        """The file opened read-write or read-only, and which. A writable handle that finds the
        schema behind reopens it read-write to migrate it, whatever it opened it for."""
        connection = _open_duckdb(self.path, writable=writable, timeout=self.lock_timeout, key=self.encryption_key)
        try:
            if not writable and self.writable and current_version(connection) < latest_version():
                connection.close()
                return self._open(True)
            with private_files():  # a migration writes: its write-ahead log is private
                self._check_schema(connection, writable)
        except BaseException:
            connection.close()
            raise
        return connection, writable

    def _release(self, instance: _Instance) -> None:
        thread = threading.get_ident()
        with _REGISTRY.lock:
            instance.refs -= 1
            held = instance.holders.get(thread, 0) - 1
            if held > 0:
                instance.holders[thread] = held
            else:
                instance.holders.pop(thread, None)
            if instance.refs == 0 and _REGISTRY.instances.get(self._key) is instance:
                instance.connection.close()  # releases the file lock for other processes
                del _REGISTRY.instances[self._key]
            _REGISTRY.lock.notify_all()

    def _check_schema(self, connection: duckdb.DuckDBPyConnection, writable: bool) -> None:
        version = current_version(connection)
        latest = latest_version()
        if version > latest:
            raise SchemaError(
                f"The warehouse {self.path} has schema version {version}, newer than this spm-agent knows ({latest}).",
                "Upgrade spm-agent to read it.",
            )
        if version < latest:
            if not writable:
                raise SchemaError(
                    f"The warehouse {self.path} has schema version {version}; this spm-agent needs {latest}.",
                    "Run `spm data migrate` to upgrade it (your data is kept).",
                )
            self.applied_migrations = migrate(connection)

    # --- public access ------------------------------------------------------------------

    @contextmanager
    def held(self, *, write: bool | None = None) -> Iterator[Warehouse]:
        """Keep the file open across many reads and writes (one open instead of one per call).

        Opening a DuckDB file costs milliseconds; a run of the agent makes dozens of small
        reads, so it holds the instance for its duration. `write=False` holds it read-only even
        on a writable handle, so other processes can read meanwhile; a write inside upgrades it.
        """
        instance = self._acquire(write)
        try:
            yield self
        finally:
            self._release(instance)

    @contextmanager
    def reader(self) -> Iterator[ReadCursor]:
        """A cursor for read statements. Threads may read in parallel, each with its own cursor."""
        instance = self._acquire(reading=True)
        try:
            with _cursor(instance) as cursor:
                yield ReadCursor(cursor, version=self._version())
        finally:
            self._release(instance)

    @contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor inside one transaction; commits on success, rolls back on any error."""
        if not self.writable:
            raise RuntimeError(f"{self!r} was opened read-only; use Warehouse(..., writable=True).")
        with _REGISTRY.write_lock(self._key):
            instance = self._acquire()
            try:
                with _cursor(instance) as cursor:
                    # DuckDB creates the write-ahead log (`NAME.wal`, the rows being written) with
                    # the umask's mode at the first write after each checkpoint: private while writing.
                    with private_files():
                        cursor.begin()
                        try:
                            yield cursor
                        except BaseException:
                            cursor.rollback()
                            raise
                        cursor.commit()
                    with _REGISTRY.lock:
                        _REGISTRY.commits[self._key] = _REGISTRY.commits.get(self._key, 0) + 1
            finally:
                self._release(instance)

    def _version(self) -> tuple[Any, ...] | None:
        """The state of the file as a cheap key: the writes this process committed to it, and the
        size and modification time of the file and its write-ahead log (a commit by any process
        changes one of them; no other process can write while this one holds the file open)."""
        try:
            files = [self.path, self.path.with_name(self.path.name + ".wal")]
            stats = tuple((st.st_size, st.st_mtime_ns) for f in files if (st := _stat(f)) is not None)
        except OSError:
            return None
        with _REGISTRY.lock:
            return (self._key, _REGISTRY.commits.get(self._key, 0), stats)

    # --- metadata -----------------------------------------------------------------------

    def meta(self) -> dict[str, str]:
        with self.reader() as cur:
            return dict(cur.execute("SELECT key, value FROM meta").fetchall())

    def calendar(self) -> FiscalCalendar:
        return FiscalCalendar(int(self.meta().get("fiscal_year_start_month", "1")))
