"""Grounding check: every number in an answer must come from a tool result or the question.

A number counts as grounded when some figure in the tool results (any numeric field or table
cell, a number written in the tool's own text) or in the question matches it at the precision it is written
with: "$1.2M" matches 1,234,567 (1.2 million to the nearest 0.1M), "14%" matches 0.1416 or
14.2, "+7 pts" (a change of a share) matches 0.07 or 7, "2.6x" matches 2.57. Period names
(FY2027-Q3, Q3, H2, 2026-09), years, dates, record ids (R-00016) and list numbering are not
claims and are skipped. Digits inside data text (an account named "EMEA pipeline is $999M")
are never evidence, wherever the text is repeated (the tool's prose, its rendered message).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

_SKIP = re.compile(
    r"\bFY\s?'?\d{2,4}(?:-[QH][1-4])?\b|\b[QH][1-4]\b|\b\d{4}-\d{2}(?:-\d{2})?\b|\b[A-Z]{1,5}-[\w-]*\d[\w-]*\b"
    r"|^\s*\d+[.)]\s|\bP(?:10|50|80|90)\b",
    re.MULTILINE | re.IGNORECASE,
)
_NUMBER = re.compile(
    r"(?<![\w.-])(\$)?\s?([+-]?\d+(?:,\d{3})*(?:\.\d+)?)\s?"
    r"(%|pts?(?![a-z])|points?(?![a-z])|pp(?![a-z])|x(?![a-z])|k(?![a-z])|mm(?![a-z])|m(?![a-z])|bn(?![a-z])|b(?![a-z])|million|billion|thousand)?",
    re.IGNORECASE,
)
PERCENT = {"%", "pt", "pts", "point", "points", "pp"}  # a share (0.07) or its percent points (7)
SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9, "billion": 1e9}


@dataclass(frozen=True)
class Claim:
    text: str
    values: tuple[float, ...]  # the readings this number may have (a percent is a share or points)
    tolerance: tuple[float, ...]


@dataclass
class Grounding:
    ok: bool
    checked: int
    ungrounded: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checked": self.checked, "ungrounded": self.ungrounded}


def claims(text: str) -> list[Claim]:
    """The numbers written in `text`, each with the values it can stand for and its precision."""
    cleaned = _SKIP.sub(" ", text)
    out = []
    for m in _NUMBER.finditer(cleaned):
        dollar, digits, unit = m[1], m[2], (m[3] or "").lower()
        number = float(digits.replace(",", ""))
        if not dollar and not unit and 1900 <= number <= 2100 and "." not in digits:
            continue  # a year
        decimals = len(digits.split(".")[1]) if "." in digits else 0
        half = 0.5 * 10 ** (-decimals)
        if unit in PERCENT:
            out.append(Claim(m[0].strip(), (number / 100, number), (half / 100, half)))
        elif unit in SCALE:
            out.append(Claim(m[0].strip(), (number * SCALE[unit],), (half * SCALE[unit],)))
        else:
            out.append(Claim(m[0].strip(), (number,), (max(half, abs(number) * 1e-9),)))
    return out


# Text from the warehouse inside a tool result: account, rep, deal and scenario names, notes. The
# tool's own text (summaries, rationales, check titles, warnings) is written from its figures.
DATA_KEYS = {"name", "text", "note", "notes"}
_FORMATTED_NUMBER = re.compile(r"\s*[+-]?\$?\s?[+-]?\d[\d,]*(?:\.\d+)?\s?(?:%|pts?|x|k|m|mm|bn|b)?\s*", re.IGNORECASE)


def _is_data_key(key: Any) -> bool:
    return isinstance(key, str) and (key in DATA_KEYS or key.endswith("_name"))


def _data_strings(value: Any, found: set[str], under_data_key: bool = False) -> None:
    if isinstance(value, str):
        if under_data_key and any(c.isdigit() for c in value) and not _FORMATTED_NUMBER.fullmatch(value):
            found.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _data_strings(v, found, _is_data_key(k))
    elif isinstance(value, list | tuple):
        for v in value:
            _data_strings(v, found, under_data_key)


def data_text(sources: Iterable[Any]) -> list[str]:
    """The data strings in the sources that hold a digit (longest first): a name such as
    "EMEA pipeline is $999M" is not a figure, wherever a tool repeats it."""
    found: set[str] = set()
    for source in sources:
        _data_strings(source, found)
    return sorted(found, key=len, reverse=True)


def _numbers(value: Any, out: list[float], data: list[str], under_data_key: bool = False) -> None:
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int | float):
        out.append(float(value))
    elif isinstance(value, str):
        if under_data_key and not _FORMATTED_NUMBER.fullmatch(value):
            return  # data text: its digits are not evidence
        for text in data:
            if text in value:
                value = value.replace(text, " ")  # a name the tool's text repeats
        for claim in claims(value):
            out.extend(claim.values)
    elif isinstance(value, dict):
        for k, v in value.items():
            _numbers(v, out, data, _is_data_key(k))
    elif isinstance(value, list | tuple):
        out.append(float(len(value)))
        for v in value:
            _numbers(v, out, data, under_data_key)


def known_numbers(sources: Iterable[Any]) -> list[float]:
    """Every figure in the sources (tool results, the question), sorted, for lookups: numbers,
    and numbers written in the tools' own text or the question, but not digits inside data text
    (names and notes in tables and metrics, wherever a tool or its rendering repeats them)."""
    sources = list(sources)
    data = data_text(sources)
    out: list[float] = []
    for source in sources:
        _numbers(source, out, data)
    # Percent-style readings of shares (0.142 -> 14.2) are matched through Claim.values.
    return sorted(out)


def _near(sorted_values: list[float], target: float, tolerance: float) -> bool:
    i = bisect.bisect_left(sorted_values, target - tolerance - 1e-9)
    return i < len(sorted_values) and sorted_values[i] <= target + tolerance + 1e-9


def check(answer: str, sources: Iterable[Any]) -> Grounding:
    """Which numbers in `answer` no source supports (negative readings match their magnitude too)."""
    known = known_numbers(sources)
    found = claims(answer)
    bad = []
    for claim in found:
        grounded = any(
            _near(known, value, tol) or _near(known, -value, tol)
            for value, tol in zip(claim.values, claim.tolerance, strict=True)
        )
        if not grounded:
            bad.append(claim.text)
    return Grounding(ok=not bad, checked=len(found), ungrounded=bad)


REDACTED = "[figure removed]"


def redact(answer: str, numbers: Iterable[str]) -> str:
    """`answer` with each of `numbers` (claim texts from `check`) replaced by a marker; a number
    inside a longer one ("777" in "1,777") is left alone."""
    for number in sorted(set(numbers), key=len, reverse=True):
        answer = re.sub(rf"(?<![\w$.,]){re.escape(number)}(?![\w%]|[.,]\d)", REDACTED, answer)
    return answer
