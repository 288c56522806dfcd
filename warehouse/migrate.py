"""Schema migrations: numbered SQL files applied in order and recorded in the database.

Each migration runs in its own transaction together with the row that records it, so a
failure leaves the schema at the previous version, never half-upgraded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import duckdb

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


@cache
def available_migrations() -> tuple[Migration, ...]:
    found = []
    for entry in resources.files("warehouse.migrations").iterdir():
        m = _NAME.match(entry.name)
        if m:
            found.append(Migration(int(m[1]), m[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda mig: mig.version)
    versions = [mig.version for mig in found]
    if versions != list(range(1, len(found) + 1)):
        raise RuntimeError(f"Migrations must be numbered 1..n without gaps, found {versions}.")
    return tuple(found)


def latest_version() -> int:
    return available_migrations()[-1].version


def current_version(connection: duckdb.DuckDBPyConnection | Any) -> int:
    """The highest applied migration, 0 for a database without the migrations table."""
    exists = connection.execute(
        "SELECT count(*) FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_name = 'schema_migrations'"
    ).fetchone()
    if not exists or not exists[0]:
        return 0
    row = connection.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0


def migrate(connection: duckdb.DuckDBPyConnection, target: int | None = None) -> list[int]:
    """Apply every migration above the current version (up to `target`); return those applied."""
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL,"
        " applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"
    )
    applied = []
    start = current_version(connection)
    for mig in available_migrations():
        if mig.version <= start or (target is not None and mig.version > target):
            continue
        connection.execute("BEGIN TRANSACTION")
        try:
            connection.execute(mig.sql)
            connection.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                [mig.version, mig.name],
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        applied.append(mig.version)
    return applied
