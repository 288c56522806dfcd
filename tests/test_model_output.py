"""What real chat models send back when it is not a clean tool call (issue 19), over real HTTP
with the real OpenAI client: invalid JSON arguments, calls written as text, a call that stays
unreadable, an answer that invents a number twice, and what stays in the thread after."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from support.openai_stub import OpenAIStub, completion, tool_results

from agent.agent import PlanningAgent
from agent.model_output import parse_arguments, repair_invalid, text_tool_calls
from agent.models import ModelSettings
from interfaces.compose import checkpointer
from warehouse.connection import Warehouse

KNOWN = {"metrics", "forecast", "quota_simulate"}


@pytest.fixture(scope="module")
def wh(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path = tmp_path_factory.mktemp("model-output") / "demo.duckdb"
    shutil.copy(demo_path, path)
    return Warehouse(path, writable=True)


def _remote(wh: Warehouse, stub: OpenAIStub) -> PlanningAgent:
    settings = ModelSettings(provider="openai", base_url=stub.base_url, api_key="k", max_retries=0)
    return PlanningAgent(wh, settings, checkpointer(":memory:"))


def _echo_summary(body: dict[str, Any]) -> dict[str, Any]:
    return completion(content="EMEA: " + tool_results(body)[-1]["summary"])


def _tools(result: Any) -> list[str]:
    return [s.name for s in result.steps if s.kind == "tool_call"]


# --- reading, pure -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>{"name": "metrics", "arguments": {"metric": "pipeline"}}</tool_call>',
        '<|python_tag|>{"name": "metrics", "parameters": {"metric": "pipeline"}}<|eom_id|>',
        'Let me check.\n```json\n{"name": "metrics", "arguments": {"metric": "pipeline"}}\n```',
        '{"name": "metrics", "arguments": "{\\"metric\\": \\"pipeline\\"}"}',
        '{"type": "function", "function": {"name": "metrics", "arguments": "{\'metric\': \'pipeline\'}"}}',
    ],
    ids=["hermes-qwen", "llama-python-tag", "fenced-json", "arguments-encoded-twice", "openai-shape-in-text"],
)
def test_tool_calls_written_as_text_are_read(text: str) -> None:
    calls, problems = text_tool_calls(text, KNOWN)
    assert problems == []
    assert [(c["name"], c["args"]) for c in calls] == [("metrics", {"metric": "pipeline"})]


def test_json_in_an_answer_is_not_a_call_and_unknown_tools_are_problems() -> None:
    answer = 'Top account:\n```json\n{"name": "Acme GmbH", "arr": 1200000}\n```'
    assert text_tool_calls(answer, KNOWN) == ([], [])
    assert text_tool_calls("Pipeline is $1.2M.", KNOWN) == ([], [])
    calls, problems = text_tool_calls('<tool_call>{"name": "drop_tables", "arguments": {}}</tool_call>', KNOWN)
    assert calls == [] and "'drop_tables' is not one of the tools" in problems[0].reason
    calls, problems = text_tool_calls('<tool_call>{"name": "metrics", "arguments": {"metric": </tool_call>', KNOWN)
    assert calls == [] and "not valid JSON" in problems[0].reason


def test_invalid_arguments_are_repaired_only_when_one_reading_is_clear() -> None:
    assert parse_arguments("{'metric': 'pipeline', 'filters': {'region': ['EMEA']},}") == {
        "metric": "pipeline",
        "filters": {"region": ["EMEA"]},
    }
    assert parse_arguments('```json\n{"metric": "pipeline"}\n```') == {"metric": "pipeline"}
    assert parse_arguments('{"metric": "pipeline"') is None  # cut off: no guessing
    assert parse_arguments("[1, 2]") is None
    calls, problems = repair_invalid(
        [{"name": "metrics", "args": '{"metric": ', "id": "c1", "error": "Expecting value"}], KNOWN
    )
    assert calls == [] and "not valid JSON (Expecting value)" in problems[0].reason


# --- over the wire ---------------------------------------------------------------------------


def test_arguments_that_are_not_json_are_repaired_and_run(wh: Warehouse) -> None:
    """Before: LangChain kept them as invalid_tool_calls, the graph ignored them: empty answer, `ok`."""
    bad = "{'metric': 'pipeline', 'filters': {'region': ['EMEA']},}"
    replies = [lambda body: completion(tool_calls=[{"name": "metrics", "raw": bad}]), _echo_summary]
    with OpenAIStub(replies) as stub:
        result = _remote(wh, stub).ask("What's pipeline in EMEA?")
    assert result.status == "ok" and _tools(result) == ["metrics"]
    assert result.answer.startswith("EMEA: ") and "$" in result.answer and result.grounding["ok"]
    assert len(stub.requests) == 2


def test_a_tool_call_written_as_text_runs_instead_of_becoming_the_answer(wh: Warehouse) -> None:
    text = '<tool_call>\n{"name": "metrics", "arguments": {"metric": "pipeline", "filters": {"region": ["EMEA"]}}}\n</tool_call>'
    with OpenAIStub([lambda body: completion(content=text), _echo_summary]) as stub:
        result = _remote(wh, stub).ask("What's pipeline in EMEA?")
    assert result.status == "ok" and _tools(result) == ["metrics"]
    assert "<tool_call>" not in result.answer and result.answer.startswith("EMEA: ")
    # The call went back to the model as a proper tool call with its result (valid protocol).
    sent = stub.requests[1]["body"]["messages"]
    assert [m["role"] for m in sent[-2:]] == ["assistant", "tool"] and sent[-2]["tool_calls"]


def test_an_unreadable_call_is_sent_back_once_with_the_problem(wh: Warehouse) -> None:
    replies = [
        lambda body: completion(tool_calls=[{"name": "metrics", "raw": '{"metric": "pipeline", "filters": '}]),
        lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]),
        _echo_summary,
    ]
    with OpenAIStub(replies) as stub:
        result = _remote(wh, stub).ask("What's pipeline?")
    assert result.status == "ok" and _tools(result) == ["metrics"]
    retry = stub.requests[1]["body"]["messages"]
    assert retry[-1]["role"] == "user" and "could not be read" in retry[-1]["content"]
    assert "not valid JSON" in retry[-1]["content"] and retry[-2]["role"] == "assistant"
    assert any(s.kind == "error" and "could not be read" in (s.summary or "") for s in result.steps)


def test_a_call_unreadable_twice_hands_over_to_the_offline_planner_and_says_so(wh: Warehouse) -> None:
    garbled = lambda body: completion(content='<tool_call>{"name": "metrics", "arguments": {"metric": </tool_call>')  # noqa: E731
    with OpenAIStub([garbled, garbled], default=lambda body: completion(content="unused")) as stub:
        result = _remote(wh, stub).ask("What's pipeline this quarter in EMEA?")
    assert len(stub.requests) == 2  # the first try and one retry, then no more model calls
    assert result.status == "ok" and _tools(result) == ["metrics"]  # the offline planner answered
    assert "could not be read twice" in result.answer and "offline planner" in result.answer
    assert "<tool_call>" not in result.answer


def test_numbers_invented_twice_are_removed_flagged_and_kept_out_of_the_thread(wh: Warehouse) -> None:
    replies = [
        lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]),
        lambda body: completion(content="Pipeline is $987.6M across 4,321 deals."),
        lambda body: completion(content="Pipeline is $987.6M across 4,321 deals, honestly."),
        lambda body: completion(content="Noted."),
    ]
    with OpenAIStub(replies) as stub:
        agent = _remote(wh, stub)
        result = agent.ask("What's pipeline?", thread_id="invented")
        assert "$987.6M" not in result.answer.split("\n\n")[0] and "[figure removed]" in result.answer
        assert result.grounding["removed"] == ["$987.6M", "4,321"] and not result.grounding["ok"]
        assert "removed" in result.answer  # flagged, never a silent ok
        messages = agent.graph.get_state(agent._config("invented")).values["messages"]
        finals = [m for m in messages if isinstance(m, AIMessage) and not m.tool_calls]
        assert len(finals) == 1 and "$987.6M" not in str(finals[0].content)
        agent.ask("thanks", thread_id="invented")
    roles = [m["role"] for m in stub.requests[-1]["body"]["messages"]]
    assert not any(a == b == "assistant" for a, b in itertools.pairwise(roles))  # strict templates
    assert "987.6" not in str(stub.requests[-1]["body"]["messages"])


def test_usage_is_recorded_per_call_and_summed_per_run(wh: Warehouse) -> None:
    replies = [lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]), _echo_summary]
    with OpenAIStub(replies) as stub:
        result = _remote(wh, stub).ask("What's pipeline?")
    calls = [s for s in result.steps if s.kind == "llm_call"]
    assert len(calls) == 2 and all(s.args["usage"]["total_tokens"] == 2 for s in calls)  # the stub reports 1 + 1
    usage = {"model_calls": 2, "input_tokens": 2, "output_tokens": 2, "total_tokens": 4, "cost_usd": None}
    assert result.usage.model_dump() == usage  # no price table (SPM_PRICES): no cost
    assert result.model_dump(mode="json")["usage"]["total_tokens"] == 4  # `spm ask --json` carries it


def test_a_model_that_refuses_a_temperature_is_asked_again_without_one(wh: Warehouse) -> None:
    """Reasoning models answer 400 to any temperature but their default; that used to mean a fallback."""

    def reasoning(reply: Any) -> Any:
        def answer(body: dict[str, Any]) -> Any:
            if "temperature" in body:
                message = "Unsupported value: 'temperature' does not support 0.0 with this model."
                return 400, {"error": {"message": message, "type": "invalid_request_error", "param": "temperature"}}
            return reply(body)

        return answer

    replies = [
        reasoning(lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}])),
        reasoning(lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}])),
        reasoning(_echo_summary),
    ]
    with OpenAIStub(replies) as stub:
        settings = ModelSettings(provider="openai", model="o4-mini-stub", base_url=stub.base_url, api_key="k",
                                 max_retries=0)  # fmt: skip
        result = PlanningAgent(wh, settings, checkpointer(":memory:")).ask("What's pipeline?")
    assert result.status == "ok" and result.model == "o4-mini-stub" and _tools(result) == ["metrics"]
    assert ["temperature" in r["body"] for r in stub.requests] == [True, False, False]  # remembered after one refusal
    assert "offline planner" not in result.answer


def test_the_temperature_is_a_setting_and_none_leaves_it_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from agent.models import remote_model
    from interfaces.compose import model_settings
    from interfaces.settings import Settings

    monkeypatch.setenv("SPM_TEMPERATURE", "none")
    settings = model_settings(Settings())
    assert settings.temperature is None
    assert "temperature" not in remote_model(settings)._default_params  # not sent at all
    monkeypatch.setenv("SPM_TEMPERATURE", "0.3")
    assert remote_model(model_settings(Settings()))._default_params["temperature"] == 0.3
