"""`spm chat`: piped stdin (plain text, slash commands, follow-ups, approval), a pseudo-terminal
session (prompt, live progress, exit), and the session's commands in process."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from interfaces.chat_cli import ChatSession, run_chat
from interfaces.compose import checkpointer
from warehouse.connection import Warehouse
from warehouse.users import find_user


@pytest.fixture
def env(demo_path: Path, tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SPM_", "OPENAI_"))}
    return clean | {
        "SPM_WAREHOUSE": str(path),
        "SPM_THREADS_DB": str(tmp_path / "threads.sqlite"),
        "SPM_LLM": "offline",
        "COLUMNS": "120",
    }


def _spm() -> list[str]:
    return [sys.executable, "-c", "from interfaces.cli import main; main()"]


def test_piped_chat_answers_follows_up_and_runs_commands(env: dict[str, str], tmp_path: Path) -> None:
    lines = [
        "What's pipeline this quarter in EMEA?",
        "and for APAC?",
        "/audit",
        "/json",
        "/nonsense",
        "/compare only-one",
        "Forecast next quarter by region",
        f"/plot {tmp_path / 'fc.html'}",
        "/exit",
        "never asked",
    ]
    done = subprocess.run(
        [*_spm(), "chat"], input="\n".join(lines) + "\n", capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "\x1b[" not in out and "Traceback" not in out + done.stderr  # plain text, no colours, no traces
    assert "> and for APAC?" in out and "(pipeline; APAC" in out  # follow-up reused the thread's question
    assert "Audit trail of run-" in out and "tool_call" in out
    assert '"status": "ok"' in out
    assert "Unknown command /nonsense" in done.stderr and "/compare needs two" in done.stderr
    assert (tmp_path / "fc.html").stat().st_size > 1000
    assert "never asked" not in out


def test_piped_chat_approval(env: dict[str, str]) -> None:
    lines = [
        "What if we raise EMEA quotas 10%? save it as chat-emea-up",
        "apply the chat-emea-up scenario",
        "/approve",
    ]
    done = subprocess.run(
        [*_spm(), "chat", "--user", "cro"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Approval needed" in done.stdout and "rows changed" in done.stdout
    with Warehouse(env["SPM_WAREHOUSE"]).reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'chat-emea-up'") == "applied"


def test_chat_in_a_terminal_prompts_shows_progress_and_exits(env: dict[str, str]) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [*_spm(), "chat"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env | {"TERM": "xterm"},
        close_fds=True,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 120) -> None:
        """Read until `marker` appears in output not seen by the previous call."""
        nonlocal seen
        start = len(seen)
        deadline = time.monotonic() + timeout
        while marker not in seen[start:] and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(leader, 65536)
                except OSError:
                    break
        assert marker in seen[start:], seen[-2000:]

    try:
        read_until(b"you> ")
        os.write(leader, b"Check the data quality\n")
        read_until(b"Data quality")
        read_until(b"you> ")
        os.write(leader, b"/exit\n")
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(leader)
    assert b"spm chat" in seen and b"/help" in seen  # the banner
    assert b"run run-" in seen  # the step trail under each answer in a terminal
    assert b"planned: data_check" in seen or b"ran data_check" in seen  # live progress from streamed updates


def test_session_commands_in_process(demo_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_path, path)
    agent = PlanningAgent(Warehouse(path, writable=True), ModelSettings(provider="offline"), checkpointer(":memory:"))
    rep = find_user(agent.warehouse, "rep")
    session = ChatSession(agent, rep, "chat-test", interactive=False)
    run_chat(
        session, ["/help", "/audit", "/approve", "/scenarios", "Who is below 50% attainment last quarter?", "/json"]
    )
    out, err = capsys.readouterr()
    assert "Commands:" in out and "/plot" in out
    assert "Nothing asked yet" in err  # /audit before any question
    assert "not waiting for an approval" in err
    assert "scenarios" in err or "scenario" in out  # the scenario list needs all-data scope: a clear refusal
    last = json.loads(out[out.rindex('{\n  "run_id"') :])
    assert last["status"] == "ok" and last["thread_id"] == "chat-test"
