"""Opening a warehouse file with DuckDB's built-in encryption (AES-GCM), offline.

With a key, the file is attached to an in-memory DuckDB instance with `ENCRYPTION_KEY` and
made the default catalog, so every query and migration runs against it unchanged. DuckDB
writes encrypted files only with OpenSSL's crypto from the httpfs extension (its built-in
module is read-only, for safety); that extension comes from the `duckdb-extension-httpfs`
package on PyPI, is loaded from its installed file (never downloaded), and must match the
DuckDB version exactly.

Every way a key can be wrong gets its own error, and none of them creates a new, empty
warehouse: the file must already exist for a handle to open it (creation goes through
`create_warehouse`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from warehouse.errors import InputError, SpmError

CATALOG = "wh"


def httpfs_extension() -> Path:
    """The installed httpfs extension file for this DuckDB version."""
    version = f"v{duckdb.__version__}"
    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise SpmError(
            "Encrypted warehouses need DuckDB's httpfs extension, which is not installed.",
            f"pip install duckdb-extension-httpfs=={duckdb.__version__}",
        ) from None
    path = Path(duckdb_extension_httpfs.__file__).parent / "extensions" / version / "httpfs.duckdb_extension"
    if not path.is_file():
        raise SpmError(
            f"The installed duckdb-extension-httpfs does not match DuckDB {duckdb.__version__}.",
            f"pip install duckdb-extension-httpfs=={duckdb.__version__}",
        )
    return path


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(path: Path, *, key: str | None, read_only: bool, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """The warehouse file as a DuckDB connection: plain without a key, encrypted with one."""
    if key is None:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    return connect_encrypted(path, key=key, read_only=read_only, config=config)


def connect_encrypted(path: Path, *, key: str, read_only: bool, config: dict[str, Any]) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the encrypted file at `path` (created if missing)."""
    if not key:
        raise InputError("SPM_WAREHOUSE_KEY is set but empty.", "Set it to the warehouse's key, or unset it.")
    connection = duckdb.connect(":memory:", config=config)
    try:
        connection.execute(f"LOAD {_literal(str(httpfs_extension()))}")
        options = f"ENCRYPTION_KEY {_literal(key)}" + (", READ_ONLY" if read_only else "")
        connection.execute(f"ATTACH {_literal(str(path))} AS {CATALOG} ({options})")
        connection.execute(f"USE {CATALOG}")
    except BaseException:
        connection.close()
        raise
    return connection


def explain(path: Path, exc: duckdb.Error) -> SpmError | None:
    """A clear error for a key problem in `exc`, or None when it is about something else."""
    text = str(exc).lower()
    if "without a key" in text:
        return InputError(
            f"The warehouse {path} is encrypted.",
            "Set SPM_WAREHOUSE_KEY to its key (the one it was created with).",
        )
    if "wrong encryption key" in text:
        return InputError(
            f"SPM_WAREHOUSE_KEY does not open the warehouse {path} (wrong key).",
            "Set SPM_WAREHOUSE_KEY to the key the warehouse was created with.",
        )
    if "is not encrypted" in text:
        return InputError(
            f"The warehouse {path} is not encrypted, but SPM_WAREHOUSE_KEY is set.",
            "Unset SPM_WAREHOUSE_KEY for this file, or create an encrypted warehouse with it set.",
        )
    return None
