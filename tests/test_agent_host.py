"""The agent as a LangGraph citizen: `from agent import PlanningAgent`, a caller's own tools,
a serialisable run context, and approvals in LangGraph's human-in-the-loop shape
(approve / edit / reject)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import tool
from support.openai_stub import OpenAIStub, completion, tool_results

from agent import PlanningAgent
from agent.approvals import Reply, read_reply
from agent.graph import build
from agent.models import ModelSettings
from warehouse import audit
from warehouse.connection import Warehouse
from warehouse.identity import Scope, User

CRO = User("cro", "leader", Scope.everything())


@pytest.fixture(scope="module")
def agent(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> PlanningAgent:
    path = tmp_path_factory.mktemp("host") / "demo.duckdb"
    shutil.copy(demo_path, path)
    return PlanningAgent(Warehouse(path), ModelSettings(provider="offline"))  # threads in memory


def _status(agent: PlanningAgent, name: str) -> str:
    with agent.warehouse.reader() as cur:
        return str(cur.scalar("SELECT status FROM scenarios WHERE name = ?", [name]))


def test_the_context_is_plain_data_langgraph_can_describe() -> None:
    schema = build().get_context_jsonschema()
    assert set(schema["properties"]) >= {"run_id", "user_id", "interface", "warehouse", "model", "auto_approve"}
    assert json.dumps(schema)  # nothing in it but JSON


def test_an_approval_is_a_hitl_request_and_a_rejection_changes_nothing(agent: PlanningAgent) -> None:
    agent.ask("What if we raise EMEA quotas 10%? save it as emea-hitl")
    waiting = agent.ask("apply the emea-hitl scenario", thread_id="hitl-reject")
    request = waiting.approval
    assert waiting.status == "needs_approval" and request is not None
    (action,) = request["action_requests"]
    assert action["name"] == "apply_scenario" and action["args"] == {"scenario": "emea-hitl"}
    assert action["description"] == request["summary"]
    assert request["review_configs"] == [
        {"action_name": "apply_scenario", "allowed_decisions": ["approve", "edit", "reject"]}
    ]

    rejected = agent.resume("hitl-reject", approved=False, user=CRO, reason="wait for the board")
    assert _status(agent, "emea-hitl") == "draft"
    assert any(s.kind == "approval" and "wait for the board" in (s.summary or "") for s in rejected.steps)


def test_an_edit_changes_the_arguments_before_the_write(agent: PlanningAgent) -> None:
    agent.ask("What if we raise EMEA quotas 10%? save it as emea-asked")
    agent.ask("What if we raise EMEA quotas 5%? save it as emea-edited")
    agent.ask("apply the emea-asked scenario", thread_id="hitl-edit")
    done = agent.resume("hitl-edit", approved=True, user=CRO, edit={"scenario": "emea-edited"})
    assert done.status == "ok", done.answer
    # The approver's edit ran, not the request: the other scenario stays a draft.
    assert _status(agent, "emea-edited") == "applied" and _status(agent, "emea-asked") == "draft"
    assert any(s.kind == "approval" and "approved with edits" in (s.summary or "") for s in done.steps)
    assert [s.args for s in done.steps if s.kind == "tool_call"] == [{"scenario": "emea-edited"}]
    with agent.warehouse.reader() as cur:
        assert audit.verify(cur, done.run_id).ok


def test_an_edit_that_cannot_run_approves_nothing(agent: PlanningAgent) -> None:
    agent.ask("What if we raise EMEA quotas 10%? save it as emea-bad-edit")
    agent.ask("apply the emea-bad-edit scenario", thread_id="hitl-bad")
    done = agent.resume("hitl-bad", approved=True, user=CRO, edit={"scenario": "emea-bad-edit", "rows": 3})
    assert _status(agent, "emea-bad-edit") == "draft"
    refusal = [s.summary or "" for s in done.steps if s.kind == "approval"][-1]
    assert refusal.startswith("refused by cro") and "edited arguments cannot run" in refusal


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"decisions": [{"type": "approve"}]}, Reply(True)),
        ({"decisions": [{"type": "reject", "message": "no"}]}, Reply(False, message="no")),
        (
            {"decisions": [{"type": "edit", "edited_action": {"name": "apply_scenario", "args": {"scenario": "b"}}}]},
            Reply(True, args={"scenario": "b"}),
        ),
        ({"approved": True, "by": "cro"}, Reply(True)),
        (True, Reply(True)),
    ],
)
def test_decisions_are_read_in_every_shape(reply: object, expected: Reply) -> None:
    assert read_reply(reply, "apply_scenario") == expected


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ({"decisions": []}, "one decision"),
        ({"decisions": [{"type": "accept"}]}, "unknown decision type"),
        ({"decisions": [{"type": "edit", "edited_action": {"name": "forecast", "args": {}}}]}, "not call 'forecast'"),
        ({"decisions": [{"type": "edit"}]}, "needs edited_action"),
        ("yes", "not a decision"),
    ],
)
def test_an_unreadable_decision_approves_nothing(reply: object, problem: str) -> None:
    read = read_reply(reply, "apply_scenario")
    assert not read.approved and read.message and problem in read.message


@tool
def win_room_capacity(region: str) -> str:
    """Seats left in the region's sales kick-off room."""
    return f"{region} kick-off room: 37 seats left"


def test_a_callers_own_tool_is_shown_run_and_audited_as_ok(agent: PlanningAgent) -> None:
    replies: list[Any] = [
        lambda body: completion(tool_calls=[{"name": "win_room_capacity", "args": {"region": "EMEA"}}]),
        lambda body: completion(content="EMEA has 37 seats left."),
    ]
    with OpenAIStub(replies) as stub:
        own = PlanningAgent(
            agent.warehouse,
            ModelSettings(provider="openai", base_url=stub.base_url, api_key="k"),
            tools=[win_room_capacity],
        )
        result = own.ask("How many seats are left in the EMEA kick-off room?")
    shown = {t["function"]["name"] for t in stub.requests[0]["body"]["tools"]}
    assert "win_room_capacity" in shown
    assert tool_results(stub.requests[1]["body"])[-1] == {"error": "EMEA kick-off room: 37 seats left"}  # plain text
    assert result.status == "ok" and result.grounding["ok"] and "37 seats" in result.answer
    kinds = [(s.kind, s.name) for s in result.steps]
    assert ("tool_result", "win_room_capacity") in kinds and not any(k == "error" for k, _ in kinds)


def test_a_tool_may_not_take_a_name_spm_uses(agent: PlanningAgent) -> None:
    @tool
    def forecast(region: str) -> str:
        """Not spm's forecast."""
        return region

    with pytest.raises(ValueError, match="taken by spm's own tools"):
        PlanningAgent(agent.warehouse, ModelSettings(provider="offline"), tools=[forecast])


def test_the_answer_streams_as_the_model_writes_it(agent: PlanningAgent) -> None:
    replies: list[Any] = [
        lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]),
        lambda body: completion(content="Open pipeline: " + tool_results(body)[-1]["summary"]),
    ]
    pieces: list[tuple[str, str]] = []
    with OpenAIStub(replies) as stub:
        remote = PlanningAgent(agent.warehouse, ModelSettings(provider="openai", base_url=stub.base_url, api_key="k"))
        result = remote.ask("What's pipeline?", on_token=lambda mid, text: pieces.append((mid, text)))
    assert all(r["body"].get("stream") for r in stub.requests)  # the model was asked to stream
    drafts = {mid for mid, _ in pieces}
    assert len(drafts) == 1 and len(pieces) > 3  # one answer, arriving in pieces
    assert "".join(text for _, text in pieces) == result.answer.split("\n\n")[0]
    assert result.status == "ok" and result.grounding["ok"]
    assert result.usage.total_tokens > 0  # usage still counted from the streamed replies


def test_tool_call_arguments_are_not_streamed_to_the_user(agent: PlanningAgent) -> None:
    replies: list[Any] = [
        lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]),
        lambda body: completion(content="Done."),
    ]
    pieces: list[str] = []
    with OpenAIStub(replies) as stub:
        remote = PlanningAgent(agent.warehouse, ModelSettings(provider="openai", base_url=stub.base_url, api_key="k"))
        remote.ask("What's pipeline?", on_token=lambda _mid, text: pieces.append(text))
    assert "metric" not in "".join(pieces)


def test_the_live_view_shows_steps_and_the_draft_on_a_terminal_only(capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from rich.console import Console

    from interfaces.live_answer import LiveAnswer

    screen = io.StringIO()
    with LiveAnswer(Console(file=screen, force_terminal=True, width=80)) as live:
        live.progress("ran forecast")
        live.token("m1", "EMEA lands at $1.69M\x1b[2J")  # a control sequence from a model
        live._live.refresh()  # type: ignore[union-attr]
    drawn = screen.getvalue()
    assert "ran forecast" in drawn and "EMEA lands at $1.69M" in drawn
    assert "\x1b[2J" not in drawn and "\\x1b[2J" in drawn

    with LiveAnswer(Console(file=io.StringIO(), force_terminal=False)) as piped:
        piped.progress("ran metrics")
        piped.token("m1", "the draft")
    written = capsys.readouterr().err
    assert "· ran metrics" in written and "the draft" not in written  # stdout alone carries the answer
