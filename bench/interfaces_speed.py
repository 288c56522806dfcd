"""Batch throughput (1 and 2 workers), the Slack path's time to first response, and a load test:
50 concurrent questions through the Slack HTTP endpoint and through `ask_many(workers=...)`,
checked for errors, lost or duplicated audit runs, and answers identical to the serial ones.

Runs on the small demo with the offline planner; the Slack Web API is the local mock the tests
use (real HTTP both ways), so figures include Bolt, signature checks and the HTTP round trips.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from bench.agent_speed import QUESTIONS, _percentile
from bench.report import table, write_section

SECRET = "bench-secret"
BATCH_PROMPTS = list(QUESTIONS) * 4  # 40 prompts, every tool
LOAD = 50
SLACK_SAMPLES = 20


def _slack_stub() -> Any:
    """The Slack Web API mock lives with the tests; import it from there."""
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from support import slack_stub

    return slack_stub


def _post_event(url: str, text: str, ts: str, event_id: str) -> float:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0BENCH",
            "event_id": event_id,
            "event": {
                "type": "app_mention",
                "user": "U0SPMCRO01",
                "text": f"<@UBOT0001> {text}",
                "ts": ts,
                "channel": "C0B",
            },
        }
    )
    headers = _slack_stub().signed_headers(SECRET, body, content_type="application/json")
    started = time.perf_counter()
    with urllib.request.urlopen(urllib.request.Request(url, body.encode(), headers), timeout=30) as response:
        assert response.status == 200
    return time.perf_counter() - started


def _answer(stub: Any, ts: str) -> dict[str, Any] | None:
    """The thread's answer: its "working" message, updated in place with the answer's blocks."""
    working = {p["_ts"] for p in stub.posted() if p.get("thread_ts") == ts and p["text"].startswith("Working")}
    return next((p for p in stub.posted("chat.update") if p.get("ts") in working and "blocks" in p), None)


def _wait(stub: Any, ts: str, want_blocks: bool, timeout: float = 120) -> float:
    """When the thread got its first response (`want_blocks=False`: the working message) or its answer."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if want_blocks and _answer(stub, ts) is not None:
            return time.perf_counter()
        if not want_blocks and any(p.get("thread_ts") == ts for p in stub.posted()):
            return time.perf_counter()
        time.sleep(0.005)
    raise TimeoutError(ts)


def run() -> None:
    from agent.agent import PlanningAgent
    from agent.models import ModelSettings
    from interfaces.compose import checkpointer
    from interfaces.slack_app import SlackBot, build_app, serve_http
    from interfaces.slack_cli import identifier
    from warehouse import audit, audit_journal
    from warehouse.create import create_warehouse

    with tempfile.TemporaryDirectory() as tmp:
        wh = create_warehouse(Path(tmp) / "small.duckdb", demo="small", seed=7, as_of=date(2026, 11, 29))
        agent = PlanningAgent(wh.with_writes(), ModelSettings(provider="offline"), checkpointer(":memory:"))
        agent.ask("help")  # start-up (classifier training) is not part of throughput

        # --- batch throughput --------------------------------------------------------------
        rates: dict[int, float] = {}
        answers: dict[int, list[str]] = {}
        for workers in (1, 2):
            started = time.perf_counter()
            results = agent.ask_many(BATCH_PROMPTS, workers=workers, interface="batch")
            rates[workers] = len(results) / (time.perf_counter() - started)
            assert all(r.status == "ok" for r in results), [r.answer for r in results if r.status != "ok"]
            answers[workers] = [r.answer for r in results]
        assert answers[1] == answers[2], "parallel answers differ from serial ones"

        # --- Slack: time to first response -------------------------------------------------
        stub = _slack_stub().SlackStub()
        bot = SlackBot(agent, identifier(agent.warehouse, "deny"))
        app = build_app(bot, bot_token="xoxb-bench", signing_secret=SECRET, api_url=stub.url, workers=8)
        server = serve_http(app, "127.0.0.1", 0)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_port}/slack/events"
        acks, first, full = [], [], []
        for i in range(SLACK_SAMPLES):
            ts = f"1800000000.{i:06d}"
            started = time.perf_counter()
            acks.append(_post_event(url, QUESTIONS[i % len(QUESTIONS)], ts, f"EvS{i}"))
            first.append(_wait(stub, ts, want_blocks=False) - started)
            full.append(_wait(stub, ts, want_blocks=True) - started)

        # --- load: 50 concurrent questions through Slack and through ask_many ----------------
        questions = [QUESTIONS[i % len(QUESTIONS)] for i in range(LOAD)]
        serial = {q: agent.ask(q).answer for q in set(questions)}
        with agent.warehouse.reader() as cur:
            runs_before = cur.scalar("SELECT count(*) FROM audit_runs")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=LOAD) as pool:
            list(
                pool.map(
                    lambda i: _post_event(url, questions[i], f"1900000000.{i:06d}", f"EvL{i}"),
                    range(LOAD),
                )
            )
        latencies = [_wait(stub, f"1900000000.{i:06d}", want_blocks=True) - started for i in range(LOAD)]
        slack_elapsed = max(latencies)
        posted = {ts: answer for i in range(LOAD) if (answer := _answer(stub, ts := f"1900000000.{i:06d}"))}
        slack_errors = sum(1 for p in posted.values() if "Could not answer" in json.dumps(p["blocks"]))
        slack_mismatch = sum(
            1 for i in range(LOAD) if serial[questions[i]] not in _fallback_answer(posted[f"1900000000.{i:06d}"])
        )
        started = time.perf_counter()
        batch = agent.ask_many(questions, workers=2, interface="batch")
        batch_elapsed = time.perf_counter() - started
        batch_errors = sum(r.status != "ok" for r in batch)
        batch_mismatch = sum(r.answer != serial[q] for r, q in zip(batch, questions, strict=True))
        audit_journal.drain(agent.warehouse, None)  # runs whose journal found the file busy, as `spm audit` would
        with agent.warehouse.reader() as cur:
            runs = cur.execute(
                "SELECT run_id, status FROM audit_runs ORDER BY started_at OFFSET ?", [runs_before]
            ).fetchall()
            broken = sum(not audit.verify(cur, run_id).ok for run_id, _ in runs)
        server.shutdown()
        stub.close()
    expected_runs = 2 * LOAD
    load_ok = (
        slack_errors == batch_errors == slack_mismatch == batch_mismatch == broken == 0
        and len(runs) == len({r for r, _ in runs}) == expected_runs
        and len(posted) == LOAD
    )
    md = "## Interfaces: batch throughput, Slack time to first response, load\n\n"
    md += f"Small demo, offline planner, {len(BATCH_PROMPTS)} prompts (every tool; forecast and capacity are the slow ones).\n\n"
    md += table(
        ["batch", "prompts/s"],
        [["1 worker", f"{rates[1]:.2f}"], ["2 workers", f"{rates[2]:.2f}"]],
    )
    md += "\n\nAnswers with 2 workers are identical to the serial ones (checked).\n\n"
    md += f"Slack over HTTP ({SLACK_SAMPLES} mentions one after another, signed, through Bolt and a local Slack API mock):\n\n"
    md += table(
        ["step", "p50", "p95"],
        [
            ["HTTP ack", f"{statistics.median(acks) * 1000:.0f} ms", f"{_percentile(acks, 0.95) * 1000:.0f} ms"],
            [
                "first response ('Working on it…')",
                f"{statistics.median(first) * 1000:.0f} ms",
                f"{_percentile(first, 0.95) * 1000:.0f} ms",
            ],
            ["answer in thread", f"{statistics.median(full):.2f} s", f"{_percentile(full, 0.95):.2f} s"],
        ],
    )
    md += (
        f"\n\nLoad: {LOAD} concurrent questions through the Slack endpoint (8 listener threads) then through "
        f"`ask_many(workers=2)`:\n\n"
    )
    md += table(
        ["path", "questions/s", "p95 latency", "errors", "answers differing from serial"],
        [
            [
                "Slack HTTP",
                f"{LOAD / slack_elapsed:.2f}",
                f"{_percentile(latencies, 0.95):.2f} s",
                slack_errors,
                slack_mismatch,
            ],
            ["batch, 2 workers", f"{LOAD / batch_elapsed:.2f}", "-", batch_errors, batch_mismatch],
        ],
    )
    md += (
        f"\n\nAudit: {len(runs)} runs recorded for {expected_runs} questions, "
        f"{len({r for r, _ in runs})} distinct, {broken} with a broken hash chain: "
        f"**{'no errors, nothing lost or duplicated' if load_ok else 'FAILED'}**."
    )
    write_section("interfaces_speed", md)
    if not load_ok:
        raise SystemExit("load test failed: see bench/RESULTS.md")


def _fallback_answer(params: dict[str, Any]) -> str:
    """The answer as the user reads it: Slack text escapes `&`, `<` and `>` (interfaces/slack_blocks.py)."""
    text = str(params.get("text", ""))
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
