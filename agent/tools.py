"""Tool adapters: each registered planning tool (tools/registry.py) as a LangChain tool whose
schema is the tool's own pydantic input model, so a model sees typed arguments with their
descriptions.

The warehouse and the user's scope come from the run's context (injected as `runtime`, which
the model never sees); a tool can therefore only read what the user may read, whatever the
arguments say. A tool returns (compact JSON for the model, the full result as the artifact).
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Any

from langchain_core.tools import InjectedToolArg, StructuredTool
from langgraph.prebuilt.tool_node import ToolRuntime
from pydantic import create_model

from agent.context import run_of, state_field
from tools import registry
from tools.spec import ToolSpec

CONTENT_LIMIT = 6_000  # characters of a result shown to a language model
ROWS_SHOWN = 5


def _compact(value: Any, depth: int = 0) -> Any:
    """A small view of a result for a model: scalars, short lists, first rows of tables."""
    if isinstance(value, dict):
        if depth > 2:
            return {k: v for k, v in value.items() if not isinstance(v, dict | list)}
        return {k: _compact(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_compact(v, depth + 1) for v in value[:ROWS_SHOWN]]
    return value


def content_for_model(result: dict[str, Any]) -> str:
    view = {
        "tool": result.get("tool"),
        "summary": result.get("summary"),
        "metrics": _compact(result.get("metrics", {})),
        "recommendations": [
            {"action": r["action"], "impact": r["impact"], "confidence": r["confidence"]}
            for r in result.get("recommendations", [])[:ROWS_SHOWN]
        ],
        "warnings": [w["message"] for w in result.get("warnings", [])[:ROWS_SHOWN]],
        "tables": {name: rows[:ROWS_SHOWN] for name, rows in result.get("tables", {}).items()},
    }
    text = json.dumps(view, default=str)
    if len(text) > CONTENT_LIMIT:
        view.pop("tables")
        text = json.dumps(view, default=str)[:CONTENT_LIMIT]
    return text


def adapter(spec: ToolSpec) -> StructuredTool:
    """The LangChain tool for `spec`: the input model plus the injected runtime."""
    schema = create_model(
        f"{spec.name}_args",
        __base__=spec.input_model,
        __doc__=spec.input_model.__doc__,
        runtime=(Annotated[Any, InjectedToolArg], None),
    )

    def run(runtime: ToolRuntime, **kwargs: Any) -> tuple[str, dict[str, Any]]:
        ctx = run_of(runtime.state, runtime)
        params = spec.input_model(**kwargs)
        ctx.settings.limits.check(params)
        if spec.apply is not None:
            approvals = state_field(runtime.state, "approvals", {})
            result = spec.apply(ctx.warehouse, params, approvals.get(runtime.tool_call_id or ""))
        else:
            assert spec.run is not None
            result = spec.run(ctx.warehouse, params, ctx.user)
        data = result.model_dump(mode="json")
        return content_for_model(data), data

    return StructuredTool.from_function(
        func=run,
        name=spec.name,
        description=spec.description,
        args_schema=schema,
        response_format="content_and_artifact",
    )


def tools() -> list[StructuredTool]:
    """Adapters of the registered tools (built once per registry)."""
    return _adapters(registry.TOOLS)


@cache
def _adapters(specs: tuple[ToolSpec, ...]) -> list[StructuredTool]:
    return [adapter(s) for s in specs]
