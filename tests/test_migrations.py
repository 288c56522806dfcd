"""Schema migrations: applied in order, recorded, atomic, and checked on open."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from warehouse.connection import Warehouse
from warehouse.errors import SchemaError
from warehouse.migrate import available_migrations, current_version, latest_version, migrate


def test_fresh_database_gets_every_migration_recorded(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    applied = migrate(con)
    assert applied == [m.version for m in available_migrations()]
    rows = con.execute("SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in rows] == applied
    assert all(name for _, name in rows)
    assert migrate(con) == []  # idempotent
    assert current_version(con) == latest_version()


def test_upgrade_from_version_one_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    migrate(con, target=1)
    con.execute("INSERT INTO regions VALUES ('EMEA', 1)")
    con.close()
    assert latest_version() > 1, "this test needs at least two migrations"

    # A read-only handle does not upgrade.
    with pytest.raises(SchemaError) as info, Warehouse(path).reader():
        pass
    assert "spm data migrate" in (info.value.hint or "")

    with Warehouse(path, writable=True).reader() as cur:  # a writable one does
        assert cur.scalar("SELECT max(version) FROM schema_migrations") == latest_version()
        assert cur.scalar("SELECT name FROM regions") == "EMEA"


def test_failed_migration_leaves_previous_version(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    migrate(con, target=1)
    con.execute("CREATE TABLE users (x INTEGER)")  # collides with migration 2
    with pytest.raises(duckdb.Error):
        migrate(con)
    assert current_version(con) == 1
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "scenarios" not in tables  # migration 2 rolled back as a whole


def test_newer_schema_than_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'future')")
    con.close()
    with pytest.raises(SchemaError, match="newer"), Warehouse(path, writable=True).reader():
        pass
