"""Reading import files into chunks of strings, each row tagged with its row number.

CSV is read with the standard `csv` module because it reports exact line numbers (also for
quoted fields spanning lines) and lets ragged rows be rejected one by one instead of failing
the file. Values stay strings here; typing and validation happen in `validate.py`.
Row numbers follow spreadsheets: the header is row 1, the first data row is row 2. Parquet
rows are numbered from 1.
"""

from __future__ import annotations

import csv
import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from warehouse.errors import InputError

CHUNK_ROWS = 200_000
_DELIMITERS = (",", ";", "\t", "|")
MAX_FIELD_CHARS = 65_536  # a longer field is a broken file (an unclosed quote), not data
csv.field_size_limit(MAX_FIELD_CHARS)


@dataclass
class RawChunk:
    frame: pd.DataFrame  # one column per header name, values str or None
    rows: np.ndarray  # row number of each frame row
    ragged: list[tuple[int, str]] = field(default_factory=list)  # (row, reason): rejected rows


@dataclass
class RawFile:
    path: Path
    columns: list[str]
    chunks: Iterator[RawChunk]


def normalize_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def check_header(path: Path, header: list[str], normalize: bool) -> list[str]:
    """The header's column names (normalised when asked); an empty or repeated name is an error."""
    names = [normalize_header(h) if normalize else h.strip() for h in header]
    seen: set[str] = set()
    for name in names:
        if not name:
            raise InputError(f"{path.name}: the header has an empty column name.", "Name every column.")
        if name in seen:
            raise InputError(f"{path.name}: the header names column {name!r} twice.", "Rename or remove one.")
        seen.add(name)
    return names


def _open_text(path: Path) -> tuple[TextIO, str]:
    """The file opened as UTF-8 text (a BOM is skipped) and its first line."""
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
        return handle, handle.readline()
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}).",
            "Save the file as UTF-8 (CSV UTF-8 in Excel) and import it again.",
        ) from exc
    except OSError as exc:
        raise InputError(f"Cannot read {path}: {exc.strerror}.") from exc


def sniff_csv(path: Path) -> tuple[list[str], str] | None:
    """The header row and the delimiter (the most frequent of , ; tab | in the first line);
    None for an empty file."""
    handle, first = _open_text(path)
    with handle:
        if not first.strip():
            return None
        delimiter = max(_DELIMITERS, key=first.count)
        handle.seek(0)
        if handle.read(1) != "\ufeff":
            handle.seek(0)
        try:
            return next(csv.reader(handle, delimiter=delimiter)), delimiter
        except csv.Error as exc:
            raise InputError(f"{path.name}: the header row is not valid CSV ({exc}).") from exc


def read_csv(path: Path, *, normalize: bool = True, chunk_rows: int = CHUNK_ROWS) -> RawFile:
    """Open a CSV file; the chunks are read lazily. `normalize` lower-cases header names."""
    handle, first = _open_text(path)
    if not first.strip():
        handle.close()
        return RawFile(path, [], iter(()))
    delimiter = max(_DELIMITERS, key=first.count)
    handle.seek(0)
    if handle.read(1) != "\ufeff":
        handle.seek(0)
    reader = csv.reader(handle, delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        handle.close()
        raise InputError(f"{path.name}: the header row is not valid CSV ({exc}).") from exc
    columns = check_header(path, header, normalize)
    return RawFile(path, columns, _csv_chunks(path, handle, reader, columns, chunk_rows))


def _clean(values: tuple[str, ...]) -> np.ndarray:
    """Strip spaces; an empty field is missing (None)."""
    return np.array([v.strip() or None for v in values], dtype=object)


def _csv_chunks(path: Path, handle, reader, columns: list[str], chunk_rows: int) -> Iterator[RawChunk]:
    width = len(columns)
    try:
        while True:
            records: list[list[str]] = []
            rows: list[int] = []
            ragged: list[tuple[int, str]] = []
            # Millions of short-lived lists would trigger the cyclic garbage collector over
            # and over while nothing here forms a cycle: pausing it triples reading speed.
            gc_was_enabled = gc.isenabled()
            gc.disable()
            try:
                for record in reader:
                    if not record or not "".join(record).strip():
                        continue  # blank line
                    if len(record) != width:
                        ragged.append((reader.line_num, f"has {len(record)} fields, the header has {width}"))
                    else:
                        records.append(record)
                        rows.append(reader.line_num)
                    if len(records) + len(ragged) >= chunk_rows:
                        break
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"{path.name} is not UTF-8 text (near row {reader.line_num + 1}).",
                    "Save the file as UTF-8 (CSV UTF-8 in Excel) and import it again.",
                ) from exc
            except csv.Error as exc:
                raise InputError(
                    f"{path.name}, row {reader.line_num}: malformed CSV ({exc}).",
                    "Check for an unbalanced quote near that row.",
                ) from exc
            finally:
                if gc_was_enabled:
                    gc.enable()
            if not records and not ragged:
                return
            if records:
                frame = pd.DataFrame(
                    {name: _clean(col) for name, col in zip(columns, zip(*records, strict=True), strict=True)}
                )
            else:
                frame = pd.DataFrame(columns=columns, dtype=object)
            yield RawChunk(frame=frame, rows=np.asarray(rows, dtype=np.int64), ragged=ragged)
    finally:
        handle.close()


def read_parquet(path: Path, *, normalize: bool = True) -> RawFile:
    """Read a Parquet file (through a private DuckDB connection) as strings."""
    import duckdb

    try:
        frame = duckdb.connect().execute("SELECT * FROM read_parquet(?)", [str(path)]).df()
    except duckdb.Error as exc:
        raise InputError(f"{path.name} is not a readable Parquet file ({exc}).") from exc
    columns = check_header(path, list(frame.columns), normalize)
    frame.columns = columns
    text = pd.DataFrame(index=frame.index)
    for name in columns:
        col = frame[name]
        if pd.api.types.is_datetime64_any_dtype(col):
            as_text = col.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_bool_dtype(col):
            as_text = col.map({True: "true", False: "false"})
        else:
            as_text = col.astype(str)
        text[name] = as_text.where(col.notna(), None)
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    chunks = (
        RawChunk(text.iloc[i : i + CHUNK_ROWS].reset_index(drop=True), rows[i : i + CHUNK_ROWS])
        for i in range(0, len(text), CHUNK_ROWS)
    )
    return RawFile(path, columns, chunks)


def read_file(path: Path, *, normalize: bool = True) -> RawFile:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return read_parquet(path, normalize=normalize)
    if suffix in (".csv", ".txt", ".tsv"):
        return read_csv(path, normalize=normalize)
    if suffix == ".xlsx":
        from warehouse.importers.spreadsheet import read_xlsx  # imported here: spreadsheet imports this module

        return read_xlsx(path, normalize=normalize)
    raise InputError(f"{path.name}: unsupported file type {suffix!r}.", "Use .csv or .parquet files.")
