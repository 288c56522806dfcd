"""Reading one cell's text the way people write it: numbers, dates, members and ids.

Pure functions over one value. The SQL validator (`validate.py`) parses the common shapes
itself (plain numbers, ISO dates) and sends only the distinct values it could not read here, so
these can afford to be careful: never guess, and give a reason a user can act on.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from confusable_homoglyphs import confusables

Decimal = Literal[".", ","]

# Beyond this an amount is a broken cell (1e308 overflows every sum downstream), not a deal.
MAX_ABS_NUMBER = 1e15
CURRENCY_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR"}
# A three-letter code next to a number (`USD 1,200.00`, `1.234,56 EUR`), never a word on its own.
_CODE = re.compile(r"^([A-Z]{3})\s*([\d(.,].*)$|^(.*\d)\s*([A-Z]{3})$")
_SYMBOL = re.compile(r"^([$€£¥₹])\s*(.*?)$|^(.*?)\s*([$€£¥₹])$")
# Thousands separators other than the decimal's partner: spaces (1 234,50), apostrophes (1'234.50).
_GROUP_SPACES = re.compile(r"(?<=\d)[\s\u00a0\u202f'’_](?=\d{3}(?:\D|$))")
_POINT_DECIMAL = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_COMMA_DECIMAL = re.compile(r"^(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$")
_SCIENTIFIC = re.compile(r"^(?:\d+\.?\d*|\.\d+)[eE][+-]?\d+$")


@dataclass(frozen=True)
class Parsed:
    """A cell read: `value` when it is valid, else the `reason` it is not."""

    value: object = None
    reason: str | None = None


def _strip_currency(text: str, currency: str) -> tuple[str, str | None]:
    """Remove a currency symbol or code; a currency other than the warehouse's is a reason."""
    for pattern in (_SYMBOL, _CODE):
        match = pattern.match(text)
        if match:
            mark = match.group(1) or match.group(4)
            rest = match.group(2) if match.group(1) else match.group(3)
            code = CURRENCY_SYMBOLS.get(mark, mark)
            if code != currency:
                return (
                    text,
                    f"is in {code}; amounts must be in {currency}, the warehouse's currency (convert them first)",
                )
            return rest.strip(), None
    return text, None


def parse_number(text: str, decimal: Decimal = ".", currency: str = "USD") -> Parsed:
    """`1,234.50`, `$1,234.50`, `(1,200)`, `USD 1,200`, `1 234,50` (with decimal ','), `1e6`.

    Grouping must be in threes; a cell that only makes sense with the other decimal mark is
    rejected with that reason instead of being read as a different number.
    """
    t = text.strip()
    negative = False
    if t.startswith("(") and t.endswith(")"):
        negative, t = True, t[1:-1].strip()
    t, problem = _strip_currency(t, currency)
    if problem:
        return Parsed(reason=problem)
    if t[:1] in "+-":
        negative, t = negative != (t[0] == "-"), t[1:].strip()
    t, problem = _strip_currency(t, currency)  # '-$1,200.00'
    if problem:
        return Parsed(reason=problem)
    t = _GROUP_SPACES.sub("", t)
    if _SCIENTIFIC.match(t):
        number = float(t)
    elif decimal == ".":
        if _POINT_DECIMAL.match(t):
            number = float(t.replace(",", ""))
        elif _COMMA_DECIMAL.match(t):
            return Parsed(
                reason="uses a decimal comma (1.234,50): import with --decimal , if the file writes amounts so"
            )
        else:
            return Parsed(reason="is not a number")
    elif _COMMA_DECIMAL.match(t):
        number = float(t.replace(".", "").replace(",", "."))
    elif _POINT_DECIMAL.match(t):
        return Parsed(reason="uses a decimal point (1,234.50) but the import was told --decimal ,")
    else:
        return Parsed(reason="is not a number")
    if not math.isfinite(number) or abs(number) > MAX_ABS_NUMBER:
        return Parsed(reason=f"is out of range (more than {MAX_ABS_NUMBER:.0e} in size)")
    return Parsed(-number if negative else number)


def parse_date(text: str, formats: Iterable[str]) -> Parsed:
    """The first of `formats` that reads the cell (a time of day after an ISO date is ignored)."""
    t = text.strip()
    iso = re.match(r"^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}", t)
    if iso:
        t = iso.group(1)
    formats = tuple(formats)
    for fmt in formats:
        try:
            day = datetime.strptime(t, fmt).date()
        except ValueError:
            continue
        if date(1900, 1, 1) <= day < date(2200, 1, 1):
            return Parsed(day)
        return Parsed(reason="is not a plausible date (before 1900 or after 2199)")
    shown = " or ".join(
        f.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD").replace("%y", "YY") for f in formats
    )
    return Parsed(reason=f"is not a date ({shown})")


def _invisible(text: str) -> list[str]:
    """Format characters (zero-width spaces and joiners, soft hyphens, BOMs): invisible in every UI."""
    return [ch for ch in text if unicodedata.category(ch) == "Cf"]


def _char_name(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed')}"


def check_identifier(text: str) -> Parsed:
    """An id stays as written, unless it holds characters that make two ids look the same."""
    hidden = _invisible(text)
    if hidden:
        return Parsed(reason=f"contains an invisible character ({_char_name(hidden[0])}); retype the id")
    folded = unicodedata.normalize("NFKC", text)
    if folded != text:
        return Parsed(reason=f"uses look-alike characters (full-width or compatibility forms); write it as {folded!r}")
    return Parsed(text)


def skeleton(text: str) -> str:
    """The text with every character that can pass for a Latin one replaced by it, lower-cased."""
    found = confusables.is_confusable(text, preferred_aliases=["latin"], greedy=True) or []
    swap = {item["character"]: item["homoglyphs"][0]["c"] for item in found if item["homoglyphs"]}
    return "".join(swap.get(ch, ch) for ch in text).lower()


def clean_member(text: str) -> tuple[str, str | None]:
    """A dimension member's name in NFKC form without invisible characters, and a note when it
    changed (full-width 'ＥＭＥＡ' is 'EMEA'). Look-alike scripts are judged by `member_problem`."""
    cleaned = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) != "Cf")
    cleaned = " ".join(cleaned.split())
    return cleaned, (f"{text!r} read as {cleaned!r}" if cleaned != text else None)


def member_problem(name: str, known: Iterable[str]) -> str | None:
    """Why a new member name must not be created: it mixes scripts so as to look like another
    word, or it passes for an existing member ('ЕМЕА' in Cyrillic for 'EMEA')."""
    if name.isascii():
        return None
    shape = skeleton(name)
    for other in known:
        if other.lower() != name.lower() and skeleton(other) == shape:
            return f"looks like {other!r} but is spelled with other characters (non-Latin letters); retype it"
    if confusables.is_dangerous(name, preferred_aliases=["latin"]):
        return "mixes alphabets (Latin with look-alike letters from another script); retype it"
    return None
