"""What a language model is shown: slim tool schemas (agent/tool_schemas.py) and only the tools a
request can need (agent/tool_choice.py). Sizes and recall over every eval case: bench/tool_schemas.py."""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent import tool_schemas
from agent.planner.intents import intent_model
from agent.tool_choice import BUDGET, choose
from agent.tools import tools
from tools.registry import BY_NAME, TOOLS

OPEN = {("compare_plans", "base"), ("compare_plans", "args")}  # another tool's arguments, checked by that tool


def _objects(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object schema in `node`, with where it is ('filters', 'adjustments[]', ...)."""
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield path, node
        for name, sub in (node.get("properties") or {}).items():
            yield from _objects(sub, name)
        if isinstance(node.get("items"), dict):
            yield from _objects(node["items"], path + "[]")


def test_model_schemas_keep_every_argument_but_the_expert_knobs() -> None:
    for tool, slim in zip(tools(), tool_schemas.for_model(), strict=True):
        full = convert_to_openai_tool(tool)["function"]["parameters"]
        seen = slim["function"]["parameters"]
        assert set(seen["properties"]) == set(full["properties"]) - tool_schemas.EXPERT_KNOBS
        assert set(seen.get("required", [])) <= set(seen["properties"])
        assert seen["additionalProperties"] is False
        assert '"title"' not in json.dumps(seen)  # pydantic's field titles repeat the names
    # Smaller than the input models' own JSON schemas, though every closed set is spelled out.
    assert tool_schemas.characters(tool_schemas.for_model()) < 0.9 * sum(
        len(json.dumps(spec.input_model.model_json_schema(), separators=(",", ":"))) for spec in TOOLS
    )


def test_every_object_a_model_fills_is_closed_and_says_what_it_requires() -> None:
    for schema in tool_schemas.for_model():
        name, parameters = schema["function"]["name"], schema["function"]["parameters"]
        assert isinstance(parameters["required"], list)  # present even when empty
        for where, node in _objects(parameters):
            if (name, where) in OPEN:
                assert node["additionalProperties"] is True
                continue
            assert node["additionalProperties"] is False, (name, where)
            assert set(node.get("required", [])) <= set(node.get("properties", {})), (name, where)
        assert "propertyNames" not in json.dumps(parameters)  # closed maps are sent as properties


def test_filters_name_exactly_the_dimensions_each_tool_accepts() -> None:
    """The keys a tool's `filters` validator accepts are the properties a model is shown, no more."""
    needs = {"metrics": {"metric": "bookings"}}  # the required arguments
    for spec, schema in zip(TOOLS, tool_schemas.for_model(), strict=True):
        shown = schema["function"]["parameters"]["properties"].get("filters")
        if shown is None:
            continue
        args = needs.get(spec.name, {})
        for dim in shown["properties"]:
            spec.input_model.model_validate({**args, "filters": {dim: ["x"]}})  # members are checked later
        with pytest.raises(ValueError, match="filter"):
            spec.input_model.model_validate({**args, "filters": {"territory": ["x"]}})


def test_closed_sets_and_percent_conventions_are_stated() -> None:
    """Every Literal field is an enum; every share says it is a fraction, every _pct field percent,
    every _pts field percentage points (one convention per field, said where the model reads it)."""
    for spec, schema in zip(TOOLS, tool_schemas.for_model(), strict=True):
        shown = schema["function"]["parameters"]["properties"]
        for field, info in spec.input_model.model_fields.items():
            if field in shown and typing.get_origin(info.annotation) is typing.Literal:
                assert shown[field]["enum"] == list(typing.get_args(info.annotation)), (spec.name, field)

    def numbers(node: Any, name: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
        if isinstance(node, dict):
            if node.get("type") == "number":
                yield name, node
            for key, sub in (node.get("properties") or {}).items():
                yield from numbers(sub, key)
            yield from numbers(node.get("items"), name)

    seen = 0
    for schema in tool_schemas.for_model():
        for name, node in numbers(schema["function"]["parameters"]):
            text = node.get("description", "").lower()
            if name == "pct" or name.endswith("_pct"):
                assert "percent (" in text, name
            elif name.endswith("_pts"):
                assert "percentage points" in text, name
            elif node.get("maximum") == 1 or node.get("exclusiveMaximum") == 1:
                assert "fraction (" in text, name
                seen += 1
    assert seen >= 5  # over_assign, target_share, variable_share, band, attrition, min_useful_share


def test_arguments_a_model_fills_from_the_slim_schema_still_validate() -> None:
    """The `null` branch of optional fields is gone from the schema, not from the tools."""
    params = BY_NAME["quota_simulate"].input_model.model_validate(
        {"adjustments": [{"dim": "region", "value": "EMEA", "pct": 10}], "period": "FY2028"}
    )
    assert params.adjustments[0].pct == 10 and params.comp_plan is None


def _choose(question: str, earlier: list[str] | None = None) -> list[str]:
    return choose(question, intent_model().scores([question])[0], earlier or [])


@pytest.mark.parametrize(
    ("question", "earlier", "needed", "left_out"),
    [
        ("What's pipeline in EMEA this quarter?", [], {"metrics"}, {"quota_simulate", "capacity_gap"}),
        ("Forecast next quarter by region", [], {"forecast"}, {"territory_rebalance", "apply_scenario"}),
        ("Compare three quota options and pick the best", [], {"quota_simulate", "compare_plans"}, {"capacity_gap"}),
        ("Why is EMEA behind plan this quarter?", [], {"explain_variance", "metrics"}, {"territory_rebalance"}),
        ("and for APAC?", ["forecast"], {"forecast"}, {"apply_scenario"}),
        ("apply the emea-up scenario", [], {"apply_scenario"}, {"forecast"}),
    ],
)
def test_a_request_is_shown_the_tools_it_can_need(
    question: str, earlier: list[str], needed: set[str], left_out: set[str]
) -> None:
    chosen = set(_choose(question, earlier))
    assert needed <= chosen and not (left_out & chosen)
    assert "scenarios" in chosen  # small, and any request may name a saved plan


def test_closed_sets_reach_the_model_as_enums() -> None:
    """forecast.by and data_check.checks accepted any string as far as a model could tell."""
    from warehouse.checks import CHECKS

    schemas = {s["function"]["name"]: s["function"]["parameters"]["properties"] for s in tool_schemas.for_model()}
    assert schemas["forecast"]["by"]["items"]["enum"] == ["region", "segment", "product", "rep"]
    assert schemas["data_check"]["checks"]["items"]["enum"] == list(CHECKS)
    assert schemas["metrics"]["metric"].get("enum")  # the KPI registry's names, as before


SIZES = {spec.name: 100 for spec in TOOLS} | {"quota_simulate": 900, "capacity_gap": 700, "forecast": 500}


def test_the_budget_drops_the_least_likely_tool_and_keeps_the_threads() -> None:
    scores = [("forecast", 0.5), ("quota", 0.3), ("capacity", 0.15), ("metrics", 0.05)]
    unbounded = choose("Compare the options", scores, ["capacity_gap"], sizes=SIZES, budget=10_000)
    assert {"forecast", "quota_simulate", "capacity_gap", "compare_plans", "scenarios"} <= set(unbounded)
    assert sum(SIZES[n] for n in unbounded) > 2_000  # this request would exceed the budget

    chosen = choose("Compare the options", scores, ["capacity_gap"], sizes=SIZES, budget=2_000)
    assert "capacity_gap" in chosen  # the thread's tool stays
    assert "forecast" in chosen and "compare_plans" in chosen  # the likeliest tool and the one the words name
    assert "quota_simulate" not in chosen  # the least likely big one does not fit ...
    assert "scenarios" in chosen  # ... a small one after it still does
    assert sum(SIZES[n] for n in chosen) <= 2_000


def test_the_threads_tools_stay_even_over_the_budget() -> None:
    chosen = choose("and for APAC?", [("forecast", 0.9)], ["quota_simulate", "capacity_gap"], sizes=SIZES, budget=1_000)
    assert {"quota_simulate", "capacity_gap"} <= set(chosen) and "forecast" not in chosen


def test_estimated_sizes_err_high_and_every_eval_case_fits_the_budget() -> None:
    """The budget counts an estimate (no tokenizer at run time): it must never count fewer tokens
    than o200k_base does, so a call within the budget is within it. bench/tool_schemas.py reports
    the same over every eval case."""
    bpe_openai = pytest.importorskip("bpe_openai")
    encoding = bpe_openai.get_encoding("o200k_base")
    sizes = tool_schemas.sizes()
    for schema in tool_schemas.for_model():
        real = len(encoding.encode(json.dumps([schema], separators=(",", ":"))))
        assert real <= sizes[schema["function"]["name"]], schema["function"]["name"]
    worst = ["quota_simulate", "capacity_gap", "forecast", "territory_rebalance", "metrics"]
    chosen = _choose("Forecast bookings and quotas and hires and territories and coverage", worst)
    assert sum(sizes[n] for n in chosen) > BUDGET  # a thread that called them all keeps them all
    assert sum(sizes[n] for n in _choose("Forecast next quarter by region and what it means for hiring")) <= BUDGET
