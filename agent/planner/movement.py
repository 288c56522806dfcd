"""Pipeline movement questions for the offline planner: "what changed in EMEA pipeline since
last Monday?", "pipeline walk for Q1 since the start of the quarter", "what got pushed out this
week?". They read like a variance question ("what changed") but ask about the pipeline's flows
between two days, so they are recognised before the explain template.

The earlier day comes from the words after "since" / "from" (any form tools.core.days knows),
"this week" (the last seven days, the tool's default) or "this quarter" (its start); a fiscal
period named with the pipeline ("Q1 pipeline") is the close window; the slice and any breakdown
are the request's own.
"""

from __future__ import annotations

import re
from typing import Any

from agent.planner.slots import Slots, Vocabulary
from tools.core.days import parse_day
from warehouse.errors import InputError

PIPELINE = re.compile(r"\bpipe(?:line)?s?\b|\bfunnel\b", re.IGNORECASE)
MOVED = re.compile(
    r"\bchang\w*|\bmov(?:ed|ement|ements|ing)\b|\bwaterfall\b|\bwalk\b|\bbridge\b|\bflows?\b|\bpushed\b|\bslipp?\w*"
    r"|\bpulled in\b|\bcame in\b|\bfell out\b|\bdropped out\b|\bwhat happened\b|\bnet new\b|\bdelta\b"
    r"|\bweek over week\b|\bwow\b|\bsince\b|\bshr[aiu]nk\b|\bgrew\b",
    re.IGNORECASE,
)
AHEAD = re.compile(r"\bforecast|\bcoverage\b|\bnext (?:year|half)\b|\bwill\b|\bif\b|\bhow much .* need", re.IGNORECASE)
SINCE = re.compile(r"\b(?:since|from|as of|compared (?:to|with)|vs\.?|versus)\s+([^,.?;!]+)", re.IGNORECASE)
THIS_QUARTER = re.compile(r"\b(?:this|the) quarter\b|\bqtd\b|\bquarter to date\b", re.IGNORECASE)
EVERY_CLOSE = re.compile(r"\b(?:all|whole|total|entire|overall) (?:open )?pipe(?:line)?\b|\bany close date", re.I)


def asks_movement(text: str) -> bool:
    return bool(PIPELINE.search(text) and MOVED.search(text) and not AHEAD.search(text))


def _since(text: str, vocab: Vocabulary) -> str | None:
    """The earlier day the words name, as the shortest leading phrase tools.core.days reads."""
    for m in SINCE.finditer(text):
        words = m[1].split()
        for n in range(min(len(words), 6), 0, -1):
            phrase = " ".join(words[:n])
            try:
                parse_day(phrase, vocab.as_of, vocab.calendar)
            except InputError:
                continue
            return phrase
    if re.search(r"\b(?:start|beginning) of (?:the |this )?quarter\b|\bquarter start\b", text, re.I):
        return "quarter start"
    span = re.search(r"\b(?:last|past) (\d+|two|three|four) (days|weeks)\b", text, re.I)
    if span:
        return f"{span[1]} {span[2]} ago"
    return None


def plan_args(text: str, s: Slots, vocab: Vocabulary) -> dict[str, Any]:
    args: dict[str, Any] = {}
    since = _since(text, vocab)
    if since is None and THIS_QUARTER.search(text) and not re.search(r"this week|last week|past week", text, re.I):
        since = "quarter start"
    if since and since.lower() not in ("last week", "a week ago", "this week"):
        args["since"] = since
    if EVERY_CLOSE.search(text):
        args["close_in"] = "all"
    else:
        ahead = [p for p in s.future(vocab) if p.end > vocab.as_of and p.grain in ("quarter", "half", "year", "month")]
        named = [p for p in ahead if not THIS_QUARTER.search(text) or p.start > vocab.as_of]
        if named:
            args["close_in"] = named[0].name
    by = [d for d in s.by if d in ("region", "segment", "product", "rep", "manager")]
    if by:
        args["by"] = by
    filters = s.filters()
    if filters:
        args["filters"] = filters
    return args
