"""Forecast speed: all region x segment series of the medium demo plus the pipeline Monte Carlo
with 10,000 trials (target: under 10 s), in-process after imports and as a fresh `spm` process."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.report import table, write_section


def run() -> None:
    from tools.forecast import load, pipeline, timeseries
    from tools.forecast.load import TRAINING_DEALS_PER_CELL
    from tools.forecast.models import ForecastInput
    from tools.forecast.tool import run_forecast
    from warehouse.create import create_warehouse

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "medium.duckdb"
        wh = create_warehouse(path, demo="medium", seed=7, as_of=date(2026, 11, 29))
        for grain, horizon in (("quarter", 4), ("month", 6)):
            params = ForecastInput(by=["region", "segment"], grain=grain, horizon=horizon, trials=10_000)
            pipeline.clear_cache()  # a cold start: no win models, series fits or snapshots remembered
            timeseries.clear_cache()
            load.clear_cache()
            start = time.perf_counter()
            result = run_forecast(wh, params)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            run_forecast(wh, params)
            warm = time.perf_counter() - start
            spm = Path(sys.executable).with_name("spm")
            start = time.perf_counter()
            subprocess.run(
                [
                    str(spm),
                    "-w",
                    str(path),
                    "forecast",
                    "--by",
                    "region,segment",
                    "--grain",
                    grain,
                    "--horizon",
                    str(horizon),
                    "--json",
                ],
                check=True,
                capture_output=True,
            )
            process = time.perf_counter() - start
            series = len({(r["region"], r["segment"]) for r in result.tables["forecast"]})
            sample = result.metrics["win_model"]["deal_sample"]
            rows.append([grain, horizon, series, f"{cold:.1f} s", f"{warm:.1f} s", f"{process:.1f} s"])
    md = "## Forecast speed (medium demo, `--by region,segment`, 10,000 Monte Carlo trials)\n\n"
    md += (
        f"First run fits every region x segment cell's series and trains its win model (on the snapshots of up to "
        f"{TRAINING_DEALS_PER_CELL:,} deals per cell, here at most 1 in {sample}; the pipeline Monte Carlo uses every "
        "open deal); a "
        "repeated run reuses them (snapshots and win models cached per data fingerprint, as-of and cell; fits "
        "per series). "
        "`spm` process = a fresh CLI process, imports included (the model libraries import while the "
        "warehouse loads). Target: under 10 s.\n\n"
    )
    md += table(["grain", "horizon", "series", "first run", "repeat run", "spm process"], rows)
    write_section("forecast_speed", md)


if __name__ == "__main__":
    run()
