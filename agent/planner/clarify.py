"""Ask only when a required piece is missing or ambiguous, and name it with the default.

"What if we raise quotas next year?" lacks how much; "how's chen doing?" matches several reps;
"rebalance the region" names no region. Each question gets the piece it lacks, the choices, and
what would run by default, instead of a generic "I am not sure".
"""

from __future__ import annotations

import re
from typing import Any

from agent.planner.slots import Slots, Vocabulary

_CHANGE = re.compile(
    r"\b(?:raise|raising|increase|increasing|lift|bump|cut|cutting|lower|lowering|reduce|trim)\b", re.I
)
_VAGUE_AMOUNT = re.compile(
    r"\b(?:the|our|that) (?:haircut|stretch|uplift|adjustment|bump)\b|\bstretch (?:target|goal)\b"
    r"|\b(?:revised|new|updated) target\b|\bthe (?:hires|haircut|target|number|budget)\s+(?:\w+\s+){0,3}"
    r"(?:approved|agreed|sent|mentioned|discussed|signed off)\b",
    re.I,
)
_LEVER_NO_AMOUNT = re.compile(
    r"\b(?:win[- ]?rate|deal[- ]size|pipeline)[- ](?:bump|lift|uplift|boost|increase|improvement|drop|cut)\b", re.I
)
_OPEN_SEAT = re.compile(
    r"\bopen req\w*|\bnew (?:ae|hire|rep)\b.{0,40}\b(?:book|territory|patch)"
    r"|\b(?:book|territory|patch) for (?:the |that |a )?(?:new|open)",
    re.I,
)
_THE_REGION = re.compile(r"\b(?:the|that|this) (?:region|territory|segment)\b", re.I)
_TREND = re.compile(r"\b(?:trend|trending|numbers|how (?:are|is) \w+ doing|performance)\b", re.I)
_FIGURE = re.compile(
    r"bookings|pipeline|win rate|close rate|deal size|cycle|coverage|attainment|quota|headcount|forecast|revenue|arr|"
    r"bookings|closed|won|acv",
    re.I,
)
_REP_WORD = re.compile(r"\b([A-Z][a-z]{2,})\b")


def _ambiguous_rep(question: str, vocab: Vocabulary, slots: Slots) -> list[str]:
    """Full rep names sharing the one name the question gives ("chen": Chen Tanaka, Rosa Chen)."""
    if slots.reps or slots.managers:
        return []
    for word in re.findall(r"[A-Za-z]{3,}", question):
        low = word.lower()
        hits = [name for name in vocab.reps if low in name.lower().split()]
        if len(hits) >= 2 and low not in {"the", "and", "for"}:
            return sorted(hits)
    return []


def missing_piece(question: str, slots: Slots, vocab: Vocabulary, intent: str | None, prev: Any) -> str | None:
    """The clarifying question, when a piece the request needs is missing; else None."""
    reps = _ambiguous_rep(question, vocab, slots)
    if reps and re.search(r"\bhow(?:'s| is)\b|\bdoing\b|\bquota\b|\battainment\b|\bpipeline\b", question, re.I):
        return (
            f"Which rep do you mean: {', '.join(reps[:-1])} or {reps[-1]}? Say the full name "
            f'("how is {reps[0]} doing against quota this quarter?").'
        )
    if intent == "quota" and _CHANGE.search(question) and not (slots.percents or slots.amounts or slots.points):
        who = ", ".join(slots.regions + slots.segments) or "every region"
        return (
            f"By how much should quotas change, and for whom? I can run {who} at +10% (say for example "
            f'"raise {who if who != "every region" else "EMEA"} quotas 10%").'
        )
    if _LEVER_NO_AMOUNT.search(question) and not (slots.percents or slots.amounts or slots.points):
        return (
            "By how much should it change (e.g. +2 points of win rate, +10% pipeline)? Say the size of the change "
            'and I will show baseline, what-if and the difference ("what if win rates rise 2 points in Q1?").'
        )
    if _VAGUE_AMOUNT.search(question) and not (slots.percents or slots.amounts or slots.points):
        piece = "target" if re.search(r"stretch", question, re.I) else "amount"
        what = "stretch target" if piece == "target" else "change"
        return (
            f"What is the {what} (an amount or a percent)? I do not have it on record. Without it I can run the "
            'plan against the targets table; say for example "a $55M stretch target" or "a 10% haircut".'
        )
    if (
        intent in ("territory", "capacity", "quota")
        and _THE_REGION.search(question)
        and not (slots.regions or slots.segments)
        and prev is None
    ):
        return (
            f"Which region should I use: {', '.join(vocab.regions)}? Say for example "
            f'"rebalance {vocab.regions[0] if vocab.regions else "EMEA"} within 10%".'
        )
    if _OPEN_SEAT.search(question) and intent in (None, "territory"):
        where = ", ".join(slots.regions + slots.segments) or "that region"
        return (
            f"A book for a seat nobody holds yet is not something the rebalance can carve today: it balances the "
            f'reps who own accounts now. I can rebalance {where} among its current reps (say "rebalance {where} '
            'within 10%"), or size the hires with a capacity plan.'
        )
    if (
        intent == "scenarios"
        and re.search(r"side by side|\bcompare|\bvs\.?\b|versus|against each other", question, re.I)
        and len(slots.scenarios) < 2
    ):
        known = ", ".join(vocab.scenarios[-8:]) or "none saved yet"
        return f'Which two scenarios should I compare? Saved scenarios: {known}. Say for example "compare A and B".'
    if intent == "metrics" and _TREND.search(question) and not _FIGURE.search(question):
        return (
            "Which figure should I trend: bookings, pipeline, win rate, deal size or attainment? "
            "I can show bookings by quarter if you like."
        )
    return None


def unsure() -> str:
    """When the request is not recognisably any planning question: say so, and what would help."""
    return (
        "I could not tell which planning question this is (a forecast, a quota plan, a territory "
        "rebalance, hiring capacity, a KPI or a data check). Which of these do you want, and for which "
        'region and period? For example "forecast next quarter by region" or "what if we raise EMEA '
        'quotas 10%?".'
    )


_OUT_OF_SCOPE = re.compile(
    r"^\W*(?:hey,?\s+)?(?:can you |could you |would you |please |pls )?(?:e-?mail|send|text|message|post|mark|update|"
    r"schedule|book|call|delete|write to|tell)\b(?!.{0,20}\b(?:me|us)\b.{0,20}\b(?:forecast|quota|pipeline))"
    r"|\bin salesforce\b|\bin the crm\b"
    r"|\b(?:e-?mail|send|text|post|message)\s+(?:it|them|this|that|each|every|all|the|my|our|to)\b"
    r"|\bdraft (?:the|a|an|our) [^.?]{0,40}\b(?:document|doc|deck|letter|e-?mail|memo)\b",
    re.IGNORECASE,
)
GUESSES = (  # when the classifier is unsure: the words that make the request's domain plain, in order
    ("apply", r"\b(?:apply|ship|publish|push|promote|make)\b.{0,40}\b(?:live|scenario|draft|base data)\b"),
    ("data_check", r"duplicate|zombie|stale|orphan|outlier|zips?\b.{0,30}(?:map|territor)|data (?:check|quality)"),
    ("capacity", r"\bhir(?:e|es|ing)\b|capacity|attrition|\bramp|\bnew (?:aes?|reps?|sellers|heads)\b"),
    ("territory", r"rebalanc|territor|\bband\b|\bcarve\b|\bbook\b.{0,30}\b(?:seat|req|hire|ae)\b|open req"),
    ("quota", r"quota|allocat|over[- ]?assign"),
    ("forecast", r"forecast|landing|\bland\b|\bcommit\b|\bp10\b|\bp90\b|outlook|\bslip"),
    ("metrics", r"bookings|win rates?|pipeline|coverage|cycle|deal sizes?|attainment|headcount|closed|booked"),
)


def out_of_scope(question: str) -> bool:
    """An action on another system ("email my reps", "mark it closed won in Salesforce")."""
    return _OUT_OF_SCOPE.search(question) is not None


def guess(question: str) -> str | None:
    """The intent the request's own words name, when the classifier could not tell."""
    return next((intent for intent, pattern in GUESSES if re.search(pattern, question, re.IGNORECASE)), None)
