"""Staging an import file: its cells as text, each row tagged with its spreadsheet row number.

CSV files are parsed by DuckDB's own reader into a table of the import's workspace: a private
in-memory connection (the warehouse's connection has file access disabled), where the rows
are also typed and checked before the loadable ones are handed to the warehouse. DuckDB does not say
which line a good row came from, so the row numbers are derived: when the file has exactly one
line per record (header + loaded + rejected = lines in the file: no quoted line breaks, no
blank lines), the k-th good row is on the k-th line that was not rejected. Any file where that
does not hold, or that DuckDB rejects for anything but a wrong field count, is read again with
Python's `csv` module (`reading.py`), which numbers every row exactly, so row numbers are
always the spreadsheet's (header = row 1). Parquet files are read by DuckDB too (rows from 1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from warehouse.errors import InputError
from warehouse.importers.reading import MAX_FIELD_CHARS, RawChunk, check_header, read_file, sniff_csv
from warehouse.importers.validate import temp_name


@dataclass
class Staged:
    """One file's cells: table `source` of the import's workspace connection has `_row` and one
    text column per header (named `c0`, `c1`...)."""

    source: str  # a table or a query, used as `FROM {source} s`
    columns: dict[str, str]  # header name -> column of `source`
    read: int  # rows read, ragged ones included
    ragged: list[tuple[int, str]] = field(default_factory=list)  # (row, reason): rejected on read
    tables: list[str] = field(default_factory=list)  # workspace tables to drop once the file is loaded


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _line_count(path: Path) -> int:
    """Physical lines in the file, a last line without a newline included."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while block := handle.read(1 << 24):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


_FIELDS = re.compile(r"Found: (\d+)")


def _scalar(work: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = work.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _stage_csv_with_duckdb(
    work: duckdb.DuckDBPyConnection, path: Path, header: list[str], delimiter: str, names: list[str]
) -> Staged | None:
    """The fast path; None when the row numbers could not be exact (see the module docstring).

    The rows are copied into a workspace table in file order (DuckDB keeps insertion order, so
    `rowid` is the k-th good row). No row number is computed while reading: a window function
    would make the read single-threaded."""
    width = len(header)
    columns = "{" + ", ".join(f"{_sql_text(f'c{i}')}: 'VARCHAR'" for i in range(width)) + "}"
    name = temp_name("staged")
    try:
        work.execute(
            f"""CREATE TABLE {name} AS SELECT *
                FROM read_csv({_sql_text(str(path))}, columns = {columns}, header = true,
                              delim = {_sql_text(delimiter)}, quote = '"', escape = '"',
                              auto_detect = false, strict_mode = true, store_rejects = true,
                              rejects_table = '{name}_errors', rejects_scan = '{name}_scans',
                              max_line_size = {4 * MAX_FIELD_CHARS * max(width, 1)})"""
        )
        try:
            rejects = work.execute(
                f"SELECT line, error_type, error_message FROM {name}_errors ORDER BY line"
            ).fetchall()
        except duckdb.CatalogException:
            rejects = []  # DuckDB creates the rejects table only when something was rejected
    except duckdb.Error:
        work.execute(f"DROP TABLE IF EXISTS {name}")
        return None  # an unbalanced quote, bad UTF-8, a huge field: the exact reader explains it
    finally:
        work.execute(f"DROP TABLE IF EXISTS {name}_errors")
        work.execute(f"DROP TABLE IF EXISTS {name}_scans")
    good = _scalar(work, f"SELECT count(*) FROM {name}")
    ragged_lines = sorted({int(line) for line, _, _ in rejects})
    if any(kind not in ("TOO MANY COLUMNS", "MISSING COLUMNS") for _, kind, _ in rejects) or (
        1 + good + len(ragged_lines) != _line_count(path)
    ):
        work.execute(f"DROP TABLE {name}")
        return None
    ragged, seen = [], set()
    for line, _, message in rejects:  # one error per missing column: one rejection per line
        if int(line) in seen:
            continue
        seen.add(int(line))
        found = _FIELDS.search(message)
        ragged.append(
            (int(line), f"has {found[1] if found else 'a different number of'} fields, the header has {width}")
        )
    cells = ", ".join(f"c{i}" for i in range(width))
    owned = [name]
    if not ragged_lines:
        source = f"(SELECT rowid + 2 AS _row, {cells} FROM {name})"
    else:  # the k-th good row is on the k-th line that was not rejected
        lines = np.setdiff1d(np.arange(2, good + len(ragged_lines) + 2), ragged_lines)
        work.register(f"{name}_frame", pd.DataFrame({"k": np.arange(good), "line": lines}))
        work.execute(f"CREATE TABLE {name}_lines AS SELECT * FROM {name}_frame")
        work.unregister(f"{name}_frame")
        source = f"(SELECT l.line AS _row, {cells} FROM {name} r JOIN {name}_lines l ON l.k = r.rowid)"
        owned.append(f"{name}_lines")
    return Staged(source, {n: f"c{i}" for i, n in enumerate(names)}, good + len(ragged), ragged, owned)


def stage_chunks(work: duckdb.DuckDBPyConnection, columns: list[str], chunks: Iterable[RawChunk]) -> Staged:
    """Stage rows already read into chunks (Python's reader, a CRM export's mapping)."""
    table = temp_name("staged")
    cells = ", ".join([f"c{i} VARCHAR" for i in range(len(columns))] + ["_row BIGINT"])
    work.execute(f"CREATE TABLE {table} ({cells})")
    ragged: list[tuple[int, str]] = []
    read = 0
    for chunk in chunks:
        ragged.extend(chunk.ragged)
        if len(chunk.frame):
            frame = pd.DataFrame({f"c{i}": chunk.frame[name].to_numpy(dtype=object) for i, name in enumerate(columns)})
            frame["_row"] = np.asarray(chunk.rows, dtype=np.int64)
            work.register(f"{table}_chunk", frame)
            select = ", ".join([f"CAST(c{i} AS VARCHAR)" for i in range(len(columns))] + ["_row"])
            work.execute(f"INSERT INTO {table} SELECT {select} FROM {table}_chunk")
            work.unregister(f"{table}_chunk")
            read += len(frame)
    return Staged(table, {name: f"c{i}" for i, name in enumerate(columns)}, read + len(ragged), ragged, [table])


def _stage_parquet(work: duckdb.DuckDBPyConnection, path: Path, normalize: bool) -> Staged:
    table = temp_name("staged")
    try:
        names = [row[0] for row in work.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()]
        columns = check_header(path, names, normalize)
        cells = ", ".join(
            f"CASE WHEN typeof(\"{n}\") = 'DATE' OR typeof(\"{n}\") LIKE 'TIMESTAMP%' "
            f'THEN strftime(CAST("{n}" AS DATE), \'%Y-%m-%d\') ELSE CAST("{n}" AS VARCHAR) END AS c{i}'
            for i, n in enumerate(n.replace('"', '""') for n in names)
        )
        work.execute(
            f"CREATE TABLE {table} AS SELECT {cells}, CAST(row_number() OVER () AS BIGINT) AS _row "
            "FROM read_parquet(?)",
            [str(path)],
        )
    except duckdb.Error as exc:
        raise InputError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    read = _scalar(work, f"SELECT count(*) FROM {table}")
    return Staged(table, {name: f"c{i}" for i, name in enumerate(columns)}, read, [], [table])


def workspace() -> duckdb.DuckDBPyConnection:
    """The private in-memory connection an import parses and types its files in."""
    return duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )


def stage_file(work: duckdb.DuckDBPyConnection, path: Path, *, normalize: bool = True) -> Staged:
    """Stage a native CSV or Parquet file; `normalize` lower-cases header names."""
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return _stage_parquet(work, path, normalize)
    if suffix in (".csv", ".txt", ".tsv"):
        sniffed = sniff_csv(path)
        if sniffed is None:
            return stage_chunks(work, [], [])
        header, delimiter = sniffed
        names = check_header(path, header, normalize)
        fast = _stage_csv_with_duckdb(work, path, header, delimiter, names)
        if fast is not None:
            return fast
    raw = read_file(path, normalize=normalize)  # the exact reader, or its error for this file
    return stage_chunks(work, raw.columns, raw.chunks)
