"""Answer judges: is the answer useful to the person who asked, judged on its content?

A case's `useful` block says what a fully useful answer holds: the figure for the slice and
period asked (first sentence), yes/no first for a yes/no question, a table by the dimension
asked, baseline + what-if + change for a what-if (the figures of the tool's own comparison),
every option and a winner for a comparison, one result feeding the next for a chain, drivers
with figures for an explanation, the missing piece named for a clarify, and the constraints the
user gave. Each judge returns the reasons it failed (empty: passed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from agent.result import AgentResult

Kind = Literal["figure", "yes_no", "breakdown", "what_if", "compare", "chain", "explain", "list", "clarify", "action"]
WINNER_WORDS = r"\b(?:best|winner|wins|recommend\w*|comes out ahead|ahead of|highest|lowest|strongest|pick|go with)\b"
DRIVER_WORDS = r"\b(?:driver|drivers|because|due to|driven by|explained by)\b"
# Words a clarify may use to name each missing piece.
MISSING_WORDS: dict[str, str] = {
    "period": r"\b(?:quarter|period|year|month|half|when|fy\d{4})",
    "region": r"\b(?:region|regions|territory|where)\b",
    "segment": r"\bsegments?\b",
    "amount": r"\b(?:how much|how many|amount|percent|percentage|by how|size of the change|%)",
    "scenario": r"\bscenarios?\b",
    "metric": r"\b(?:metric|kpi|measure|which number|which figure)",
    "target": r"\btargets?\b",
    "tool": r"\b(?:outside what i do|i plan|not something i|can't help|cannot help)",
    "rep": r"\b(?:rep|reps|seller|ae|who)\b",
}
GENERIC_CLARIFY = "i am not sure what you are asking"
DIMENSIONS = ("region", "segment", "product")


class Useful(BaseModel):
    """What a fully useful answer to this case holds (evals/usefulness.py judges it)."""

    model_config = ConfigDict(extra="forbid")
    kind: Kind
    slice: dict[str, list[str]] = Field(default_factory=dict, description="Members the answer must be about.")
    period: list[str] = Field(default_factory=list, description="Canonical period names the answer must name.")
    by: str | None = Field(None, description="Breakdown dimension: a table with a row per member.")
    options: list[str] = Field(default_factory=list, description="Compare: each option's label.")
    mentions: list[str] = Field(default_factory=list, description="Constraints the answer must visibly keep.")
    missing: str | None = Field(None, description="Clarify: the piece that is missing.")


@dataclass
class Verdict:
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons


def plain(text: str) -> str:
    """The answer without Markdown emphasis, lower case."""
    return re.sub(r"[*_`]+", "", text).lower()


def first_sentence(text: str) -> str:
    body = plain(text).strip()
    line = body.split("\n", 1)[0]
    m = re.search(r"(?<!\d)[.!?](?:\s|$)", line)
    return (line[: m.end()] if m else line).strip()


def _period_forms(name: str) -> list[str]:
    """FY2028-H2 reads as "fy2028-h2", "fy2028 h2" or "h2 fy2028"."""
    low = name.lower()
    forms = [low, low.replace("-", " ")]
    m = re.fullmatch(r"(fy\d{4})-((?:q|h)\d)", low)
    if m:
        forms += [f"{m[2]} {m[1]}", f"{m[1]} {m[2]}"]
    return forms


def names_period(text: str, name: str) -> bool:
    low = plain(text)
    return any(form in low for form in _period_forms(name))


def names_member(text: str, member: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(member.lower())}(?![\w-])", plain(text)) is not None


def states(text: str, mention: str) -> bool:
    """The answer states `mention`: a percent in any rounding (15% = 15.0%), else the words."""
    low = plain(text)
    m = re.fullmatch(r"\s*([+-]?\d+(?:\.\d+)?)\s?(%|points?|pts?)\s*", mention.lower())
    if m:
        number = float(m[1])
        for found in re.finditer(r"([+-]?\d+(?:\.\d+)?)\s?(%|points?|pts?|pp)", low):
            if abs(abs(float(found[1])) - abs(number)) < 1e-9:
                return True
        return False
    money = re.fullmatch(r"\s*\$?(\d+(?:\.\d+)?)\s?([km])\s*", mention.lower())
    if money:
        amount = float(money[1]) * (1e3 if money[2] == "k" else 1e6)
        return figure_stated(text, amount, 0.01)
    multiple = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s?x\s*", mention.lower())
    if multiple:
        return re.search(rf"(?<![\d.]){re.escape(multiple[1])}(?:\.0+)?\s?x\b", low) is not None
    return " ".join(re.findall(r"[\w$%.]+", mention.lower())) in " ".join(re.findall(r"[\w$%.]+", low))


def _has_figure(text: str) -> bool:
    """A money amount, a percent, a multiple or a count: not the digits of a period name."""
    without_periods = re.sub(r"\bfy\d{4}(?:-[qh]\d)?\b|\b\d{4}-\d{2}\b", " ", text, flags=re.IGNORECASE)
    return re.search(r"\$\s?\d|\d\s?%|\d(?:\.\d+)?x\b|\b\d[\d,.]*\b", without_periods) is not None


def _has_table(text: str) -> bool:
    return sum(1 for line in text.splitlines() if line.strip().startswith("|")) >= 3


def figure_stated(text: str, value: float, tolerance: float = 0.05) -> bool:
    """The answer states `value` (either sign, within a relative tolerance for display rounding)."""
    from agent.grounding import claims

    for claim in claims(text):
        for reading in claim.values:
            if abs(abs(reading) - abs(value)) <= max(tolerance * abs(value), 1e-9):
                return True
    return False


def _what_if_result(result: AgentResult) -> dict[str, Any] | None:
    for tool_result in result.tool_results:
        if "what_if" in (tool_result.get("metrics") or {}) and (tool_result.get("tables") or {}).get("comparison"):
            return tool_result
    return None


def _option_named(text: str, option: str) -> bool:
    if states(text, option):
        return True
    low = plain(text).replace(" pts", " points")
    option = option.lower().replace(" pts", " points")
    generic = {"hires", "hire", "option", "method", "band", "quota", "quotas", "plan", "scenario", "with", "the"}
    tokens = [t for t in re.findall(r"[\w.%$+-]+", option.lower()) if t not in generic]
    numbers = [t for t in tokens if re.search(r"\d", t)]
    words = [t for t in tokens if not re.search(r"\d", t) and len(t) >= 4]
    number_ok = all(re.search(rf"(?<![\d.]){re.escape(n.rstrip('%'))}(?:\.0+)?%?(?![\d])", low) for n in numbers)
    return number_ok and all(w[:6] in low for w in words) and bool(numbers or words)


@dataclass(frozen=True)
class Judged:
    """What the judges see besides the answer: the members each dimension has for this user."""

    members: dict[str, list[str]]


def _judge_kind(useful: Useful, result: AgentResult, seen: Judged, verdict: Verdict) -> None:
    text = result.answer
    first = first_sentence(text)
    fail = verdict.reasons.append
    if useful.kind in ("figure", "what_if") and not _has_figure(first):
        fail(f"the first sentence states no figure: {first!r}")
    if useful.kind == "yes_no" and not re.match(r"\W*(?:yes|no)\b", first):
        fail(f"a yes/no question, the first sentence does not say yes or no: {first!r}")
    if useful.kind == "breakdown":
        if not _has_table(text):
            fail(f"no table by {useful.by} in the answer")
        dim = useful.by or ""
        members = useful.slice.get(dim) or seen.members.get(dim, [])
        missing = [m for m in members if not names_member(text, m)]
        if missing:
            fail(f"the breakdown by {dim} lacks {missing}")
        if dim in ("quarter", "month"):
            periods = re.findall(r"fy\d{4}-q\d" if dim == "quarter" else r"\b\d{4}-\d{2}\b", plain(text))
            if len(set(periods)) < 2:
                fail(f"the breakdown by {dim} names fewer than two periods")
    if useful.kind == "what_if":
        source = _what_if_result(result)
        if source is None:
            fail("no what-if was run (no tool result holds a baseline and a what-if)")
        else:
            changed = [r for r in source["tables"]["comparison"] if r.get("change")]
            asked = [r for r in changed if not useful.period or r.get("period") in (None, *useful.period)]
            headline = [
                r for r in asked or changed if "P50" in str(r.get("metric")) or "expected" in str(r.get("metric"))
            ]
            row = next(iter(headline or asked or changed), None)
            if row is not None:
                for key in ("baseline", "what_if"):
                    value = row.get(key)
                    if isinstance(value, int | float) and not figure_stated(text, float(value)):
                        fail(f"the answer lacks the {key.replace('_', '-')} {row.get('metric')} = {value}")
            if not re.search(r"[+-]\s?\$?\d|\bchange\b|\bup\b|\bdown\b|\bhigher\b|\blower\b|→|->", plain(text)):
                fail("the what-if states no change")
    if useful.kind == "compare":
        missing = [o for o in useful.options if not _option_named(text, o)]
        if missing:
            fail(f"the comparison does not name options {missing}")
        if not re.search(WINNER_WORDS, plain(text)):
            fail("the comparison names no winner")
    if useful.kind == "chain":
        saved = {
            str((r.get("metrics") or {}).get("saved_scenario", {}).get("name", ""))
            for r in result.tool_results
            if isinstance((r.get("metrics") or {}).get("saved_scenario"), dict)
        }
        fed = any(
            s.kind == "tool_call" and isinstance(s.args, dict) and str(s.args.get("scenario_id", "")) in saved - {""}
            for s in result.steps
        )
        # Or the later tool planned against the earlier's forecast outlook (one number, issue 16).
        tools_run = [s.name for s in result.steps if s.kind == "tool_call"]
        outlook = "forecast" in tools_run[:-1] and any(
            "bookings_outlook" in (r.get("metrics") or {}) or "forecast expects" in str(r.get("summary", ""))
            for r in result.tool_results
            if r.get("tool") != "forecast"
        )
        if len(tools_run) < 2:
            fail(f"one step only ({tools_run}): nothing was chained")
        elif not (fed or outlook):
            fail("no result fed the next tool (no scenario saved in this run was used, no forecast outlook consumed)")
    if useful.kind == "explain":
        if not re.search(DRIVER_WORDS, plain(text)):
            fail("the explanation names no driver")
        from agent.grounding import claims

        if len(claims(text)) < 2:
            fail("the explanation gives fewer than two figures")
    if useful.kind == "list" and not (re.search(r"\d", text) or re.search(r"\bno\b|\bnone\b", plain(text))):
        fail("the list states nothing countable")
    if useful.kind == "clarify":
        lead = plain(text).split("\n\n", 1)[0]
        if lead.startswith(GENERIC_CLARIFY):
            fail("a generic clarify that does not say what is missing")
        pattern = MISSING_WORDS.get(useful.missing or "", "")
        if pattern and not re.search(pattern, lead):
            fail(f"the clarify does not name the missing {useful.missing}")
    if useful.kind == "action" and result.status == "needs_approval" and not result.approval:
        fail("the approval does not say what will change")


def judge_useful(useful: Useful, result: AgentResult, seen: Judged) -> Verdict:
    verdict = Verdict()
    text = result.answer
    if not text.strip():
        verdict.reasons.append("empty answer")
        return verdict
    if useful.kind != "clarify":
        for dim, members in useful.slice.items():
            for member in members:
                if not names_member(text, member):
                    verdict.reasons.append(f"the answer does not name the {dim} {member}")
        for name in useful.period:
            if not names_period(text, name):
                verdict.reasons.append(f"the answer does not name the period {name}")
        for mention in useful.mentions:
            if not states(text, mention):
                verdict.reasons.append(f"the answer does not state {mention!r}")
    _judge_kind(useful, result, seen, verdict)
    return verdict


def members_for(user_scope: tuple[str, str | None], everything: dict[str, list[str]]) -> dict[str, list[str]]:
    """Members of each dimension a user sees: a region-scoped leader sees one region."""
    kind, value = user_scope
    seen = {k: list(v) for k, v in everything.items()}
    if kind in DIMENSIONS and value:
        seen[kind] = [value]
    return seen


MemberLookup = Callable[[str | None], Judged]
