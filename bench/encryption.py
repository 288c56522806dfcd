"""Encryption at rest: what an encrypted warehouse (SPM_WAREHOUSE_KEY) costs.

The same small demo company is built plain and encrypted; then the same reads run on both:
the data summary, a metrics query through the tool, and a full forecast by region. Reported:
build time, file size, the query times, and whether any account name appears in the file.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

from bench.report import table, write_section
from warehouse.connection import Warehouse

KEY = "bench-key-not-secret"


def _timed(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> None:
    from tools.forecast.models import ForecastInput
    from tools.forecast.tool import run_forecast
    from tools.metrics.models import MetricsInput
    from tools.metrics.tool import run_metrics
    from warehouse.create import create_warehouse
    from warehouse.summary import summarize

    metrics = MetricsInput(metric="bookings", by=["region", "segment"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = create_warehouse(Path(tmp) / "warm-up.duckdb", demo="small", seed=7, as_of=date(2026, 11, 29))
        run_forecast(warm, ForecastInput(by=["region"], trials=2000))  # imports and first-call costs
        for label, key in (("plain", None), ("encrypted", KEY)):
            path = Path(tmp) / f"{label}.duckdb"
            start = time.perf_counter()
            wh = create_warehouse(path, demo="small", seed=7, as_of=date(2026, 11, 29), key=key)
            build = time.perf_counter() - start
            with wh.reader() as cur:
                names = [r[0] for r in cur.execute("SELECT name FROM accounts LIMIT 200").fetchall()]
            blob = path.read_bytes()
            leaked = sum(name.encode() in blob for name in names)

            def summary(wh: Warehouse = wh) -> None:
                with wh.reader() as cur:
                    summarize(cur, date(2026, 11, 29), wh.calendar())

            rows.append(
                [
                    label,
                    f"{build:.1f} s",
                    f"{path.stat().st_size / 1e6:.0f} MB",
                    f"{_timed(summary) * 1000:.0f} ms",
                    f"{_timed(partial(run_metrics, wh, metrics)) * 1000:.0f} ms",
                    f"{_timed(partial(run_forecast, wh, ForecastInput(by=['region'], trials=2000)), 1):.1f} s",
                    f"{leaked} of {len(names)}",
                ]
            )
    md = "## Encryption at rest (small demo, plain vs `SPM_WAREHOUSE_KEY`)\n\n"
    md += (
        "Same company, built plain and encrypted (DuckDB AES-GCM via the httpfs extension's OpenSSL). "
        "Query times are the best of 3 (forecast: one run, 2,000 trials). `names in file` counts account "
        "names found as plain bytes in the file (DuckDB may compress a string column, so how many a plain file "
        "shows varies; its catalog of tables and columns is always readable).\n\n"
    )
    md += table(
        ["warehouse", "build", "file size", "data summary", "metrics query", "forecast by region", "names in file"],
        rows,
    )
    write_section("encryption", md)


if __name__ == "__main__":
    run()
