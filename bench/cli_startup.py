"""CLI start-up time: `spm --version` and `spm --help` (target: well under a second)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.report import table, write_section

RUNS = 10


def run() -> None:
    spm = Path(sys.executable).with_name("spm")
    rows = []
    for args in (["--version"], ["--help"], ["data", "--help"]):
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            subprocess.run([str(spm), *args], capture_output=True, check=True)
            times.append(time.perf_counter() - start)
        rows.append(
            [
                f"`spm {' '.join(args)}`",
                f"{statistics.median(times) * 1000:.0f} ms",
                f"{max(times) * 1000:.0f} ms",
            ]
        )
    md = "## CLI start-up\n\nWall time of a fresh process, median and worst of 10 runs. "
    md += "Target: well under 1 s.\n\n"
    md += table(["command", "median", "worst"], rows)
    write_section("cli_startup", md)


if __name__ == "__main__":
    run()
