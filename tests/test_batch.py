"""`spm batch` and `PlanningAgent.ask_many`: every input format, order with workers, failing
prompts, exit codes, approvals only with --approve."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent.agent import PlanningAgent
from agent.batch import Question
from agent.models import ModelSettings
from interfaces.batch_io import read_prompts
from interfaces.cli import app
from interfaces.compose import checkpointer
from interfaces.errors import EXIT_CODES, EXIT_PARTIAL
from interfaces.settings import get_settings
from warehouse.connection import Warehouse
from warehouse.errors import InputError

PROMPTS = [
    "What's pipeline this quarter in EMEA?",
    "Win rate by segment last quarter",
    "Forecast next quarter by region",
    "What did we book last quarter by region?",
    "Check the data quality",
]


@pytest.fixture(scope="module")
def warehouse_file(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("batch") / "demo.duckdb"
    shutil.copy(demo_path, path)
    yield path


@pytest.fixture
def spm(warehouse_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SPM_THREADS_DB", str(tmp_path / "threads.sqlite"))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str):  # type: ignore[no-untyped-def]
        return runner.invoke(app, ["-w", str(warehouse_file), "batch", *args])

    yield run
    get_settings.cache_clear()


def _records(stdout: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_text_file_in_order_with_two_workers_same_answers_as_serial(
    spm, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "prompts.txt"
    file.write_text("# QBR what-ifs\n" + "\n\n".join(PROMPTS) + "\n")
    serial = spm(str(file))
    # A second batch would cite the first one's decisions; compare on an equally fresh memory.
    monkeypatch.setenv("SPM_MEMORY_DIR", str(tmp_path / "memory-2"))
    get_settings.cache_clear()
    parallel = spm(str(file), "--workers", "2")
    assert serial.exit_code == 0 and parallel.exit_code == 0, parallel.stderr
    one, two = _records(serial.stdout), _records(parallel.stdout)
    assert [r["prompt"] for r in two] == PROMPTS and [r["index"] for r in two] == [1, 2, 3, 4, 5]
    assert [r["answer"] for r in one] == [r["answer"] for r in two]  # same data, same seeds: same answers
    assert len({r["run_id"] for r in one + two}) == 10  # each prompt its own audited run
    assert all(r["status"] == "ok" for r in two)
    assert two[0]["metrics"]["metrics.total"] > 0  # key metrics travel with each record
    assert "5 ok" in parallel.stderr and "prompts/s" in parallel.stderr


def test_csv_carries_tags_and_threads_follow_ups(spm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "prompts.csv"
    file.write_text(
        "prompt,owner,thread\n"
        '"What\'s pipeline this quarter in EMEA?",ana,t1\n'
        "and for APAC?,ana,t1\n"
        "Win rate by segment last quarter,bo,\n"
    )
    out = tmp_path / "out.csv"
    result = spm(str(file), "--format", "csv", "--out", str(out), "--workers", "2")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["owner"] for r in rows] == ["ana", "ana", "bo"]
    assert "(pipeline; APAC" in rows[1]["answer"]  # the follow-up ran after its thread's first question
    assert all(r["run_id"].startswith("run-") for r in rows)


def test_yaml_and_jsonl_with_users_and_markdown_output(spm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    yaml_file = tmp_path / "prompts.yaml"
    yaml_file.write_text(
        "prompts:\n"
        "  - What's pipeline this quarter?\n"
        '  - {prompt: "What\'s pipeline this quarter?", user: emea-lead, team: emea}\n'
    )
    result = spm(str(yaml_file))
    assert result.exit_code == 0, result.stderr
    everyone, emea = _records(result.stdout)
    assert emea["tags"] == {"team": "emea"} and "region EMEA" in emea["answer"]
    assert everyone["metrics"]["metrics.total"] > emea["metrics"]["metrics.total"]  # scope applied per prompt

    jsonl = tmp_path / "prompts.jsonl"
    jsonl.write_text(json.dumps({"prompt": PROMPTS[0]}) + "\n" + json.dumps({"prompt": PROMPTS[1], "wave": 2}) + "\n")
    md = spm(str(jsonl), "--format", "md")
    assert md.exit_code == 0
    assert md.stdout.startswith("| # | prompt | status | run |") and "## 2. Win rate by segment" in md.stdout


def test_a_failing_prompt_is_reported_and_the_batch_goes_on(spm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    file = tmp_path / "prompts.jsonl"
    lines = [
        {"prompt": PROMPTS[0]},
        {"prompt": "What's pipeline this quarter in APAC?", "user": "emea-lead"},  # outside the user's scope
        {"prompt": "x" * 5000},  # longer than a question may be
        {"prompt": PROMPTS[1]},
    ]
    file.write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = spm(str(file), "--workers", "2")
    assert result.exit_code == EXIT_PARTIAL
    records = _records(result.stdout)
    assert [r["status"] for r in records] == ["ok", "error", "error", "ok"]
    assert "outside" in records[1]["answer"] and "limit is 4,000" in records[2]["answer"]
    assert "prompt 3" in result.stderr


def test_writes_need_approve(spm, warehouse_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    save = tmp_path / "save.txt"
    save.write_text("What if we raise EMEA quotas 10%? save it as batch-emea-up\n")
    assert spm(str(save)).exit_code == 0
    apply = tmp_path / "apply.txt"
    apply.write_text("apply the batch-emea-up scenario\n")

    def status() -> str:
        with Warehouse(warehouse_file).reader() as cur:
            return cur.scalar("SELECT status FROM scenarios WHERE name = 'batch-emea-up'")

    waiting = _records(spm(str(apply), "--user", "cro").stdout)[0]
    assert waiting["status"] == "needs_approval" and status() == "draft"
    # --approve is never blanket: a row approves only the scenario its `approve` column names.
    unnamed = _records(spm(str(apply), "--user", "cro", "--approve").stdout)[0]
    assert unnamed["status"] == "needs_approval" and "does not cover" in unnamed["answer"] and status() == "draft"
    named = tmp_path / "apply.csv"
    named.write_text("prompt,approve\napply the batch-emea-up scenario,another-plan\n")
    other = _records(spm(str(named), "--user", "cro", "--approve").stdout)[0]
    assert other["status"] == "needs_approval" and "another-plan" in other["answer"] and status() == "draft"
    named.write_text("prompt,approve\napply the batch-emea-up scenario,batch-emea-up\n")
    denied = _records(spm(str(named), "--user", "rep", "--approve").stdout)[0]
    assert "may not approve" in denied["answer"] and status() == "draft"
    applied = _records(spm(str(named), "--user", "cro", "--approve").stdout)[0]
    assert applied["status"] == "ok" and status() == "applied"


def test_bad_batch_files_fail_before_anything_runs(spm, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    no_column = tmp_path / "a.csv"
    no_column.write_text("question\nforecast\n")
    result = spm(str(no_column))
    assert result.exit_code == EXIT_CODES["input"] and "no 'prompt' column" in result.stderr
    bad_json = tmp_path / "b.jsonl"
    bad_json.write_text('{"prompt": "ok"}\n{"prompt": \n')
    result = spm(str(bad_json))
    assert result.exit_code == EXIT_CODES["input"] and "line 2" in result.stderr
    empty = tmp_path / "c.txt"
    empty.write_text("# nothing here\n\n")
    assert spm(str(empty)).exit_code == EXIT_CODES["input"]
    assert spm(str(tmp_path / "missing.txt")).exit_code == EXIT_CODES["not_found"]
    unknown_user = tmp_path / "d.jsonl"
    unknown_user.write_text('{"prompt": "forecast", "user": "nobody"}\n')
    assert spm(str(unknown_user)).exit_code == EXIT_CODES["not_found"]
    assert spm(str(empty), "--format", "xml").exit_code == EXIT_CODES["input"]
    with pytest.raises(InputError, match="item 2"):
        yaml_file = tmp_path / "e.yaml"
        yaml_file.write_text("- forecast\n- 3\n")
        read_prompts(yaml_file)


def test_ask_many_python_api(warehouse_file: Path) -> None:
    agent = PlanningAgent(
        Warehouse(warehouse_file, writable=True), ModelSettings(provider="offline"), checkpointer(":memory:")
    )
    done: list[int] = []
    results = agent.ask_many(
        [PROMPTS[0], Question("and for APAC?", thread_id="t"), Question(PROMPTS[0], thread_id="t"), ""],
        workers=2,
        on_done=lambda i, _: done.append(i),
    )
    assert [r.status for r in results] == ["ok", "clarify", "ok", "error"]  # a follow-up with no history asks
    assert sorted(done) == [0, 1, 2, 3]
    assert "empty" in results[3].answer
