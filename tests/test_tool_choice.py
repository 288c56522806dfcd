"""What a language model is shown: slim tool schemas (agent/tool_schemas.py) and only the tools a
request can need (agent/tool_choice.py). Sizes and recall over every eval case: bench/tool_schemas.py."""

from __future__ import annotations

import json

import pytest
from langchain_core.utils.function_calling import convert_to_openai_tool

from agent import tool_schemas
from agent.planner.intents import intent_model
from agent.tool_choice import choose
from agent.tools import tools
from tools.registry import BY_NAME


def test_model_schemas_keep_every_argument_but_the_expert_knobs() -> None:
    for tool, slim in zip(tools(), tool_schemas.for_model(), strict=True):
        full = convert_to_openai_tool(tool)["function"]["parameters"]
        seen = slim["function"]["parameters"]
        assert set(seen["properties"]) == set(full["properties"]) - tool_schemas.EXPERT_KNOBS
        assert set(seen.get("required", [])) <= set(seen["properties"])
        assert seen["additionalProperties"] is False
        assert '"title"' not in json.dumps(seen)  # pydantic's field titles repeat the names
    assert tool_schemas.characters(tool_schemas.for_model()) < 0.9 * len(
        json.dumps([convert_to_openai_tool(t) for t in tools()], separators=(",", ":"))
    )


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
