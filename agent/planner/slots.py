"""Argument extraction for the offline planner: periods, amounts, percentages, counts,
thresholds, breakdowns and the warehouse's own names, from plain words.

Names are matched against the warehouse's vocabulary (regions, segments, products, reps,
scenarios), with common aliases ("Europe" -> EMEA, "mid market" -> Mid-Market) and fuzzy
matching (rapidfuzz) for typos; an alias only applies when its target exists in the warehouse.
Relative periods ("next quarter", "H2", "last year") resolve with the fiscal calendar and the
as-of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from tools.core.periods import MONTHS, find_periods
from warehouse.calendar import FiscalCalendar, Period

WORD_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "a few": 3,
    "a couple of": 2,
    "a dozen": 12,
}
REGION_ALIASES = {
    "europe": "EMEA",
    "emea": "EMEA",
    "uk": "EMEA",
    "north america": "NA",
    "the us": "NA",
    "us": "NA",
    "usa": "NA",
    "united states": "NA",
    "americas": "NA",
    "asia pacific": "APAC",
    "asia": "APAC",
    "apac": "APAC",
    "apj": "APAC",
    "latin america": "LATAM",
    "south america": "LATAM",
    "latam": "LATAM",
}
SEGMENT_ALIASES = {
    "mid market": "Mid-Market",
    "mid-market": "Mid-Market",
    "midmarket": "Mid-Market",
    "mm": "Mid-Market",
    "enterprise": "Enterprise",
    "ent": "Enterprise",
    "large accounts": "Enterprise",
    "small business": "SMB",
    "smb": "SMB",
    "small businesses": "SMB",
}
DIMENSION_WORDS = {
    "region": "region",
    "regions": "region",
    "geo": "region",
    "segment": "segment",
    "segments": "segment",
    "product": "product",
    "products": "product",
    "rep": "rep",
    "reps": "rep",
    "ae": "rep",
    "aes": "rep",
    "seller": "rep",
    "sellers": "rep",
    "manager": "manager",
    "managers": "manager",
    "team": "manager",
    "month": "month",
    "quarter": "quarter",
}
# Words the planner relies on; a token one or two edits away from one of them is read as it
# ("forcast", "quater", "segmnet", "pipline"). Slang and abbreviations map directly.
DOMAIN_WORDS = (
    "compared",  # kept as written (not "fixed" to "compare")
    "comparing",
    "forecast",
    "quarter",
    "quarters",
    "pipeline",
    "segment",
    "segments",
    "region",
    "regions",
    "quota",
    "quotas",
    "territory",
    "territories",
    "rebalance",
    "attainment",
    "bookings",
    "booked",
    "capacity",
    "coverage",
    "scenario",
    "scenarios",
    "enterprise",
    "europe",
    "hiring",
    "should",
    "revenue",
    "average",
    "monthly",
    "quarterly",
    "compare",
    "allocate",
    "simulate",
    "headcount",
    "product",
    "products",
    "target",
    "percent",
    "potential",
    "accounts",
    "account",
    "opportunities",
    "duplicate",
    "quality",
    "attrition",
    "productivity",
)
SLANG = {
    "qtr": "quarter",
    "qtrs": "quarters",
    "nxt": "next",
    "yr": "year",
    "yrs": "years",
    "gimme": "give me",
    "whats": "what's",
    "hc": "headcount",
    "mth": "month",
    "mths": "months",
    "mo": "month",
    "fcst": "forecast",
    "dupe": "duplicate",
    "dupes": "duplicates",
    "fcast": "forecast",
    "pipe": "pipeline",
    "attn": "attainment",
    "ttm": "trailing twelve months",
    "t12m": "trailing twelve months",
}
PEOPLE = r"(?:aes?|account executives?|reps?|sellers?|hires?|people|heads?|salespeople)"
_NUM = r"(\d+(?:,\d{3})*(?:\.\d+)?)"
_AMOUNT = re.compile(
    r"(?<![\w.])(\$)?\s?" + _NUM + r"\s?(k|m|mm|b|bn|thousand|million|billion)?(?:\s?(?:dollars|usd))?(?![\w%])",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"([+-]?\d+(?:\.\d+)?)\s?(%|percent\b|per cent\b|pct\b)", re.IGNORECASE)
_POINTS = re.compile(r"([+-]?\d+(?:\.\d+)?)\s?(?:points?|pts?|percentage points?)\b", re.IGNORECASE)
_THRESHOLD = re.compile(
    r"\b(below|under|less than|lower than|above|over|more than|greater than|at least)\s+(\d+(?:\.\d+)?)\s?(%|percent|x)?",
    re.IGNORECASE,
)
_BY = re.compile(
    r"\b(?:by|per|for each|in each|each|across|split by)\s+(\w+)(?:\s*(?:,|and|&|/|x)\s*(\w+))?(?:\s*(?:,|and|&)\s*(\w+))?",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"[\"'“‘]([^\"'”’]{2,60})[\"'”’]")
DOWN_WORDS = (
    "cut",
    "cuts",
    "lower",
    "lowers",
    "reduce",
    "reduces",
    "decrease",
    "decreases",
    "drop",
    "drops",
    "dropped",
    "down",
    "less",
    "shrink",
    "shrinks",
    "fall",
    "falls",
    "fell",
    "decline",
    "declines",
    "minus",
    "smaller",
)
UP_WORDS = ("raise", "increase", "up", "grow", "more", "add", "boost", "lift", "plus", "higher", "rise")


@dataclass(frozen=True)
class Vocabulary:
    """The warehouse's names the planner may match, and the calendar it reasons with."""

    as_of: date
    calendar: FiscalCalendar
    regions: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    reps: dict[str, str] = field(default_factory=dict)  # name -> rep_id
    scenarios: tuple[str, ...] = ()
    every_region: tuple[str, ...] = ()  # what "every region" means for this user (default: all regions)

    def all_regions(self) -> tuple[str, ...]:
        return self.every_region or self.regions


@dataclass
class Slots:
    """What a request says. A period named without its year ("Q3") is this fiscal year's;
    `future()` moves such periods a year on when they are over and the ask looks ahead."""

    periods: list[Period] = field(default_factory=list)
    bare: set[str] = field(default_factory=set)  # period names read without a year ("Q3", "H2")
    quarters_ahead: int | None = None  # "the next 4 quarters"
    months_ahead: int | None = None  # "over the next 6 months"
    amounts: list[float] = field(default_factory=list)
    percents: list[float] = field(default_factory=list)  # signed, in percent (10 = 10%)
    points: list[float] = field(default_factory=list)  # signed percentage points
    counts: list[int] = field(default_factory=list)
    months: list[date] = field(default_factory=list)  # bare month names ("from June"): their next occurrence
    threshold: tuple[str, float] | None = None  # ("below" | "above", value as a share or a multiple)
    by: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    products: list[str] = field(default_factory=list)
    reps: list[str] = field(default_factory=list)
    managers: list[str] = field(default_factory=list)  # "Leila Walker's team": her rep id
    scenarios: list[str] = field(default_factory=list)
    direction: int = 0  # +1 raise, -1 cut, 0 unknown

    def future(self, vocab: Vocabulary) -> list[Period]:
        out = []
        for p in self.periods:
            if p.name in self.bare and p.end <= vocab.as_of:
                p = vocab.calendar.shift(p, 4 if p.grain == "quarter" else 2 if p.grain == "half" else 1)
            out.append(p)
        return out

    def filters(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for dim, values in (("region", self.regions), ("segment", self.segments), ("product", self.products)):
            if values:
                out[dim] = list(values)
        if self.reps:
            out["rep"] = list(self.reps)
        if self.managers:
            out["manager"] = list(self.managers)
        return out


def normalise(text: str) -> str:
    """Fix likely typos of domain words and expand slang, keeping everything else as written."""
    from rapidfuzz.distance import OSA  # edits with transpositions ("segmnet")

    def fix(m: re.Match[str]) -> str:
        word = m[0]
        low = word.lower()
        if low in SLANG:
            return SLANG[low]
        if len(low) < 5 or low in DOMAIN_WORDS:
            return word
        limit = 1 if len(low) < 8 else 2
        best = min(DOMAIN_WORDS, key=lambda w: OSA.distance(low, w))
        return best if OSA.distance(low, best) <= limit and best[0] == low[0] else word

    text = re.sub(r"\b(next|this|last|current|prior|previous)\s+q\b", r"\1 quarter", text, flags=re.IGNORECASE)
    text = re.sub(r"\bt12m\b", "trailing twelve months", text, flags=re.IGNORECASE)
    text = re.sub(r"\bcap(?:acity)? gap\b", "capacity gap", text, flags=re.IGNORECASE)
    # "FY28 H2" reads as "H2 FY28" (the half of that year, not this year's H2 and FY28 apart)
    text = re.sub(r"\b(fy\s?'?\d{2,4})\s+(q[1-4]|h[12])\b", r"\2 \1", text, flags=re.IGNORECASE)
    return re.sub(r"[A-Za-z]+", fix, text)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _words_to_digits(text: str) -> str:
    tens = {
        "twenty": 20,
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
    }
    units = "one|two|three|four|five|six|seven|eight|nine"
    # "forty-eight million" is 48, not "40-8"
    text = re.sub(
        rf"\b({'|'.join(tens)})[- ]({units})\b",
        lambda m: str(tens[m[1].lower()] + int(WORD_NUMBERS[m[2].lower()])),
        text,
        flags=re.IGNORECASE,
    )
    for word, value in sorted(WORD_NUMBERS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"\b{word}\b", str(value), text, flags=re.IGNORECASE)
    return text


def _periods(text: str, vocab: Vocabulary) -> tuple[list[Period], int | None, set[str]]:
    found = find_periods(_words_to_digits(text), vocab.calendar, vocab.as_of)
    return found.periods, found.quarters_ahead, found.bare


def _bare_months(text: str, vocab: Vocabulary) -> list[date]:
    """Month names without a year ("freeze from June"): their next start on or after today."""
    out = []
    for m in re.finditer(
        r"\b(" + "|".join(k for k in MONTHS if len(k) > 3 or k == "may") + r")\b(?!\s+20\d{2})", text.lower()
    ):
        month = MONTHS[m[1]]
        first = date(vocab.as_of.year, month, 1)
        if first < date(vocab.as_of.year, vocab.as_of.month, 1):
            first = date(vocab.as_of.year + 1, month, 1)
        out.append(first)
    return out


def _match_names(text: str, names: tuple[str, ...], aliases: dict[str, str]) -> list[str]:
    from rapidfuzz import fuzz

    low = f" {text.lower()} "
    hits: list[tuple[int, str]] = []
    for alias, target in aliases.items():
        if target in names:
            for m in re.finditer(rf"(?<![\w-]){re.escape(alias)}(?![\w-])", low):
                # Short aliases ("us", "mm", "ent") only count in their own case-insensitive word,
                # and "us" only as "the us"/"US" (the pronoun would match otherwise).
                if alias == "us" and text[max(0, m.start() - 1) : m.end() - 1] != "US":
                    continue
                hits.append((m.start(), target))
    words = re.findall(r"[\w&'-]+", text)
    for name in names:
        if len(name) <= 3:
            # Short codes (NA, SMB) must appear as a word in the right case: "na" is too common.
            for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text):
                hits.append((m.start(), name))
            continue
        size = len(name.split())
        for i in range(len(words) - size + 1):
            chunk = " ".join(words[i : i + size])
            if fuzz.ratio(chunk.lower(), name.lower()) >= 88:
                hits.append((low.find(chunk.lower()), name))
    hits.sort()
    out: list[str] = []
    for _, name in hits:
        if name not in out:
            out.append(name)
    return out


FRACTIONS = {"a fifth": 20.0, "one fifth": 20.0, "a tenth": 10.0, "one tenth": 10.0, "a quarter": 25.0,
             "a third": 100 / 3, "one third": 100 / 3, "half": 50.0}  # fmt: skip
# "a fifth of deals slip" is 20%; "the first half of next year" is a period, not a share.
_FRACTION = re.compile(
    r"(?<!first )(?<!second )(?<!back )(?<!front )\b(a fifth|one fifth|a tenth|one tenth|a quarter|a third|one third"
    r"|half)\s+of\s+(?:the\s+|our\s+|all\s+)?(?:deals|opportunities|opps|pipeline|wins|bookings|reps|aes|accounts)\b",
    re.IGNORECASE,
)


def extract(text: str, vocab: Vocabulary) -> Slots:
    """Everything the planner can read from `text`."""
    slots = Slots()
    slots.periods, slots.quarters_ahead, slots.bare = _periods(text, vocab)
    digits = _words_to_digits(text)
    low = digits.lower()
    slots.direction = (
        -1
        if any(re.search(rf"\b{w}\b", low) for w in DOWN_WORDS)
        else (1 if any(re.search(rf"\b{w}\b", low) for w in UP_WORDS) else 0)
    )
    threshold = _THRESHOLD.search(digits)
    spans: list[tuple[int, int]] = []
    half = re.search(r"\b(below|under|less than|above|over|more than)\s+(?:half|50 ?%)", digits, re.IGNORECASE)
    if half and not threshold:
        slots.threshold = ("below" if half[1].lower() in ("below", "under", "less than") else "above", 0.5)
    if threshold:
        value = float(threshold[2])
        unit = (threshold[3] or "").lower()
        share = value if unit == "x" else value / 100 if unit in ("%", "percent") or value > 3 else value
        kind = "below" if threshold[1].lower() in ("below", "under", "less than", "lower than") else "above"
        slots.threshold = (kind, share)
        spans.append(threshold.span())
    for m in _PERCENT.finditer(digits):
        if any(a <= m.start() < b for a, b in spans):
            continue
        value = float(m[1])
        if slots.direction < 0 and value > 0 and not m[1].startswith("+"):
            value = -value
        slots.percents.append(value)
        spans.append(m.span())
    if not slots.percents:
        for m in _FRACTION.finditer(digits):  # "a fifth of deals slip": 20%
            slots.percents.append(FRACTIONS[m[1].lower()])
            spans.append(m.span())
    for m in _POINTS.finditer(digits):
        value = float(m[1])
        slots.points.append(-value if slots.direction < 0 and value > 0 else value)
        spans.append(m.span())
    for m in re.finditer(rf"\b(\d+)\s+(?:more\s+|new\s+|extra\s+)?{PEOPLE}\b", digits, re.IGNORECASE):
        slots.counts.append(int(m[1]))
        spans.append(m.span())
    period_words = re.compile(r"\b(?:q[1-4]|h[12]|fy\s?'?\d{2,4}|20\d{2}-\d{2})\b", re.IGNORECASE)
    for m in period_words.finditer(digits):
        spans.append(m.span())
    for m in _AMOUNT.finditer(digits):
        if any(a <= m.start() < b for a, b in spans):
            continue
        dollar, number, scale = m[1], m[2], (m[3] or "").lower()
        if not dollar and not scale:
            continue  # a bare number is not an amount ("5 month ramp", "105%", years)
        value = (
            _number(number)
            * {
                "": 1,
                "k": 1e3,
                "thousand": 1e3,
                "m": 1e6,
                "mm": 1e6,
                "million": 1e6,
                "b": 1e9,
                "bn": 1e9,
                "billion": 1e9,
            }[scale]
        )
        slots.amounts.append(value)
    slots.months = _bare_months(text, vocab)
    months_ahead = re.search(r"\b(?:next|coming|following)\s+(\d+)\s+months?\b", low)
    slots.months_ahead = int(months_ahead[1]) if months_ahead else None
    for m in _BY.finditer(text):
        for word in (m[1], m[2], m[3]):
            dim = DIMENSION_WORDS.get((word or "").lower())
            if not dim:
                break  # "by region and tell me...": stop at the first word that is not a dimension
            if dim not in slots.by:
                slots.by.append(dim)
    slots.regions = _match_names(text, vocab.regions, REGION_ALIASES)
    slots.segments = _match_names(text, vocab.segments, SEGMENT_ALIASES)
    slots.products = _match_names(text, vocab.products, {})
    slots.reps = [vocab.reps[n] for n in _match_names(text, tuple(vocab.reps), {})]
    for name, rep_id in vocab.reps.items():  # "Leila Walker's team", "the team of Leila Walker": a manager's team
        pattern = rf"{re.escape(name)}'?s\s+(?:team|reps|people|org)|team of {re.escape(name)}"
        if rep_id in slots.reps and re.search(pattern, text, re.IGNORECASE):
            slots.reps.remove(rep_id)
            slots.managers.append(rep_id)
    quoted = [q.strip() for q in _QUOTED.findall(text)]
    # A scenario named exactly wins over near-misses ("s-latam-10" is not "ms-latam-10").
    exact = sorted(
        (m.start(), n)
        for n in vocab.scenarios
        for m in [re.search(rf"(?<![\w-]){re.escape(n.lower())}(?![\w-])", text.lower())]
        if m
    )
    named = [n for _, n in exact] or _match_names(text, vocab.scenarios, {})
    slots.scenarios = [q for q in quoted if q] + [s for s in named if s not in quoted]
    return slots
