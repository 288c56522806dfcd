"""Demo company generation time and peak memory per size (target: large under 2 minutes).

Each size is built in a fresh process so its peak resident memory is its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.report import table, write_section

CHILD = """
import json, resource, sys, time
from datetime import date
from warehouse.create import create_warehouse
start = time.perf_counter()
wh = create_warehouse(sys.argv[2], demo=sys.argv[1], seed=7, as_of=date(2026, 11, 29))
seconds = time.perf_counter() - start
with wh.reader() as cur:
    counts = {t: cur.scalar(f"SELECT count(*) FROM {t}") for t in
              ("accounts", "reps", "opportunities", "opportunity_history", "bookings")}
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "rss_mb": rss, "counts": counts}))
"""


def run(sizes: tuple[str, ...] = ("small", "medium", "large")) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"{size}.duckdb"
            out = subprocess.run(
                [sys.executable, "-c", CHILD, size, str(path)],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            c = r["counts"]
            rows.append(
                [
                    size,
                    f"{c['accounts']:,}",
                    f"{c['reps']:,}",
                    f"{c['opportunities']:,}",
                    f"{c['opportunity_history']:,}",
                    f"{c['bookings']:,}",
                    f"{r['seconds']:.1f} s",
                    f"{r['rss_mb']:,.0f} MB",
                    f"{path.stat().st_size / 1e6:,.0f} MB",
                ]
            )
    md = "## Demo company generation (`spm data init --demo --size S`)\n\n"
    md += "Target: large builds in under 2 minutes.\n\n"
    md += table(
        [
            "size",
            "accounts",
            "reps",
            "opportunities",
            "history rows",
            "bookings",
            "time",
            "peak RSS",
            "file",
        ],
        rows,
    )
    write_section("generation", md)


if __name__ == "__main__":
    run(tuple(sys.argv[1:]) or ("small", "medium", "large"))
