"""Reading Excel workbooks (`.xlsx`) into the same strings-per-cell shape as CSV files.

CRM report exports often come as workbooks (Salesforce "Export → Formatted Report", HubSpot
"Export → XLSX"). python-calamine reads them (a Rust reader: fast, no formulas evaluated, the
cached values are used). Cells become the text a CSV export of the same report would hold, so
the validator and the CRM mappers never see Excel types: whole numbers lose Excel's `.0`
(`1250.0` is `1250`, which keeps ids and postal codes intact), dates are ISO `YYYY-MM-DD`,
booleans `true`/`false`, empty cells None. Row numbers are the sheet's row numbers (1-based).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from warehouse.errors import InputError
from warehouse.importers.reading import RawChunk, RawFile, check_header

Row = tuple[int, list[str | None]]  # (sheet row number, cell texts)


def cell_text(value: object) -> str | None:
    """One cell as the text a CSV export would hold; empty is None."""
    if value is None:
        return None
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        # Excel stores every number as a float: 1250.0 is the integer 1250 (an id, a ZIP, a count).
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        # Midnight is a date cell formatted as a date-time; keep the time only when there is one.
        return value.date().isoformat() if value.time() == time(0) else value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time | timedelta):
        return str(value)
    text = str(value).strip()
    return text or None


def sheet_rows(path: Path) -> Iterator[Row]:
    """The non-blank rows of the workbook's first sheet that holds any cell, as text."""
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheets = [workbook.get_sheet_by_index(i) for i in range(len(workbook.sheet_names))]
    except (CalamineError, OSError, ValueError) as exc:
        raise InputError(
            f"{path.name} is not a readable Excel workbook ({exc}).",
            "Open it in Excel and save it as .xlsx (Excel Workbook) or as CSV UTF-8, then import it again.",
        ) from exc
    for sheet in sheets:
        # skip_empty_area=False keeps row 1 at index 0, so row numbers match what Excel shows.
        rows = sheet.to_python(skip_empty_area=False)
        if not any(any(cell not in ("", None) for cell in row) for row in rows):
            continue  # an empty sheet (Salesforce adds none, people do)
        for index, row in enumerate(rows):
            cells = [cell_text(cell) for cell in row]
            if any(c is not None for c in cells):
                yield index + 1, cells
        return


def rows_to_raw(path: Path, header: list[str], rows: list[Row], normalize: bool, pad: bool = True) -> RawFile:
    """A `RawFile` from a header and data rows. Cells beyond the header must be empty, else the
    row is rejected; a short row is padded when `pad` (a spreadsheet's missing trailing cells
    are empty cells), else rejected (a CSV line with fewer fields was cut)."""
    columns = check_header(path, header, normalize)
    width = len(columns)
    records: list[list[str | None]] = []
    numbers: list[int] = []
    ragged: list[tuple[int, str]] = []
    for number, cells in rows:
        extra = [c for c in cells[width:] if c is not None]
        if extra:
            ragged.append((number, f"has {width + len(extra)} filled cells, the header has {width}"))
            continue
        if len(cells) < width and not pad:
            ragged.append((number, f"has {len(cells)} fields, the header has {width}"))
            continue
        records.append(cells[:width] + [None] * (width - len(cells)))
        numbers.append(number)
    frame = pd.DataFrame(records, columns=columns, dtype=object) if records else pd.DataFrame(columns=columns)
    frame = frame.astype(object).where(frame.notna(), None)
    return RawFile(path, columns, iter([RawChunk(frame, np.asarray(numbers, dtype=np.int64), ragged)]))


def read_xlsx(path: Path, *, normalize: bool = True) -> RawFile:
    """A workbook whose first non-empty sheet starts with its header row (the native format)."""
    rows = list(sheet_rows(path))
    if not rows:
        return RawFile(path, [], iter(()))
    _, header_cells = rows[0]
    while header_cells and header_cells[-1] is None:
        header_cells = header_cells[:-1]  # formatted sheets carry empty columns on the right
    return rows_to_raw(path, [c or "" for c in header_cells], rows[1:], normalize)
