"""Capacity gap speed on the large demo (2,000 AEs, 12 region x segment groups) with 10,000
trials (target: under a second), and what its parts cost."""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from bench.report import table, write_section

TRIALS = 10_000
REPEATS = 5


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> None:
    from tools.capacity import cohort, evaluate, tool
    from tools.capacity.assumptions import History, estimate
    from tools.capacity.models import CapacityInput
    from warehouse.connection import Warehouse
    from warehouse.create import create_warehouse
    from warehouse.identity import Scope

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "large.duckdb"
        create_warehouse(path, demo="large", seed=7, as_of=date(2026, 11, 29))
        wh = Warehouse(path)
        params = CapacityInput(trials=TRIALS)
        first = _timed(lambda: tool.run_capacity(wh, params))
        warm = [_timed(lambda: tool.run_capacity(wh, params)) for _ in range(REPEATS)]
        result = tool.run_capacity(wh, params)
        m = result.metrics
        label = f"{m['headcount_now']:,} AEs, {len(result.tables['groups'])} groups, {m['hires_needed']} hires planned"
        rows.append([f"whole tool, first call in the process ({label})", f"{first:.2f} s"])
        rows.append([f"whole tool, median of {REPEATS} further calls", f"{statistics.median(warm):.2f} s"])
        what_if = CapacityInput(trials=TRIALS, attrition=0.3, ramp_months=6)
        rows.append(
            ["whole tool with a what-if (baseline run too)", f"{_timed(lambda: tool.run_capacity(wh, what_if)):.2f} s"]
        )

        data = tool.load(wh, params, Scope.everything())
        rows.append(
            ["  load (SQL + data fingerprint)", f"{_timed(lambda: tool.load(wh, params, Scope.everything())):.2f} s"]
        )
        people = tool._people(data, set())
        groups = tool._groups(data, people)
        history = History(data.as_of, data.calendar, data.aes, data.rep_months, data.scope_months, data.win_rates)
        rows.append(
            ["  estimate assumptions from history", f"{_timed(lambda: estimate(params, history, groups, {})):.2f} s"]
        )
        assumptions = estimate(params, history, groups, {})
        horizon = evaluate.Horizon.of(data.as_of, data.calendar, data.period)
        team, _, _ = evaluate.build_team(horizon, assumptions, people, params)
        months = team.months
        rows.append(
            [
                f"  Monte Carlo kernel ({TRIALS:,} trials x {team.groups} groups x {months} months)",
                f"{_timed(lambda: cohort.simulate(team, TRIALS, 0)):.2f} s",
            ]
        )
        start = time.perf_counter()
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("spm")), "-w", str(path), "capacity", "gap", "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
        process = time.perf_counter() - start
        if proc.returncode == 0:
            rows.append(["`spm capacity gap --json` as a fresh process (imports included)", f"{process:.2f} s"])
    md = "## Capacity gap speed\n\nTarget: under a second on the large demo with 10,000 trials.\n\n"
    md += table(["work", "time"], rows)
    write_section("capacity_speed", md)


if __name__ == "__main__":
    run()
