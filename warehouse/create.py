"""Creating a warehouse file: empty or with the demo company, atomically.

The new warehouse is built in a temporary file next to the target and moved into place only
when complete, so a failure (or Ctrl-C) never leaves a half-built file, and `--force` never
destroys the old warehouse before the new one exists. With `backup`, the old file is kept
there: a hard link (a copy where links are not supported) made before the new file moves in,
so at no moment is there no warehouse at the path, nor a lost one.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

from warehouse.calendar import FiscalCalendar
from warehouse.connection import Warehouse
from warehouse.encryption import connect
from warehouse.errors import ConflictError, InputError, SchemaError, WarehouseLockedError, storage_error
from warehouse.files import private_dir, private_files
from warehouse.migrate import migrate


def standard_stages() -> list[tuple[str, int, float, bool, bool]]:
    """The stages an empty warehouse starts with (name, order, probability, closed, won)."""
    from warehouse.demo.config import LOST_STAGE, OPEN_STAGES, WON_STAGE

    open_stages = [(name, i + 1, p, False, False) for i, (name, p) in enumerate(OPEN_STAGES)]
    n = len(open_stages)
    return [
        *open_stages,
        (WON_STAGE, n + 1, 1.0, True, True),
        (LOST_STAGE, n + 2, 0.0, True, False),
    ]


def _assert_not_in_use(path: Path, lock_timeout: float, key: str | None) -> None:
    """Overwriting a file another process has open would pull it from under that process."""
    try:
        with Warehouse(path, writable=True, lock_timeout=lock_timeout, key=key).writer():
            pass
    except (InputError, SchemaError):
        # The old file does not open (plain or another key, another DuckDB storage version): it
        # is being replaced anyway, so only ask the OS whether another process holds its lock.
        import fcntl

        with path.open("rb+") as handle:
            try:
                fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise WarehouseLockedError(
                    f"The warehouse {path} is in use by another process.",
                    "Wait for that command to finish (or stop it) and try again.",
                ) from None
            fcntl.lockf(handle, fcntl.LOCK_UN)


def _keep(path: Path, backup: Path) -> None:
    """The old file (and a write-ahead log it still has) at `backup`, or nothing at all."""
    pairs = [(path, backup), (Path(f"{path}.wal"), Path(f"{backup}.wal"))]
    made: list[Path] = []
    try:
        for source, target in pairs:
            if source.exists():
                made.append(target)
                try:
                    os.link(source, target)
                except OSError:  # no hard links here (some network and FAT file systems)
                    shutil.copy2(source, target)
    except BaseException:
        for target in made:
            target.unlink(missing_ok=True)
        raise


def create_warehouse(
    path: str | Path,
    *,
    fiscal_year_start_month: int = 1,
    demo: Any = None,
    seed: int = 7,
    as_of: date | None = None,
    force: bool = False,
    lock_timeout: float = 10.0,
    key: str | None = None,
    backup: Path | None = None,
) -> Warehouse:
    """Create an empty warehouse, or the demo company of size `demo` (a size name or a
    `DemoSize`), at `path`; with `key`, an encrypted DuckDB database; replacing a file with
    `force`, keep the old one at `backup` when given."""
    path = Path(path)
    FiscalCalendar(fiscal_year_start_month)  # validates the month
    if path.exists():
        if not force:
            raise ConflictError(
                f"A warehouse already exists at {path}.",
                "Use --force to replace it, or set SPM_WAREHOUSE to another file.",
            )
        if path.is_dir():
            raise InputError(f"{path} is a directory.", "Give a file path such as data/warehouse.duckdb.")
        _assert_not_in_use(path, lock_timeout, key)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
    try:
        # The new file and its write-ahead log are the account's own (0600, in a 0700 folder if
        # spm creates the folder); a full disk or a refused write leaves no half-built file.
        with private_files():
            _build(tmp, path, fiscal_year_start_month, demo, seed, as_of, key, backup)
    except Exception as exc:
        problem = storage_error(exc, path)
        if problem is None:
            raise
        raise problem from exc
    return Warehouse(path, lock_timeout=lock_timeout, key=key)


def _build(
    tmp: Path,
    path: Path,
    fiscal_year_start_month: int,
    demo: Any,
    seed: int,
    as_of: date | None,
    key: str | None,
    backup: Path | None,
) -> None:
    """Build the warehouse in `tmp` and move it to `path` when complete; `tmp` never outlives it."""
    private_dir(path.parent)
    for leftover in (tmp, Path(f"{tmp}.wal")):
        leftover.unlink(missing_ok=True)
    try:
        connection = connect(tmp, key=key, read_only=False, config={})
        try:
            migrate(connection)
            connection.execute("BEGIN TRANSACTION")
            if demo is not None:
                from warehouse.demo.builder import generate, write_meta, write_tables

                data = generate(demo, seed, as_of or date.today())
                write_tables(connection, data.tables)
                write_meta(connection, data.meta)
            else:
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('fiscal_year_start_month', ?)",
                    [str(fiscal_year_start_month)],
                )
                connection.executemany("INSERT INTO stages VALUES (?, ?, ?, ?, ?)", standard_stages())
            connection.execute(
                "INSERT INTO meta (key, value) VALUES ('created_at', CAST(current_timestamp AS VARCHAR))"
            )
            connection.execute("COMMIT")
            connection.execute("CHECKPOINT")
        finally:
            connection.close()
        if backup is not None and path.exists():
            _keep(path, backup)
        Path(f"{path}.wal").unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            leftover.unlink(missing_ok=True)
