"""The tool schemas a language model is sent: the tools' own input models, minus the expert knobs.

Every model call re-sends every bound schema, so their size is a cost on each call (and local
models with a small default context, such as Ollama's, overflow). The knobs below exist for
the CLI, benchmarks and replay (reproducible seeds, trial counts, solver limits, a historical
as-of date); a model filling them in only makes answers slower or less reproducible, so it
never sees them, and the tools' defaults apply. What a model does not read goes too (field
titles, the `null` branch of optional fields), and each schema says that no other property is
allowed. The tools themselves still validate every argument a call carries.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from agent.tools import tools

EXPERT_KNOBS = frozenset({"as_of", "seed", "trials", "time_limit", "k_nearest", "reconcile"})


def _slim(node: Any) -> Any:
    """A JSON schema without what a model does not read: `title`s (pydantic's names of each
    field, repeating the property names) and the `null` branch of an optional field (a field
    that is not required may already be left out; its default is the tool's)."""
    if not isinstance(node, dict):
        return node
    node = {k: v for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    branches = node.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches and len(branches) == 2:
        (kept,) = [b for b in branches if b != {"type": "null"}]
        outer = {k: v for k, v in node.items() if k != "anyOf" and not (k == "default" and v is None)}
        return _slim({**kept, **outer})  # the field's own description wins over its type's
    for key in ("properties", "$defs"):
        if isinstance(node.get(key), dict):
            node[key] = {name: _slim(sub) for name, sub in node[key].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _slim(node[key])
    if isinstance(node.get("anyOf"), list):
        node["anyOf"] = [_slim(b) for b in node["anyOf"]]
    return node


def model_schema(tool: Any) -> dict[str, Any]:
    """`tool` (a LangChain tool) in OpenAI's function format, as the model sees it."""
    from langchain_core.utils.function_calling import convert_to_openai_tool

    schema = convert_to_openai_tool(tool)
    parameters = _slim(schema["function"]["parameters"])
    # LangChain's conversion drops what an input model adds to a field's schema (json_schema_extra):
    # the closed sets (metrics.metric, forecast.by, data_check.checks) come back from the model itself.
    own = tool.args_schema.model_json_schema().get("properties", {}) if tool.args_schema else {}
    for name, prop in parameters.get("properties", {}).items():
        field = own.get(name, {})
        if field.get("enum"):
            prop["enum"] = field["enum"]
        if (field.get("items") or {}).get("enum") and isinstance(prop.get("items"), dict):
            prop["items"]["enum"] = field["items"]["enum"]
    schema["function"]["parameters"] = parameters
    for knob in EXPERT_KNOBS & set(parameters.get("properties", {})):
        del parameters["properties"][knob]
    if "required" in parameters:
        parameters["required"] = [r for r in parameters["required"] if r not in EXPERT_KNOBS]
    parameters["additionalProperties"] = False
    return schema


@cache
def for_model() -> tuple[dict[str, Any], ...]:
    """Every tool's schema as bound to a language model."""
    return tuple(model_schema(t) for t in tools())


def characters(schemas: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> int:
    """Characters of the schemas as JSON (what the request carries, before tokenising)."""
    return len(json.dumps(list(schemas), separators=(",", ":")))
