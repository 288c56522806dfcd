"""Fault drills: what the agent does when the model or the warehouse misbehaves, and after a kill.

Each drill runs for real on the small demo (the model is the local OpenAI-compatible stub the
tests use, over HTTP) and records the outcome and how long it took to reach it; the same
behaviours are asserted in tests/test_security.py and tests/test_connection.py.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bench.report import table, write_section

QUESTION = "What's pipeline this quarter in EMEA?"


def _stub() -> Any:
    tests = str(Path(__file__).resolve().parents[1] / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from support import openai_stub

    return openai_stub


def run() -> None:
    from agent.agent import PlanningAgent
    from agent.models import ModelSettings
    from interfaces.compose import checkpointer
    from warehouse import audit, audit_journal
    from warehouse.connection import Warehouse
    from warehouse.create import create_warehouse
    from warehouse.errors import WarehouseLockedError
    from warehouse.users import find_user

    stub = _stub()
    completion = stub.completion
    rows: list[list[str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "small.duckdb"
        create_warehouse(path, demo="small", seed=7, as_of=date(2026, 11, 29))
        wh = Warehouse(path, writable=True)
        agent = PlanningAgent(wh, ModelSettings(provider="offline"), checkpointer(":memory:"))
        agent.ask("What if we raise EMEA quotas 10%? save it as drill-plan")

        def drill(name: str, replies: list[Any], check: Callable[[Any], str]) -> None:
            with stub.OpenAIStub(replies, default=lambda body: completion(content="ok")) as server:
                remote = PlanningAgent(
                    wh,
                    ModelSettings(provider="openai", base_url=server.base_url, api_key="k", max_retries=1, timeout=1.0),
                    checkpointer(":memory:"),
                )
                started = time.perf_counter()
                result = remote.ask(QUESTION if "write" not in name else "Rebalance NA")
                took = time.perf_counter() - started
            with wh.reader() as cur:
                chain = "chain intact" if audit.verify(cur, result.run_id).ok else "CHAIN BROKEN"
            rows.append([name, f"{result.status}: {check(result)}; {chain}", f"{took:.1f} s"])

        fell_back = lambda r: "offline planner answered" if "unavailable" in r.answer else "NO FALLBACK"  # noqa: E731

        def late(body: Any) -> Any:
            time.sleep(3)
            return completion(content="late")

        drill("model times out (twice)", [late] * 4, fell_back)
        drill("model returns garbage (not JSON)", [lambda b: b"{garbage"] * 4, fell_back)
        drill("model returns HTTP 503", [503] * 4, fell_back)
        drill(
            "model calls an unknown tool",
            [
                lambda b: completion(tool_calls=[{"name": "drop_tables", "args": {}}]),
                lambda b: completion(content="Sorry."),
            ],
            lambda r: "error step recorded, no crash" if any(s.kind == "error" for s in r.steps) else "no error step",
        )
        drill(
            "model passes invalid arguments",
            [
                lambda b: completion(tool_calls=[{"name": "metrics", "args": {"metric": "vibes"}}]),
                lambda b: completion(content="That metric does not exist."),
            ],
            lambda r: "error step recorded, no crash" if any(s.kind == "error" for s in r.steps) else "no error step",
        )
        drill(
            "model tries a write on its own",
            [lambda b: completion(tool_calls=[{"name": "apply_scenario", "args": {"scenario": "drill-plan"}}])],
            lambda r: (
                "stopped at the approval gate, nothing applied" if r.status == "needs_approval" else "WRITE NOT GATED"
            ),
        )

        metrics_call = {"name": "metrics", "args": {"metric": "pipeline", "filters": {"region": ["EMEA"]}}}
        ran = lambda r: "the call was read and ran" if any(s.kind == "tool_call" for s in r.steps) else "NOT RUN"  # noqa: E731
        drill(
            "model sends tool arguments that are not JSON (single quotes, trailing comma)",
            [lambda b: completion(tool_calls=[{"name": "metrics", "raw": "{'metric': 'pipeline',}"}]),
             lambda b: completion(content="Done.")],
            ran,
        )  # fmt: skip
        drill(
            "model writes its tool call as text (`<tool_call>...`)",
            [lambda b: completion(content=f"<tool_call>{json.dumps(metrics_call)}</tool_call>"),
             lambda b: completion(content="Done.")],
            ran,
        )  # fmt: skip
        drill(
            "model's tool call unreadable twice",
            [lambda b: completion(tool_calls=[{"name": "metrics", "raw": '{"metric": '}])] * 2,
            lambda r: "offline planner answered, the answer says why" if "could not be read" in r.answer
            else "NO FALLBACK",
        )  # fmt: skip
        drill(
            "model invents a figure twice",
            [lambda b: completion(tool_calls=[metrics_call])]
            + [lambda b: completion(content="EMEA pipeline is $987.6M.")] * 2,
            lambda r: "figure removed and flagged" if "$987.6M" not in r.answer.split("\n\n")[0]
            and r.grounding.get("removed") else "INVENTED FIGURE KEPT",
        )  # fmt: skip

        # --approve on a question that asked for no write: a model's own write must still wait.
        cro = find_user(wh, "cro")
        apply_call = completion(tool_calls=[{"name": "apply_scenario", "args": {"scenario": "drill-plan"}}])
        with stub.OpenAIStub(
            [lambda b: apply_call], default=lambda body: completion(content="Here is the answer.")
        ) as s2:
            remote = PlanningAgent(
                wh, ModelSettings(provider="openai", base_url=s2.base_url, api_key="k", max_retries=0),
                checkpointer(":memory:"),
            )  # fmt: skip
            started = time.perf_counter()
            result = remote.ask(QUESTION, user=cro, approve=True)
            took = time.perf_counter() - started
        with wh.reader() as cur:
            status = cur.scalar("SELECT status FROM scenarios WHERE name = 'drill-plan'")
        rows.append(["model writes on its own under `--approve` (question asked none)",
                     f"{result.status}: scenario still {status}, the answer names the attempt", f"{took:.1f} s"])  # fmt: skip

        # Tampering with the trail, as a careful editor would (no key; then the anchor).
        def tamper(name: str, sql: list[tuple[str, list[Any]]], anchor: str | None = None) -> None:
            with wh.writer() as wcur:
                for statement, params in sql:
                    wcur.execute(statement, params)
            started = time.perf_counter()
            with wh.reader() as cur:
                kinds = sorted({str(v.kind) for v in audit.verify_all(cur, None, anchor) if not v.ok})
            rows.append([name, "caught: " + ", ".join(kinds) if kinds else "NOT CAUGHT",
                         f"{time.perf_counter() - started:.1f} s"])  # fmt: skip

        victim = agent.ask("Check the data quality").run_id
        tamper("audit: a run's user and answer edited",
               [("UPDATE audit_runs SET user_id = 'nobody', answer = 'fine' WHERE run_id = ?", [victim])])  # fmt: skip
        tamper("audit: a whole run deleted (steps and header)",
               [("DELETE FROM audit_steps WHERE run_id = ?", [victim]),
                ("DELETE FROM audit_runs WHERE run_id = ?", [victim])])  # fmt: skip
        with wh.writer() as wcur:  # put the trail back in order for the next drill: forget the victim
            wcur.execute("DELETE FROM audit_ledger")
        audit.seal(wh, user_id="local", code_version="bench", key=None)
        with wh.reader() as cur:
            head = audit.anchor(cur)
        backup = Path(tmp) / "backup.duckdb"
        shutil.copy(path, backup)
        agent.ask("Check the data quality")
        with wh.reader() as cur:
            later = audit.anchor(cur)
        shutil.copy(backup, path)
        tamper("audit: whole file restored from an older copy, checked against an anchor", [], anchor=later)
        assert head

        # A run's journal edited before it reached the trail (warehouse/audit_journal.py).
        log = audit_journal.JournalLog.start(wh, run_id="run-drill-journal", thread_id=None, user_id="local",
                                             interface="cli", question=QUESTION, model="m", code_version="bench")  # fmt: skip
        log.append("tool_result", "metrics", summary="EMEA pipeline is $1.2M")
        log.finish("ok", "EMEA pipeline is $1.2M.")
        log.close()
        log.path.write_text(log.path.read_text().replace("$1.2M", "$999M"))
        started = time.perf_counter()
        drained = audit_journal.drain(wh, None)
        caught = [r for r, _ in audit_journal.rejected(wh, None)] == ["run-drill-journal"] and not drained.imported
        rows.append(["audit: a run's journal edited before it was imported",
                     "caught: journal_rejected, kept out of the trail" if caught else "NOT CAUGHT",
                     f"{time.perf_counter() - started:.1f} s"])  # fmt: skip

        # Another process holds the warehouse: a clear error naming it, after the bounded wait.
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('locked', "
                "flush=True); time.sleep(30)",
                str(path),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        started = time.perf_counter()
        try:
            with Warehouse(Path(tmp) / "small.duckdb", writable=True, lock_timeout=1.0).writer():
                outcome = "NOT LOCKED"
        except WarehouseLockedError as exc:
            outcome = f"refused: {exc.message[:70]}"
        rows.append(["warehouse locked by another process", outcome, f"{time.perf_counter() - started:.1f} s"])
        holder.kill()
        holder.wait()

        # A run killed while it waits on the model: the audit keeps it as incomplete, data stay usable.
        def hang(body: Any) -> Any:
            time.sleep(60)
            return completion(content="never")

        with stub.OpenAIStub([hang], default=hang) as server:
            env = {
                "SPM_WAREHOUSE": str(path),
                "SPM_THREADS_DB": str(Path(tmp) / "t.sqlite"),
                "SPM_MEMORY_DIR": str(Path(tmp) / "mem"),
                "OPENAI_BASE_URL": server.base_url,
                "OPENAI_API_KEY": "k",
                "PATH": "/usr/bin:/bin",
            }
            proc = subprocess.Popen(
                [sys.executable, "-c", "from interfaces.cli import main; main()", "ask", QUESTION],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            while not server.requests:
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        started = time.perf_counter()
        audit_journal.drain(wh, None)  # the killed run's journal, as the next `spm audit` command imports it
        with wh.reader() as cur:
            run_id, status = cur.execute(
                "SELECT run_id, status FROM audit_runs ORDER BY started_at DESC LIMIT 1"
            ).fetchone() or ("", "")
            intact = audit.verify(cur, run_id).ok
        after = agent.ask(QUESTION)
        rows.append(
            [
                "process killed mid-run (SIGKILL)",
                f"run left {'incomplete' if status == 'running' else status}, chain {'intact' if intact else 'BROKEN'}; "
                f"next question {after.status}",
                f"{time.perf_counter() - started:.1f} s to recover",
            ]
        )
    md = "## Fault drills\n\n"
    md += "Small demo; the model is a local OpenAI-compatible stub over HTTP (1 s timeout, 1 retry).\n\n"
    md += table(["fault", "outcome", "time"], rows)
    write_section("faults", md)
