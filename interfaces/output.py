"""Where output goes: results on stdout (JSON with --json), messages and progress on stderr.

Colour follows the terminal: none when the stream is not a TTY or `NO_COLOR` is set.

Text from data (account and rep names, notes, imported cells, model answers) can hold terminal
control sequences: an ANSI escape that clears the screen or rewrites earlier lines, a bidi
override that shows "tnuocca" as "account". Everything printed for people goes through
`terminal_safe`, which writes such characters as visible escapes (`\\x1b`, `\\u202e`); the
consoles apply it to every piece of text they render, leaving their own styling intact.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.segment import Segment

# C0 controls but tab and newline, DEL, C1 controls, and the bidi embeddings, overrides, isolates and marks.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """`text` with every character that could control a terminal written as a visible escape."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", text)


class SafeConsole(Console):
    """A rich Console whose rendered text cannot carry control sequences (its own styles still apply).

    Strings are made safe before rich measures them (so table columns fit the visible escapes);
    every rendered segment again on the way out (text built as rich `Text` elsewhere)."""

    def render_str(self, text: str, **kwargs: Any) -> Any:
        return super().render_str(terminal_safe(text), **kwargs)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        return super()._render_buffer(
            Segment(terminal_safe(text), style, control) if control is None else Segment(text, style, control)
            for text, style, control in buffer
        )


def _color_system() -> Literal["auto"] | None:
    return None if os.environ.get("NO_COLOR") else "auto"


@cache
def out() -> Console:
    """Console for results (stdout); wide when piped, so tables are not squeezed to 80 columns."""
    width = None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160
    return SafeConsole(color_system=_color_system(), highlight=False, soft_wrap=False, width=width)


@cache
def err() -> Console:
    """Console for messages, warnings and progress (stderr)."""
    return SafeConsole(stderr=True, color_system=_color_system(), highlight=False, soft_wrap=True)


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
