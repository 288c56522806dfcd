"""Yes or no first, when the question is a yes/no question ("Are we going to make the number?").

The verdict reads the tool's own figures (P50 against target, capacity against target) and
says which figures it rests on; a question the results cannot settle gets no verdict rather
than a guess.
"""

from __future__ import annotations

import re
from typing import Any

from tools.core import format as fmt

_YES_NO = re.compile(
    r"^\W*(?:so\s+|ok\s+|straight answer:?\s+|honestly,?\s+|quick one:?\s+)?"
    r"(?:are|is|will|can|do|does|did|should|could|would|have|has|am|was|were)\b",
    re.IGNORECASE,
)
_CURRENT = re.compile(r"\bthis (?:quarter|q)\b|\bcurrent quarter\b|\bqtd\b|\bthis period\b", re.IGNORECASE)


_AFTER_CLAUSE = re.compile(
    r",\s*(?:are|is|will|can|do|does|did|should|could|would|have|has|am)\s+(?:we|i|they|it|he|she|the|our|my|more)\b",
    re.IGNORECASE,
)
_SHARE_OF_REPS = re.compile(
    r"\b(?:more than |at least |over )?(half|most|majority|(\d+)\s?%)\s+(?:of\s+)?(?:the\s+|our\s+)?reps\b", re.I
)


def is_yes_no(question: str) -> bool:
    # The last sentence carries the ask ("Context first. Are we going to make it?"), or the clause
    # after a condition ("If we freeze hiring, can we still make it?").
    sentences = [p for p in re.split(r"(?<=[.!?])\s+", question.strip()) if p]
    return any(_YES_NO.match(p) or _AFTER_CLAUSE.search(p) for p in sentences[-2:])


def _against(p50: float, p90: float | None, target: float, what: str) -> str:
    gap = target - p50
    if gap <= 0:
        return f"Yes: {what} P50 {fmt.money(p50)} against a {fmt.money(target)} target, {fmt.money(-gap)} ahead."
    tail = (
        f", though the P90 of {fmt.money(p90)} would make it"
        if p90 is not None and p90 >= target
        else ", and even the P90 falls short"
        if p90 is not None
        else ""
    )
    return f"No: {what} P50 {fmt.money(p50)} against a {fmt.money(target)} target, {fmt.money(gap)} short{tail}."


_UP = re.compile(r"\b(?:longer|higher|more|up|grow\w*|grew|increas\w*|better|bigger|improv\w*|rise|rose)\b", re.I)
_DOWN = re.compile(
    r"\b(?:shorter|lower|less|down|drop\w*|fell|fall\w*|declin\w*|worse|smaller|shrunk|shrink\w*)\b", re.I
)


def _two_periods(question: str, calls: list[dict[str, Any]]) -> str | None:
    """ "Has the cycle got longer this year than last year?": the same KPI in two periods, compared."""
    pair = [c for c in calls if c["name"] == "metrics"][:2]
    if len(pair) != 2:
        return None
    (a, b) = ((c["result"].get("metrics") or {}) for c in pair)
    if a.get("metric") != b.get("metric") or not all(isinstance(m.get("total"), int | float) for m in (a, b)):
        return None
    now, before, unit = float(a["total"]), float(b["total"]), str(a.get("unit", ""))
    rising = _UP.search(question) is not None
    falling = _DOWN.search(question) is not None
    if rising == falling:
        return None
    yes = now > before if rising else now < before
    name = str(a["metric"]).replace("_", " ")
    return (
        f"{'Yes' if yes else 'No'}: {name} is {fmt.value(now, unit)} in {a.get('period')} against "
        f"{fmt.value(before, unit)} in {b.get('period')}."
    )


def verdict(question: str, calls: list[dict[str, Any]]) -> str | None:
    """'Yes: ...' / 'No: ...' from the first result that settles the question, else None."""
    if not is_yes_no(question):
        return None
    compared = _two_periods(question, calls)
    if compared:
        return compared
    for call in calls:
        result = call.get("result") or {}
        m = result.get("metrics") or {}
        if call["name"] == "forecast":
            current = m.get("current_period") or {}
            first = m.get("total_first_period") or {}
            use_current = bool(_CURRENT.search(question)) and current.get("target")
            q = current if use_current else first
            rows = (result.get("tables") or {}).get("current_period") or [{}]
            period = (
                f"{rows[0].get('period', 'this quarter')} (this quarter)" if use_current else str(m.get("first_period"))
            )
            if isinstance(q.get("p50"), int | float) and isinstance(q.get("target"), int | float) and q["target"]:
                return _against(float(q["p50"]), q.get("p90"), float(q["target"]), f"{period} lands at")
        if call["name"] == "quota_simulate" and (asked := _SHARE_OF_REPS.search(question)):
            wanted = float(asked[2]) / 100 if asked[2] else 0.5
            share = (m.get("share_reps_at_quota") or {}).get("p50")
            if isinstance(share, int | float):
                word = "Yes" if share > wanted else "No"
                return (
                    f"{word}: at P50 {fmt.share(share)} of reps reach quota in {m.get('period')} "
                    f"(P10 {fmt.share(m['share_reps_at_quota'].get('p10'))}, P90 "
                    f"{fmt.share(m['share_reps_at_quota'].get('p90'))}), against the {fmt.share(wanted)} asked about."
                )
        if call["name"] == "capacity_gap":
            cap, target = m.get("capacity") or {}, m.get("target")
            if isinstance(cap.get("p50"), int | float) and isinstance(target, int | float) and target:
                text = _against(float(cap["p50"]), cap.get("p90"), float(target), f"{m.get('period')} capacity is")
                hires = m.get("hires_needed")
                return text + (f" {hires} hires close it." if text.startswith("No") and hires else "")
    return None
