"""Reading what real chat models send back when it is not a clean tool call. Pure.

Models served by vLLM, Ollama or llama.cpp often write a tool call into the reply's text
instead of the API's `tool_calls` (`<tool_call>{...}</tool_call>` from Hermes and Qwen
templates, `<|python_tag|>{...}` from Llama 3.1, a fenced JSON block, or the bare JSON object),
and any model now and then sends arguments that are not valid JSON (LangChain keeps those as
`invalid_tool_calls`). Both used to end the run with an empty or nonsensical "answer" and
status ok. Here they are read when the reading is unambiguous: arguments that Python's literal
syntax reads (single quotes, True/None, a trailing comma) or that are JSON encoded twice, and
text-form calls whose every block names a known tool with object arguments. Anything else is a
`Problem` the graph sends back to the model for one retry.
"""

from __future__ import annotations

import ast
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

_BLOCKS = (
    re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL),
    re.compile(r"<\|python_tag\|>\s*(.*?)\s*(?:<\|eom_id\|>|<\|eot_id\|>|$)", re.DOTALL),
    re.compile(r"```(?:json|tool_call)?\s*(\{.*?\})\s*```", re.DOTALL),
)
_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


@dataclass(frozen=True)
class Problem:
    """A tool call that could not be read, and what to tell the model about it."""

    name: str | None
    raw: str
    reason: str


def parse_arguments(raw: Any) -> dict[str, Any] | None:
    """Tool-call arguments as a dict when one reading is clear, else None."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        return None
    text = _FENCE.sub("", raw.strip())
    if not text:
        return {}
    for attempt in (json.loads, ast.literal_eval):
        try:
            value = attempt(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        if isinstance(value, str):  # encoded twice: '"{\"metric\": \"pipeline\"}"'
            return parse_arguments(value) if value.strip().startswith("{") else None
        return value if isinstance(value, dict) else None
    return None


def _call(body: Any, known: set[str]) -> dict[str, Any] | str:
    """One text-form call as a tool call, or why it is not one."""
    if not isinstance(body, dict):
        return "it is not a JSON object"
    function = body["function"] if isinstance(body.get("function"), dict) else {}  # OpenAI's own shape
    name = body.get("name") or function.get("name")
    if not isinstance(name, str) or name not in known:
        return f"{name!r} is not one of the tools" if name else "it names no tool"
    raw = function.get("arguments", next((body[k] for k in ("arguments", "parameters", "args") if k in body), {}))
    args = parse_arguments(raw)
    if args is None:
        return f"the arguments of {name} are not a JSON object"
    return {"name": name, "args": args, "id": f"call_text_{uuid.uuid4().hex[:12]}", "type": "tool_call"}


def text_tool_calls(content: str, known: set[str]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """Tool calls written into a reply's text: (calls, problems). Both empty: plain text.

    Tagged blocks are calls whatever they hold; a fenced or bare JSON object is one only when it
    has the shape of a call (a name and arguments), so an answer quoting JSON stays an answer."""
    tagged = [m.group(1) for pattern in _BLOCKS[:2] for m in pattern.finditer(content)]
    loose = [m.group(1) for m in _BLOCKS[2].finditer(content)]
    stripped = content.strip()
    if not tagged and not loose and stripped.startswith("{") and stripped.endswith("}"):
        loose = [stripped]  # the whole reply is one JSON object
    calls: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for block, explicit in [(b, True) for b in tagged] + [(b, False) for b in loose]:
        body = parse_arguments(block)
        shaped = isinstance(body, dict) and (
            isinstance(body.get("function"), dict)
            or ("name" in body and any(k in body for k in ("arguments", "parameters", "args")))
        )
        if body is None and explicit:
            problems.append(Problem(None, block[:300], "the tool call written in the text is not valid JSON"))
        if body is None or not (shaped or explicit):
            continue  # plain text, or a JSON example in an answer
        found = _call(body, known)
        if isinstance(found, str):
            problems.append(Problem(body.get("name"), block[:300], found))
        else:
            calls.append(found)
    return calls, problems


def repair_invalid(invalid: list[dict[str, Any]], known: set[str]) -> tuple[list[dict[str, Any]], list[Problem]]:
    """LangChain's `invalid_tool_calls` (arguments that were not JSON) read where unambiguous."""
    calls: list[dict[str, Any]] = []
    problems: list[Problem] = []
    for bad in invalid:
        name, raw = bad.get("name"), bad.get("args") or ""
        args = parse_arguments(raw)
        if name in known and args is not None:
            calls.append({"name": name, "args": args, "id": bad.get("id") or f"call_fixed_{uuid.uuid4().hex[:12]}",
                          "type": "tool_call"})  # fmt: skip
        else:
            why = f"{name!r} is not one of the tools" if name not in known else "its arguments are not valid JSON"
            problems.append(Problem(name, str(raw)[:300], why + (f" ({bad['error']})" if bad.get("error") else "")))
    return calls, problems


def retry_instruction(problems: list[Problem]) -> str:
    """What the model is told when its tool call could not be read (one retry)."""
    lines = [f"- {p.name or 'a tool call'}: {p.reason}; you sent: {p.raw}" for p in problems]
    return (
        "Your last reply tried to call a tool, but the call could not be read:\n"
        + "\n".join(lines)
        + "\nCall the tool again through the tool-calling interface, with arguments that are one valid JSON "
        "object matching the tool's schema. Do not write tool calls in the text."
    )
