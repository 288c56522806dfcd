"""The graph served by LangGraph's own server: `langgraph dev` loads langgraph.json, and a client
using the LangGraph SDK asks, follows up, and answers an approval in the HITL shape, over HTTP.

The server is the real one (langgraph-cli with the in-memory runtime), started as a user starts
it, on a copy of the demo warehouse with the offline planner.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from warehouse import audit
from warehouse.connection import Warehouse

ROOT = Path(__file__).resolve().parents[1]
langgraph_sdk = pytest.importorskip("langgraph_sdk")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(demo_path: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("served")
    warehouse = folder / "demo.duckdb"
    shutil.copy(demo_path, warehouse)
    port = _free_port()
    env = {
        **os.environ,
        "SPM_WAREHOUSE": str(warehouse),
        "SPM_LLM": "offline",
        "SPM_THREADS_DB": str(folder / "threads.sqlite"),
        "SPM_MEMORY_DIR": str(folder / "memory"),
        "SPM_CACHE_DIR": str(shared_cache),
    }
    command = [str(Path(sys.executable).parent / "langgraph"), "dev", "--no-browser", "--no-reload",
               "--host", "127.0.0.1", "--port", str(port), "--config", str(ROOT / "langgraph.json")]  # fmt: skip
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(url + "/ok", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("langgraph dev did not start:\n" + (folder / "server.log").read_text()[-3000:])
            time.sleep(0.5)
        yield {"client": langgraph_sdk.get_sync_client(url=url), "warehouse": warehouse, "log": folder / "server.log"}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _ask(client: Any, thread: str, question: str) -> dict[str, Any]:
    out = client.runs.wait(thread, "spm", input={"messages": [{"role": "user", "content": question}]})
    assert isinstance(out, dict), out
    return out


def _run(warehouse: Path, run_id: str) -> dict[str, Any]:
    with Warehouse(warehouse).reader() as cur:
        found = audit.run(cur, run_id)
        found["verified"] = audit.verify(cur, run_id).ok
    return found


def test_the_server_serves_the_graph_and_audits_each_run(server: dict[str, Any]) -> None:
    client = server["client"]
    assert [a["graph_id"] for a in client.assistants.search()] == ["spm"]
    thread = client.threads.create()["thread_id"]
    first = _ask(client, thread, "Forecast next quarter by region")
    assert first["status"] == "ok" and "P50" in first["answer"] and "EMEA" in first["answer"]
    follow = _ask(client, thread, "and for EMEA only?")
    assert follow["status"] == "ok" and "EMEA" in follow["answer"] and "APAC" not in follow["answer"]
    assert follow["run_id"] != first["run_id"]  # each question its own audited run
    for answered in (first, follow):
        run = _run(server["warehouse"], answered["run_id"])
        assert run["interface"] == "langgraph" and run["status"] == "ok" and run["verified"]


def test_an_approval_waits_in_the_hitl_shape_and_is_answered_over_http(server: dict[str, Any]) -> None:
    client = server["client"]
    saved = _ask(
        client, client.threads.create()["thread_id"], "What if we raise EMEA quotas 10%? save it as served-plan"
    )
    assert saved["status"] == "ok"

    thread = client.threads.create()["thread_id"]
    waiting = _ask(client, thread, "apply the served-plan scenario")
    (interrupt,) = waiting["__interrupt__"]
    (action,) = interrupt["value"]["action_requests"]
    assert action["name"] == "apply_scenario" and action["args"] == {"scenario": "served-plan"}
    assert interrupt["value"]["review_configs"][0]["allowed_decisions"] == ["approve", "edit", "reject"]
    with Warehouse(server["warehouse"]).reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'served-plan'") == "draft"

    done = client.runs.wait(thread, "spm", command={"resume": {"decisions": [{"type": "approve"}]}})
    assert done["status"] == "ok" and "rows changed" in done["answer"], done
    with Warehouse(server["warehouse"]).reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'served-plan'") == "applied"
    run = _run(server["warehouse"], done["run_id"])
    assert run["status"] == "ok" and run["verified"]
