"""`spm ask` and `spm chat` as a new user meets them: a fresh process per question on the small
demo, wall time from exec to exit (imports, warehouse open, planner, tools, audit, memory).

Side by side in the same run: SPM_CACHE_DIR warm (the trained classifier, and the series fits
earlier processes stored, as every process after the first sees them) and cold (an empty cache
folder per process, so each one trains the classifier and fits every series: the behaviour
before the caches). Targets (issue 17):
p50 under 1.5 s for KPI questions, under 5 s for a forecast, the chat's first answer under 2 s.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.report import table, write_section

KPI = (
    "What's pipeline this quarter in EMEA?",
    "Win rate by segment last quarter",
    "What did we book last quarter by region?",
    "Who is below 50% attainment last quarter?",
)
FORECAST = ("Forecast next quarter's bookings by region", "Forecast EMEA next quarter")
ROUNDS = 3


def _timed(command: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, timeout=600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed: {done.stderr[-500:]}")
    return elapsed


def run() -> None:
    from warehouse.create import create_warehouse

    spm = str(Path(sys.executable).with_name("spm"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        create_warehouse(folder / "small.duckdb", demo="small", seed=7, as_of=date(2026, 11, 29))
        base = {**os.environ, "SPM_WAREHOUSE": str(folder / "small.duckdb"), "NO_COLOR": "1"}
        base |= {"SPM_MEMORY_DIR": str(folder / "memory"), "SPM_THREADS_DB": str(folder / "threads.sqlite")}
        warm = {**base, "SPM_CACHE_DIR": str(folder / "cache")}
        _timed([spm, "ask", "help"], warm)  # fills the cache, as a user's first question does
        results: dict[str, dict[str, list[float]]] = {"warm": {}, "cold": {}}
        for round_ in range(ROUNDS):
            for kind, questions in (("KPI", KPI), ("forecast", FORECAST)):
                for q in questions:
                    cold = {**base, "SPM_CACHE_DIR": str(folder / f"cold-{round_}-{abs(hash(q))}")}
                    results["warm"].setdefault(kind, []).append(_timed([spm, "ask", q], warm))
                    results["cold"].setdefault(kind, []).append(_timed([spm, "ask", q], cold))
            chat_input = f"{KPI[0]}\n/exit\n"
            results["warm"].setdefault("chat, first answer", []).append(_timed([spm, "chat"], warm, chat_input))
            cold = {**base, "SPM_CACHE_DIR": str(folder / f"cold-chat-{round_}")}
            results["cold"].setdefault("chat, first answer", []).append(_timed([spm, "chat"], cold, chat_input))
    targets = {"KPI": 1.5, "forecast": 5.0, "chat, first answer": 2.0}
    rows = []
    for kind, target in targets.items():
        w, c = results["warm"][kind], results["cold"][kind]
        rows.append(
            [
                kind,
                len(w),
                f"{statistics.median(w):.2f} s",
                f"{max(w):.2f} s",
                f"{statistics.median(c):.2f} s",
                f"< {target:g} s",
                "met" if statistics.median(w) < target else "NOT met",
            ]
        )
    md = "## `spm ask` and `spm chat` in a fresh process (small demo)\n\n"
    md += (
        "Wall time per process, from exec to exit. Warm: SPM_CACHE_DIR holds the planner's trained "
        "classifier and the series fits earlier processes stored (every process after the first); cold: "
        "an empty cache per process (each trains the classifier and fits every series, the behaviour "
        f"before the caches), measured in the same run. {ROUNDS} rounds.\n\n"
    )
    md += table(["questions", "runs", "warm p50", "warm max", "cold p50 (baseline)", "target", "p50"], rows)
    write_section("ask_latency", md)


if __name__ == "__main__":
    run()
