"""Import throughput: a 1-million-row opportunities CSV into the medium demo warehouse.

Rows are resampled from the medium demo's own opportunities (new ids, the same accounts), so
every row passes the reference checks; a second run of the same file measures the update path.
The baselines, measured in the same run on the same file: DuckDB's bare `read_csv` (parse
only) and a bare `INSERT ... SELECT * FROM read_csv` into a copy of the warehouse (no checks).
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from bench.report import table, write_section
from warehouse.connection import Warehouse
from warehouse.create import create_warehouse
from warehouse.importers import import_files

ROWS = 1_000_000
REPEATS = 3
LABELS = (
    "baseline: bare `read_csv` (parse only)",
    "baseline: bare `INSERT ... read_csv` (no checks)",
    "first import (insert)",
    "same file again (update)",
)


def run() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "medium.duckdb"
        create_warehouse(path, demo="medium", seed=7, as_of=date(2026, 11, 29))
        csv = Path(tmp) / "opportunities.csv"
        con = duckdb.connect(str(path), read_only=True)
        (n,) = con.execute("SELECT count(*) FROM opportunities").fetchone() or (0,)
        con.execute(
            f"""COPY (
                SELECT 'X-' || lpad(CAST(i AS VARCHAR), 8, '0') AS opp_id, o.account_id, o.name,
                       o.owner_rep_id, o.product, o.type, o.created_date, o.close_date, o.stage,
                       o.amount, o.is_closed, o.is_won, o.forecast_category, o.lost_reason,
                       o.push_count, o.stage_changed_date
                FROM range({ROWS}) r(i)
                JOIN (SELECT *, row_number() OVER (ORDER BY opp_id) - 1 AS k FROM opportunities) o
                  ON o.k = i % {n}
            ) TO '{csv}' (HEADER)"""
        )
        con.close()
        size_mb = csv.stat().st_size / 1e6
        runs: dict[str, list[float]] = {label: [] for label in LABELS}
        for _ in range(REPEATS):  # interleaved, so a slow spell of the machine hits every row alike
            start = time.perf_counter()
            duckdb.connect().execute(f"SELECT count(*) FROM read_csv('{csv}', all_varchar = true)").fetchall()
            runs[LABELS[0]].append(time.perf_counter() - start)
            copy = Path(tmp) / "copy.duckdb"
            shutil.copy(path, copy)
            con = duckdb.connect(str(copy))
            start = time.perf_counter()
            con.execute(f"INSERT INTO opportunities BY NAME SELECT * FROM read_csv('{csv}')")
            runs[LABELS[1]].append(time.perf_counter() - start)
            con.close()
            shutil.copy(path, copy)
            wh = Warehouse(copy, writable=True)
            for label in LABELS[2:]:
                start = time.perf_counter()
                report = import_files(wh, [csv])
                runs[label].append(time.perf_counter() - start)
                assert report.rejected == 0 and report.loaded == ROWS
        rows = [_row(label, size_mb, runs[label]) for label in LABELS]
    md = "## Import throughput (`spm data import opportunities.csv`)\n\n"
    md += "1,000,000 opportunity rows (16 columns) into the medium demo warehouse, "
    md += "one transaction.\n\n"
    md += table(["run", "rows", "file", f"time (median of {REPEATS})", "range", "rows/s"], rows)
    md += (
        "\n\nThe file is parsed by DuckDB's reader into a private workspace, typed and checked there in "
        "SQL (only the distinct values SQL cannot read, such as `$1,234.50` or member names, go "
        "through Python), and the loadable rows are handed to the warehouse as Arrow. Files whose "
        "row numbers DuckDB cannot give exactly (quoted line breaks, blank lines) are read with "
        "Python's `csv` module instead, about 40,000 rows/s. Target: under 5 s for the first import. "
        "Where a first import's time goes (cProfile, one run at 4.8 s): staging the file 1.1 s (DuckDB "
        "parses and stores 16 text columns), the fast-path tests and distinct-value lookups 0.5 s, "
        "typing 0.6 s, reference and key rules 0.5 s, Arrow hand-over 0.4 s, the warehouse insert "
        "(primary-key index) 1.2 s and its commit 0.5 s; the last two are what the bare INSERT "
        "baseline pays too. This machine's speed varies by up to 40% between runs, hence the "
        "median and range. Reproduce: `python -m bench import`."
    )
    write_section("import", md)


def _row(label: str, size_mb: float, seconds: list[float]) -> list[str]:
    median = statistics.median(seconds)
    spread = f"{min(seconds):.1f}-{max(seconds):.1f} s"
    return [label, f"{ROWS:,}", f"{size_mb:,.0f} MB", f"{median:.1f} s", spread, f"{ROWS / median:,.0f}"]


if __name__ == "__main__":
    run()
