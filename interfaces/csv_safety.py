"""CSV files spm writes from user data, safe to open in a spreadsheet.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel, LibreOffice
and Google Sheets as a formula: a rejected value such as `=HYPERLINK("http://x","y")` taken from
an imported file would run when the rejects file is opened. Following OWASP's CSV-injection
guidance, such a text cell is written with a leading single quote (`'=HYPERLINK(...)`), which the
spreadsheet shows as text. This applies to every text cell, including ones that look like negative
numbers (`-5` becomes `'-5`): in a text column they are data as the user typed it, not numbers we
may reformat. Numeric columns (row numbers, counts) are left as numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """`value` as a CSV cell no spreadsheet runs: a text starting like a formula gets a `'`."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise_row(values: Iterable[object]) -> list[object]:
    """Every cell of a `csv.writer` row through `neutralise` (numbers pass unchanged)."""
    return [neutralise(v) for v in values]


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells are neutralised; numeric columns keep their type."""
    from pandas.api.types import is_numeric_dtype

    safe = frame.copy()
    for name in safe.columns:
        if not is_numeric_dtype(safe[name]):  # object and string columns hold the user's text
            safe[name] = safe[name].map(neutralise)
    return safe


def frame_to_csv(frame: pd.DataFrame) -> str:
    """`frame` as CSV text (no index), every text cell neutralised."""
    text: str = safe_frame(frame).to_csv(index=False)
    return text
