"""Shared fixtures: the small demo warehouse is built once per session and copied per test."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from warehouse.connection import Warehouse
from warehouse.create import create_warehouse

AS_OF = date(2026, 11, 29)
SEED = 7


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo company, read-only for tests (copy it with `demo_copy` to write)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    create_warehouse(path, demo="small", seed=SEED, as_of=AS_OF)
    return path


@pytest.fixture
def demo(demo_path: Path) -> Warehouse:
    return Warehouse(demo_path)


@pytest.fixture
def demo_copy(demo_path: Path, tmp_path: Path) -> Warehouse:
    """A private, writable copy of the demo warehouse."""
    target = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, target)
    return Warehouse(target, writable=True)


@pytest.fixture
def empty(tmp_path: Path) -> Warehouse:
    """An empty warehouse with a February fiscal-year start."""
    path = tmp_path / "empty.duckdb"
    create_warehouse(path, fiscal_year_start_month=2)
    return Warehouse(path, writable=True, lock_timeout=2.0)


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SPM_CACHE_DIR for the whole run, shared by the xdist workers and the processes tests start.

    It holds derived files only (the trained planner, series fits), keyed by what made them, so
    sharing it changes how fast a test runs, never what it computes; tests of the caches
    themselves use folders of their own.
    """
    base = tmp_path_factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "shared-cache"


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, shared_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Conversation threads and memory of each test live in its own folder, never in the repo's data/."""
    from interfaces.settings import get_settings
    from tools.forecast import fit_store

    monkeypatch.setenv("SPM_THREADS_DB", str(tmp_path / "threads.sqlite"))
    monkeypatch.setenv("SPM_MEMORY_DIR", str(tmp_path / "memory"))
    monkeypatch.setenv("SPM_CACHE_DIR", str(shared_cache))
    get_settings.cache_clear()
    fit_store.use(fit_store.DiskFitStore(shared_cache / "fits"))  # as the interfaces install it
