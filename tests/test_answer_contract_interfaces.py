"""The answer contract in every interface: a breakdown asked for arrives as a table, and a
comparison names every option and the winner, in `spm ask` text, `spm ask --json`, `spm batch`
records and Slack blocks alike (the table travels inside the answer, so no interface drops it)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from interfaces.cli import app
from interfaces.compose import checkpointer
from interfaces.settings import get_settings
from interfaces.slack_blocks import result_blocks
from warehouse.connection import Warehouse

BREAKDOWN = "Forecast next quarter's bookings by region"
COMPARE = "APAC: 10 vs 15 vs 20% band - which gives the least disruption?"
REGIONS = ("NA", "EMEA", "APAC", "LATAM")


@pytest.fixture(scope="module")
def warehouse_file(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("contract") / "demo.duckdb"
    shutil.copy(demo_path, path)
    yield path


@pytest.fixture
def spm(warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SPM_THREADS_DB", str(tmp_path / "threads.sqlite"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["-w", str(warehouse_file), *args])

    yield run
    get_settings.cache_clear()


def _table_rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip().startswith("|")]


def _has_every_region(rows: list[str]) -> bool:
    return all(any(f"| {r} " in row for row in rows) for r in REGIONS)


def test_ask_text_prints_the_breakdown_as_an_aligned_table(spm) -> None:  # type: ignore[no-untyped-def]
    done = spm("ask", BREAKDOWN)
    assert done.exit_code == 0, done.stderr
    rows = _table_rows(done.stdout)
    assert rows and "region" in rows[0] and _has_every_region(rows)
    assert "**" not in done.stdout  # piped: plain text, not Markdown source
    assert len({len(row) for row in rows}) == 1  # aligned columns


def test_ask_json_carries_the_table_in_the_answer(spm) -> None:  # type: ignore[no-untyped-def]
    done = spm("ask", BREAKDOWN, "--json")
    assert done.exit_code == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "ok" and _has_every_region(_table_rows(data["answer"]))


def test_batch_records_carry_the_table_and_the_comparison(spm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prompts = tmp_path / "prompts.txt"
    prompts.write_text(f"{BREAKDOWN}\n\n{COMPARE}\n")
    done = spm("batch", str(prompts))
    assert done.exit_code == 0, done.stderr
    first, second = (json.loads(line) for line in done.stdout.splitlines() if line.strip())
    assert _has_every_region(_table_rows(first["answer"]))
    for label in ("±10%", "±15%", "±20%"):
        assert label in second["answer"]
    assert "(best)" in second["answer"] and "is best on" in second["answer"]


def test_slack_blocks_show_the_table_as_a_code_block_once(demo_path: Path, tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    shutil.copy(demo_path, path)
    agent = PlanningAgent(Warehouse(path, writable=True), ModelSettings(provider="offline"), checkpointer(":memory:"))
    result = agent.ask(BREAKDOWN, interface="slack")
    blocks, fallback = result_blocks(result, BREAKDOWN)
    texts = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
    answer = texts[0]
    assert "```" in answer and _has_every_region(_table_rows(answer))
    assert sum("| region" in t for t in texts) == 1  # the tool's headline table is not repeated
    assert "**" not in answer and fallback
