"""Where output goes: results on stdout (JSON with --json), messages and progress on stderr.

Colour follows the terminal: none when the stream is not a TTY or `NO_COLOR` is set.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from rich.console import Console


def _color_system() -> Literal["auto"] | None:
    return None if os.environ.get("NO_COLOR") else "auto"


@cache
def out() -> Console:
    """Console for results (stdout); wide when piped, so tables are not squeezed to 80 columns."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return Console(color_system=_color_system(), highlight=False, soft_wrap=False, width=width)


@cache
def err() -> Console:
    """Console for messages, warnings and progress (stderr)."""
    return Console(stderr=True, color_system=_color_system(), highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(payload: Any) -> str:
    return json.dumps(payload, default=_default, indent=2, ensure_ascii=False, allow_nan=False)


def print_json(payload: Any) -> None:
    sys.stdout.write(dumps(payload) + "\n")
    sys.stdout.flush()
