"""Which tools a request binds for a language model: the ones it can need, not all of them.

Every model call carries every bound schema; all of them are over 4,000 tokens
(`bench/tool_schemas.py`), more than a small local model's default context holds. The offline
planner's intent classifier (agent/planner/intents.py) already reads what a request is about:
its likely intents' tools are bound, plus the tools the thread used before (a follow-up keeps
working on them), plus the ones whose need shows in the words rather than the intent (a
comparison of options, an explanation of a variance, a fiscal calendar stated, a scenario to
apply), and the scenario list, which is small. Together they stay within a token budget: the
thread's tools always stay, then the likeliest tool, the ones the words ask for and the other
likely ones, in that order, each while it fits. A model that calls a tool it was not shown
still gets it run (the tool node holds every tool). Recall and size over every eval case are
measured in `bench/tool_schemas.py`. Pure (the schema sizes are the code's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from tools import registry

# Chosen on every eval case (bench/tool_schemas.py): the expected tools are bound in 545 of 548,
# half the calls carry under 1,110 tokens of schemas, 9 in 10 under 1,640, none 1,850 or more.
COVERAGE = 0.9  # the likeliest tools are bound until they hold this share of the tool intents' probability
MOST = 2  # ... but no more than this many by likelihood alone
LIKELY = 0.1  # an intent at least this likely always brings its tool along
ALWAYS = ("scenarios",)
BUDGET = 2_000  # schema tokens per call (issue 19), as agent/tool_schemas.py estimates them (erring high)
CUES = {
    "compare_plans": re.compile(
        r"\b(compar\w*|versus|vs\.?|options?|alternatives?|which (?:one|is|gives|would|of)|best|side by side|"
        r"trade-?offs?|against each other)\b",
        re.I,
    ),
    "explain_variance": re.compile(
        r"\b(why|explain\w*|drivers?|driven|variance|what changed|what drove|miss(?:ed|ing)?|behind|fell short|"
        r"gap to)\b",
        re.I,
    ),
    "pipeline_movement": re.compile(
        r"\bpipe(?:line)?\b.{0,60}\b(?:chang\w*|mov\w*|waterfall|walk|pushed|slipp\w*|pulled in|since)\b"
        r"|\b(?:chang\w*|mov\w*|waterfall|walk|pushed|slipp\w*)\b.{0,60}\bpipe(?:line)?\b",
        re.I,
    ),
    "set_fiscal_calendar": re.compile(r"\bfiscal (?:year|calendar|quarter)s? (?:starts?|begins?|runs?)\b", re.I),
    "apply_scenario": re.compile(r"\b(apply|publish|push (?:it )?live|make (?:it )?live|roll (?:it )?out)\b", re.I),
}


def choose(
    question: str,
    scores: Sequence[tuple[str, float]],
    earlier: Iterable[str],
    *,
    coverage: float = COVERAGE,
    most: int = MOST,
    budget: int = BUDGET,
    sizes: Mapping[str, int] | None = None,
) -> list[str]:
    """Tool names to bind, in registry order.

    `scores`: the classifier's (intent, probability) pairs, most likely first; `earlier`: tools
    the thread called before this question. The likeliest tools' intents are taken until they
    hold `coverage` of the probability the tool intents have (at most `most` of them), and any
    intent at least `LIKELY`. `sizes`: each tool's schema in tokens (default: the model-facing
    schemas' estimate); the tools bound hold at most `budget` of them, unless the thread's own
    tools alone hold more (those always stay: the conversation is about them)."""
    by_intent = {spec.intent: spec.name for spec in registry.TOOLS if spec.intent}
    ranked = [(by_intent[i], p) for i, p in scores if i in by_intent]
    mass = sum(p for _, p in ranked) or 1.0
    kept = list(dict.fromkeys(earlier))
    likely: list[str] = []
    held = 0.0
    for name, p in ranked:
        if (held >= coverage * mass or len(set(likely) - set(kept)) >= most) and p < LIKELY:
            break
        likely.append(name)
        held += p
    cued = [name for name, cue in CUES.items() if cue.search(question)]
    # Most needed first: the likeliest tool (what the request is about), the tools its words name,
    # the other likely ones, then the small ones every request gets.
    wanted = list(dict.fromkeys([*likely[:1], *cued, *likely[1:], *ALWAYS]))
    return _within(kept, wanted, budget, sizes)


def _within(kept: list[str], wanted: list[str], budget: int, sizes: Mapping[str, int] | None) -> list[str]:
    """`kept`, then each of `wanted` in order while it fits in `budget` (a tool that does not fit
    is left out, a smaller one after it may still fit), in registry order."""
    if sizes is None:
        from agent.tool_schemas import sizes as schema_sizes

        sizes = schema_sizes()
    chosen = set(kept)
    used = sum(sizes.get(name, 0) for name in chosen)
    for name in wanted:
        if name in chosen:
            continue
        if used + sizes.get(name, 0) <= budget:
            chosen.add(name)
            used += sizes.get(name, 0)
    return [spec.name for spec in registry.TOOLS if spec.name in chosen]
