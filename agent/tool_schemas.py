"""The tool schemas a language model is sent: the tools' own input models, minus the expert knobs.

Every model call re-sends every bound schema, so their size is a cost on each call (and local
models with a small default context, such as Ollama's, overflow); the tools a request is shown
stay under `agent/tool_choice.py`'s budget. The knobs below exist for the CLI, benchmarks and
replay (reproducible seeds, trial counts, solver limits, a historical as-of date); a model
filling them in only makes answers slower or less reproducible, so it never sees them, and the
tools' defaults apply. What a model does not read goes too (field titles, the `null` branch of
optional fields, the model's own docstring beside the tool's description).

What a model must fill right is spelled out: the arguments list their `required` fields (an
empty list when none is; a nested object lists them when it has any), no object allows other
properties, and every closed set is an enum, including the dimensions a `filters` map accepts
(sent as one property per dimension). The only open objects are compare_plans' `base` and
`args`: another tool's arguments, which that tool validates.
Units and the percent convention are in each field's description: fractions for shares
(0.1 = 10%), percent where the field's name ends in `_pct` (10 = 10%), percentage points for
`_pts`. The schemas are sent without OpenAI's `strict` flag: strict mode requires every property
to be required (optional ones as nullable), which would make every model fill every argument,
and refuses map-typed objects such as compare_plans' arguments. The tools themselves still
validate every argument a call carries.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from agent.tools import tools

# Knobs a model should not turn: solver internals, and carving rules that come from files (named
# accounts) or the CRM (families), which the CLI and scripts set.
EXPERT_KNOBS = frozenset({"as_of", "seed", "trials", "time_limit", "k_nearest", "reconcile", "named", "keep_families"})
CHARS_PER_TOKEN = 3.8  # the schemas run 4.0-4.9 characters a token (o200k_base); this errs high


def _members(node: dict[str, Any]) -> dict[str, Any]:
    """A map whose keys are a closed set (`propertyNames` enum, e.g. `filters`) as one optional
    property per key: models fill named properties more reliably than a key constraint."""
    keys = node.pop("propertyNames")["enum"]
    value = node.pop("additionalProperties")
    return {**node, "properties": dict.fromkeys(keys, value), "additionalProperties": False}


def _said(key: str, value: Any) -> bool:
    """Whether a model needs to read this keyword: not a `title` (pydantic's name of each field,
    repeating the property name), not a default that means "nothing" (0, false, none: leaving
    the field out says the same), not a lower bound of zero (no USD, month or share a model
    fills is negative; the tool refuses one)."""
    if key == "title":
        return not isinstance(value, str)
    if key == "default":
        return bool(value)
    if key in ("minimum", "exclusiveMinimum"):
        return value != 0
    return True


def _slim(node: Any, nested: bool = False) -> Any:
    """A JSON schema as a model reads it: only the keywords it needs (`_said`), no `null` branch
    of an optional field (a field that is not required may already be left out; its default is
    the tool's), a tuple of one type as a plain array, closed maps as properties, and every
    object closed to other properties; the top level always says what is required."""
    if not isinstance(node, dict):
        return node
    node = {k: v for k, v in node.items() if _said(k, v)}
    branches = node.get("anyOf")
    if isinstance(branches, list) and {"type": "null"} in branches and len(branches) == 2:
        (kept,) = [b for b in branches if b != {"type": "null"}]
        outer = {k: v for k, v in node.items() if k != "anyOf"}  # its `default: null` is gone already
        return _slim({**kept, **outer}, nested)  # the field's own description wins over its type's
    prefix = node.get("prefixItems")
    if isinstance(prefix, list) and prefix and all(p == prefix[0] for p in prefix):
        node = {k: v for k, v in node.items() if k != "prefixItems"}
        node["items"] = prefix[0]
    if isinstance((node.get("propertyNames") or {}).get("enum"), list) and isinstance(
        node.get("additionalProperties"), dict
    ):
        node = _members(node)
    if isinstance(node.get("properties"), dict):
        node["properties"] = {key: _slim(sub, True) for key, sub in node["properties"].items()}
        node.setdefault("additionalProperties", False)
        if not nested:
            node.setdefault("required", [])
        elif not node.get("required"):
            node.pop("required", None)  # nothing in a nested object is required: said by its absence
    items = node.get("items")
    if isinstance(items, dict):
        if "description" in node:  # the field's own description wins over its item type's docstring
            items = {k: v for k, v in items.items() if k != "description"}
        node["items"] = _slim(items, True)
    if isinstance(node.get("additionalProperties"), dict):
        node["additionalProperties"] = _slim(node["additionalProperties"], True)
    if isinstance(node.get("anyOf"), list):
        node["anyOf"] = [_slim(b, nested) for b in node["anyOf"]]
    return node


def model_schema(tool: Any) -> dict[str, Any]:
    """`tool` (a LangChain tool) in OpenAI's function format, as the model sees it."""
    from langchain_core.utils.function_calling import convert_to_openai_tool
    from langchain_core.utils.json_schema import dereference_refs

    schema = convert_to_openai_tool(tool)  # the name, the description, the arguments a model fills
    shown = [name for name in schema["function"]["parameters"].get("properties", {}) if name not in EXPERT_KNOBS]
    # The input model's own schema, not LangChain's rendering of it: the conversion drops what a
    # field adds to its schema (json_schema_extra), the closed sets among them.
    own = dereference_refs(tool.args_schema.model_json_schema())
    parameters = {
        "type": "object",
        "properties": {name: own["properties"][name] for name in shown},
        "required": [name for name in own.get("required", []) if name in shown],
    }
    schema["function"]["parameters"] = _slim(parameters)
    return schema


@cache
def for_model() -> tuple[dict[str, Any], ...]:
    """Every tool's schema as bound to a language model."""
    return tuple(model_schema(t) for t in tools())


def characters(schemas: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> int:
    """Characters of the schemas as JSON (what the request carries, before tokenising)."""
    return len(json.dumps(list(schemas), separators=(",", ":")))


@cache
def sizes() -> dict[str, int]:
    """Each tool's schema in estimated tokens (no tokenizer at run time; bench/tool_schemas.py
    counts the real ones and checks that this errs high)."""
    return {s["function"]["name"]: round(characters([s]) / CHARS_PER_TOKEN) for s in for_model()}
