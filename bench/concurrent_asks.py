"""Load test (issue 18 item 5): N `spm ask` processes started at once on one warehouse.

Small demo, warm SPM_CACHE_DIR (one question asked first, as a user's first question fills
it), KPI questions in rotation. Side by side in the same run: the default lock timeout and a
long one (SPM_LOCK_TIMEOUT=300). For each: how many processes answered, how many failed on
the warehouse lock, any other failure, the wall time until the last one exited, how many
runs the audit trail holds afterwards (the journals the asks could not import themselves are
imported first, as any `spm audit` command does; their count is shown) and whether
`spm audit verify` passes over all of them.
Target: every process answers under the default timeout, every run recorded and verified.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.report import table, write_section

QUESTIONS = (
    "What's pipeline this quarter in EMEA?",
    "Win rate by segment last quarter",
    "What did we book last quarter by region?",
    "Who is below 50% attainment last quarter?",
)
PROCESSES = 50
LOCKED = "in use by another process"


def _load(spm: str, env: dict[str, str], count: int) -> dict[str, float | int]:
    start = time.perf_counter()
    procs = [
        subprocess.Popen(
            [spm, "ask", QUESTIONS[i % len(QUESTIONS)]],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(count)
    ]
    ok = locked = other = 0
    for proc in procs:
        _, err = proc.communicate(timeout=1800)
        if proc.returncode == 0:
            ok += 1
        elif LOCKED in err:
            locked += 1
        else:
            other += 1
            print(f"ask failed ({proc.returncode}): {err.strip()[-300:]}", file=sys.stderr)
    return {"ok": ok, "locked": locked, "other": other, "wall_s": time.perf_counter() - start}


def _trail(path: Path) -> tuple[int, bool, int, int]:
    """Runs in the trail, whether it all verifies, how many journals were left to import, and
    how many runs could not use the memory store (recall or remembering the decision)."""
    from warehouse import audit, audit_journal
    from warehouse.connection import Warehouse

    wh = Warehouse(path, writable=True)
    left = len(audit_journal.pending(wh))
    audit_journal.drain(wh, None)
    with wh.reader() as cur:
        runs = int(cur.scalar("SELECT count(*) FROM audit_runs"))
        verified = all(v.ok for v in audit.verify_all(cur))
        memory = int(
            cur.scalar("SELECT count(DISTINCT run_id) FROM audit_steps WHERE kind = 'error' AND name = 'memory'")
        )
    return runs, verified, left, memory


def _decisions(folder: Path) -> int:
    """Decisions the store holds once the ones still pending are stored (the first ask's included)."""
    from memory.store import MemoryStore
    from warehouse.identity import LOCAL_USER

    store = MemoryStore(folder)
    store.flush()
    return len(store.list(LOCAL_USER, kind="decision", limit=10_000))


def run() -> None:
    from warehouse.create import create_warehouse

    spm = str(Path(sys.executable).with_name("spm"))
    rows = []
    for label, timeout in (("default (10 s)", None), ("SPM_LOCK_TIMEOUT=300", "300")):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            path = folder / "small.duckdb"
            create_warehouse(path, demo="small", seed=7, as_of=date(2026, 11, 29))
            env = {**os.environ, "SPM_WAREHOUSE": str(path), "NO_COLOR": "1", "SPM_CACHE_DIR": str(folder / "cache")}
            env |= {"SPM_MEMORY_DIR": str(folder / "memory"), "SPM_THREADS_DB": str(folder / "threads.sqlite")}
            if timeout is not None:
                env["SPM_LOCK_TIMEOUT"] = timeout
            subprocess.run([spm, "ask", QUESTIONS[0]], env=env, capture_output=True, check=True, timeout=600)
            before, _, _, _ = _trail(path)
            got = _load(spm, env, PROCESSES)
            after, verified, left, memory = _trail(path)
            decisions = _decisions(folder / "memory")
            rows.append(
                [
                    label,
                    PROCESSES,
                    got["ok"],
                    got["locked"],
                    got["other"],
                    f"{got['wall_s']:.0f} s",
                    after - before,
                    left,
                    memory,
                    decisions,
                    "yes" if verified else "NO",
                ]
            )
    headers = ["lock timeout", "processes", "answered", "lock error", "other error", "wall", "runs recorded",
               "left journaled", "memory missed", "decisions stored", "trail verifies"]  # fmt: skip
    write_section(
        "concurrent_asks",
        "## Load: concurrent `spm ask` processes on one warehouse (issue 18 item 5)\n\n"
        + table(headers, rows)
        + "\n\nEach ask holds the warehouse read-only for its run (DuckDB lets many processes read a file "
        "at once) and journals its audit trail beside it (warehouse/audit_journal.py); when it finishes it "
        "imports every finished journal if no other process holds the file at that moment, else leaves them "
        'to the next one ("left journaled": imported at the end by the first `spm audit` command, as here). '
        '"Memory missed": runs whose recall or remembered decision failed on the memory store\'s lock (the '
        'answer is then given without it, and the trail says so); "decisions stored": the decisions the memory '
        "store holds afterwards, the warm-up ask's included (51 when none is lost). "
        "Reproduce: `python -m bench concurrent_asks`.",
    )
