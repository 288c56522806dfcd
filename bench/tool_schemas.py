"""Tool-schema tokens per model call (issue 19): what a language model is sent on every call.

Counted with OpenAI's o200k_base encoding (the `bpe-openai` package ships it, so no download),
over the schemas as compact JSON (a provider's own rendering differs by a few percent). Side by
side: every tool's full schema as LangChain renders the input model (without the enums its
conversion drops), the slim model-facing schema (agent/tool_schemas.py) and the estimate the
tool-choice budget counts, which must not fall below it; and, over every eval case (615 prompts
in many voices, follow-ups with their earlier turns), the tools a request is shown
(agent/tool_choice.py): how often the tools the case expects are among them, and the tokens per
call. Target: under 2,000.

A follow-up keeps the tools its thread called, so what the earlier turns called matters. Two
stand-ins for it: each earlier turn's likeliest tool and the tools its words name, among those it
was shown (what a model answering it calls), and, as the worst case, every tool it was shown.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from bench.report import table, write_section

TARGET = 2_000


def _tokens(encoding: Any, schemas: list[dict[str, Any]]) -> int:
    return len(encoding.encode(json.dumps(schemas, separators=(",", ":"))))


def _called(turn: str, scores: list[tuple[str, float]], shown: list[str]) -> set[str]:
    """What a model answering `turn` calls, as far as words and the classifier tell: its likeliest
    tool and the tools its words name, among those it was shown."""
    from agent.tool_choice import CUES
    from tools.registry import of_intent

    top = next((spec.name for intent, _ in scores if (spec := of_intent(intent)) is not None), None)
    return {name for name in [top, *(n for n, cue in CUES.items() if cue.search(turn))] if name in shown}


def _per_call(cases: list[Any], model: Any, measure: Any, every_shown: bool) -> tuple[list[str], list[str]]:
    """A table row over every case (tokens per call, expected tools bound) and the cases whose
    expected tools were not bound; `every_shown`: the earlier turns called every tool shown."""
    from agent.tool_choice import choose

    shown: list[int] = []
    expected = covered = 0
    missed: list[str] = []
    for case in cases:
        earlier: set[str] = set()  # stands in for the tools the earlier turns called
        for turn in case.conversation:
            scores = model.scores([turn])[0]
            bound = choose(turn, scores, earlier)
            earlier |= set(bound) if every_shown else _called(turn, scores, bound)
        bound = choose(case.prompt, model.scores([case.prompt])[0], earlier)
        shown.append(measure(bound))
        if case.expect.tools:
            expected += 1
            if set(case.expect.tools) <= set(bound):
                covered += 1
            else:
                missed.append(case.id)
    shown.sort()
    over = sum(t >= TARGET for t in shown)
    row = [
        f"{statistics.median(shown):,.0f}",
        f"{shown[int(0.9 * len(shown))]:,}",
        f"{shown[-1]:,}",
        f"{over} of {len(shown)} ({over / len(shown):.1%})",
        f"{covered} of {expected} ({covered / expected:.1%})",
    ]
    return row, missed


def run() -> None:
    import bpe_openai
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from agent import tool_schemas
    from agent.planner.intents import intent_model
    from agent.tools import tools
    from evals.cases import load_all

    encoding = bpe_openai.get_encoding("o200k_base")
    full = {t.name: convert_to_openai_tool(t) for t in tools()}
    slim = {s["function"]["name"]: s for s in tool_schemas.for_model()}
    estimated = tool_schemas.sizes()
    tokens = {name: _tokens(encoding, [schema]) for name, schema in slim.items()}
    low = [name for name in tokens if estimated[name] < tokens[name]]
    per_tool: list[list[object]] = [
        [name, _tokens(encoding, [full[name]]), tokens[name], estimated[name]] for name in full
    ]
    per_tool.append(
        [
            "**all tools**",
            _tokens(encoding, list(full.values())),
            _tokens(encoding, list(slim.values())),
            sum(estimated.values()),
        ]
    )

    model = intent_model()
    cases = load_all()
    expected = sum(1 for case in cases if case.expect.tools)

    def measure(names: list[str]) -> int:
        return _tokens(encoding, [slim[n] for n in names])

    def everything(label: str, schemas: list[dict[str, Any]]) -> list[str]:
        n = _tokens(encoding, schemas)
        every = len(cases) if n >= TARGET else 0
        return [label, f"{n:,}", f"{n:,}", f"{n:,}", f"{every} of {len(cases)}", f"{expected} of {expected} (100%)"]

    called, missed = _per_call(cases, model, measure, every_shown=False)
    worst, missed_worst = _per_call(cases, model, measure, every_shown=True)
    rows: list[list[str]] = [
        everything("every tool, full schemas (before)", list(full.values())),
        everything("every tool, slim schemas", list(slim.values())),
        ["tools chosen per request", *called],
        ["... if earlier turns called every tool they were shown", *worst],
    ]
    extra = [case for case in missed_worst if case not in missed]
    write_section(
        "tool_schemas",
        "## Tool-schema tokens per model call (issue 19)\n\n"
        + table(["tool", "full schema", "slim schema (model-facing)", "budget's estimate"], per_tool)
        + (f"\n\n**The estimate counts fewer tokens than the schema for {', '.join(low)}.**" if low else "")
        + "\n\nPer call, over every eval case:\n\n"
        + table(["what is bound", "median", "p90", "max", f"calls at {TARGET:,}+", "expected tools bound"], rows)
        + f"\n\nExpected tools not bound: {', '.join(missed) or 'none'} (the classifier reads their first step as "
        "another tool's request, so the model is not shown that tool; a model that names it anyway still has it "
        "run)"
        + (
            f"; in the worst case also {', '.join(extra)} (the tools the thread holds leave no room for the "
            "question's own within the budget)"
            if extra
            else ""
        )
        + ". The full schemas lack the enums LangChain's conversion drops, hence some slim ones are larger. "
        "Tokens: o200k_base over compact JSON. Reproduce: `python -m bench tool_schemas`.",
    )
