"""Tool-schema tokens per model call (issue 19): what a language model is sent on every call.

Counted with OpenAI's o200k_base encoding (the `bpe-openai` package ships it, so no download),
over the schemas as compact JSON (a provider's own rendering differs by a few percent). Side by
side: every tool's full schema as LangChain renders the input model, the slim model-facing
schema (agent/tool_schemas.py), and, over every eval case (615 prompts in many voices, follow-ups
with their earlier turns), the tools a request is shown (agent/tool_choice.py): how often the
tools the case expects are among them, and the tokens per call. Target: under 2,000.
"""

from __future__ import annotations

import json
import statistics
from typing import Any

from bench.report import table, write_section

TARGET = 2_000


def _tokens(encoding: Any, schemas: list[dict[str, Any]]) -> int:
    return len(encoding.encode(json.dumps(schemas, separators=(",", ":"))))


def run() -> None:
    import bpe_openai
    from langchain_core.utils.function_calling import convert_to_openai_tool

    from agent import tool_schemas
    from agent.planner.intents import intent_model
    from agent.tool_choice import choose
    from agent.tools import tools
    from evals.cases import load_all

    encoding = bpe_openai.get_encoding("o200k_base")
    full = {t.name: convert_to_openai_tool(t) for t in tools()}
    slim = {s["function"]["name"]: s for s in tool_schemas.for_model()}
    tokens = {name: _tokens(encoding, [schema]) for name, schema in slim.items()}
    per_tool = [[name, _tokens(encoding, [full[name]]), tokens[name]] for name in full]
    per_tool.append(["**all tools**", _tokens(encoding, list(full.values())), _tokens(encoding, list(slim.values()))])

    model = intent_model()
    cases = load_all()
    shown: list[int] = []
    expected = covered = 0
    missed: list[str] = []
    for case in cases:
        earlier: set[str] = set()  # stands in for the tools the earlier turns called: what they were shown
        for turn in case.conversation:
            earlier |= set(choose(turn, model.scores([turn])[0], earlier))
        bound = choose(case.prompt, model.scores([case.prompt])[0], earlier)
        shown.append(_tokens(encoding, [slim[n] for n in bound]))
        if case.expect.tools:
            expected += 1
            if set(case.expect.tools) <= set(bound):
                covered += 1
            else:
                missed.append(case.id)
    shown.sort()
    over = sum(t >= TARGET for t in shown)

    def everything(label: str, schemas: list[dict[str, Any]]) -> list[str]:
        n = _tokens(encoding, schemas)
        every = len(shown) if n >= TARGET else 0
        return [label, f"{n:,}", f"{n:,}", f"{n:,}", f"{every} of {len(shown)}", f"{expected} of {expected} (100%)"]

    rows: list[list[str]] = [
        everything("every tool, full schemas (before)", list(full.values())),
        everything("every tool, slim schemas", list(slim.values())),
        [
            "tools chosen per request",
            f"{statistics.median(shown):,.0f}",
            f"{shown[int(0.9 * len(shown))]:,}",
            f"{shown[-1]:,}",
            f"{over} of {len(shown)} ({over / len(shown):.1%})",
            f"{covered} of {expected} ({covered / expected:.1%})",
        ],
    ]
    write_section(
        "tool_schemas",
        "## Tool-schema tokens per model call (issue 19)\n\n"
        + table(["tool", "full schema", "slim schema (model-facing)"], per_tool)
        + "\n\nPer call, over every eval case:\n\n"
        + table(["what is bound", "median", "p90", "max", f"calls at {TARGET:,}+", "expected tools bound"], rows)
        + f"\n\nExpected tools not bound: {', '.join(missed) or 'none'} (the classifier reads their first step as "
        "another tool's request, so the model is not shown that tool; a model that names it anyway still has it "
        "run). Tokens: o200k_base over compact "
        "JSON. Reproduce: `python -m bench tool_schemas`.",
    )
