"""The planning agent end to end on the small demo: offline planner, OpenAI path over real HTTP
(local stub server), grounding, audit trail, replay, approvals, scope."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.openai_stub import OpenAIStub, completion, tool_results
from typer.testing import CliRunner

from agent import grounding
from agent.agent import PlanningAgent
from agent.models import ModelSettings
from agent.replay import replay
from interfaces.agent_view import RECOMMENDATIONS_SHOWN
from interfaces.cli import app
from interfaces.compose import checkpointer
from warehouse import audit
from warehouse.connection import Warehouse
from warehouse.identity import Scope, User
from warehouse.users import find_user

OFFLINE = ModelSettings(provider="offline")


@pytest.fixture(scope="module")
def agent(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> PlanningAgent:
    path = tmp_path_factory.mktemp("agent") / "demo.duckdb"
    shutil.copy(demo_path, path)
    return PlanningAgent(Warehouse(path, writable=True), OFFLINE, checkpointer(":memory:"))


def _tools(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.name for s in result.steps if s.kind == "tool_call"]


@pytest.mark.parametrize(
    ("question", "tool"),
    [
        ("Forecast next quarter's bookings by region", "forecast"),
        ("What if we raise EMEA quotas 10%?", "quota_simulate"),
        ("Rebalance NA Enterprise so every rep is within 10% of average potential", "territory_rebalance"),
        ("How many AEs must we hire to make FY2028?", "capacity_gap"),
        ("What's pipeline coverage this quarter by segment?", "metrics"),
        ("Check the data quality", "data_check"),
        ("What scenarios do we have?", "scenarios"),
    ],
)
def test_each_tool_end_to_end(agent: PlanningAgent, question: str, tool: str) -> None:
    result = agent.ask(question)
    assert result.status == "ok", result.answer
    assert _tools(result) == [tool]
    assert result.grounding["ok"], result.grounding
    summary = result.tool_results[0]["summary"]
    assert summary in result.answer  # the answer is the tool's own words and numbers
    kinds = [s.kind for s in result.steps]
    assert kinds[0] == "question" and kinds[-1] == "recommendation" and "tool_result" in kinds


def test_multi_step_question(agent: PlanningAgent) -> None:
    result = agent.ask("forecast next quarter by region and tell me how many reps to hire")
    assert sorted(_tools(result)) == ["capacity_gap", "forecast"]
    assert result.status == "ok" and result.grounding["ok"]
    assert len(result.recommendations) >= 2
    assert {r["tool"] for r in result.recommendations} <= {"forecast", "capacity_gap"}


def test_follow_ups_reuse_the_thread(agent: PlanningAgent) -> None:
    first = agent.ask("win rate by segment last quarter", thread_id="follow")
    second = agent.ask("and for APAC?", thread_id="follow")
    calls = [s.args for s in second.steps if s.kind == "tool_call"]
    assert calls == [{**next(s.args for s in first.steps if s.kind == "tool_call"), "filters": {"region": ["APAC"]}}]
    assert "region APAC" in second.answer
    fresh = agent.ask("and for APAC?", thread_id="nothing-before")
    assert fresh.status == "clarify" and _tools(fresh) == []


def test_clarifies_instead_of_guessing(agent: PlanningAgent) -> None:
    result = agent.ask("what's the weather tomorrow?")
    assert result.status == "clarify" and _tools(result) == []
    assert "outside what I do" in result.answer


def test_scope_is_enforced_whatever_the_question(agent: PlanningAgent) -> None:
    emea = User("emea-lead", "leader", Scope("region", "EMEA"))
    denied = agent.ask("What's pipeline this quarter in APAC?", user=emea)
    assert denied.status == "error" and "outside" in denied.answer
    assert not [s for s in denied.steps if s.kind == "tool_result"]
    own = agent.ask("What's pipeline this quarter?", user=emea)
    everyone = agent.ask("What's pipeline this quarter in EMEA?")
    assert own.tool_results[0]["metrics"]["total"] == everyone.tool_results[0]["metrics"]["total"]
    assert "region EMEA" in own.answer


def test_grounding_catches_a_planted_number(agent: PlanningAgent) -> None:
    result = agent.ask("What's pipeline this quarter in EMEA?")
    total = result.tool_results[0]["metrics"]["total"]
    honest = f"EMEA pipeline is ${total / 1e6:.1f}M this quarter."
    # Numbers no state of this module's shared warehouse holds (a share like 42% can turn up in a
    # result once another test here has changed quotas, depending on the order tests run in).
    planted = f"EMEA pipeline is ${total / 1e6 + 3:.1f}M this quarter, with 7,777 deals at risk."
    assert grounding.check(honest, result.tool_results).ok
    flagged = grounding.check(planted, result.tool_results)
    assert not flagged.ok and len(flagged.ungrounded) == 2


def test_audit_verify_detects_edits_deletions_and_reordering(agent: PlanningAgent) -> None:
    result = agent.ask("Check the data quality")
    wh = agent.warehouse
    with wh.reader() as cur:
        assert audit.verify(cur, result.run_id).ok
    with wh.writer() as cur:
        cur.execute("UPDATE audit_steps SET summary = 'nothing to see' WHERE run_id = ? AND seq = 4", [result.run_id])
    with wh.reader() as cur:
        broken = audit.verify(cur, result.run_id)
    assert not broken.ok and broken.first_bad_seq == 4 and "edited" in (broken.problem or "")

    deleted = agent.ask("Check the data quality")
    with wh.writer() as cur:
        cur.execute("DELETE FROM audit_steps WHERE run_id = ? AND seq = 3", [deleted.run_id])
    with wh.reader() as cur:
        gap = audit.verify(cur, deleted.run_id)
    assert gap.first_bad_seq == 3 and gap.kind == "deleted"
    assert broken.kind == "edited"

    truncated = agent.ask("Check the data quality")
    with wh.writer() as cur:
        last = cur.execute("SELECT max(seq) FROM audit_steps WHERE run_id = ?", [truncated.run_id]).fetchone()[0]
        cur.execute("DELETE FROM audit_steps WHERE run_id = ? AND seq = ?", [truncated.run_id, last])
    with wh.reader() as cur:
        cut = audit.verify(cur, truncated.run_id)
    assert not cut.ok and cut.kind == "truncated"

    swapped = agent.ask("Check the data quality")
    with wh.writer() as cur:
        cur.execute("UPDATE audit_steps SET seq = 99 WHERE run_id = ? AND seq = 2", [swapped.run_id])
        cur.execute("UPDATE audit_steps SET seq = 2 WHERE run_id = ? AND seq = 3", [swapped.run_id])
        cur.execute("UPDATE audit_steps SET seq = 3 WHERE run_id = ? AND seq = 99", [swapped.run_id])
    with wh.reader() as cur:
        moved = audit.verify(cur, swapped.run_id)
    assert moved.first_bad_seq == 2 and moved.kind == "reordered"


def test_replay_matches_then_explains_a_data_change(agent: PlanningAgent) -> None:
    result = agent.ask("What were bookings last quarter by region?")
    report = replay(agent.warehouse, result.run_id)
    assert report.ok and [c.match for c in report.calls] == [True]
    with agent.warehouse.writer() as cur:
        cur.execute(
            "UPDATE bookings SET amount = amount + 1000 WHERE booking_id = (SELECT min(booking_id) FROM bookings)"
        )
    changed = replay(agent.warehouse, result.run_id)
    assert not changed.ok and "data changed" in changed.calls[0].reason


def test_approval_flow(agent: PlanningAgent) -> None:
    saved = agent.ask("What if we raise EMEA quotas 10%? save it as emea-plus-ten")
    assert saved.tool_results[0]["metrics"]["saved_scenario"]["name"] == "emea-plus-ten"
    rows = saved.tool_results[0]["metrics"]["saved_scenario"]["changes"]

    waiting = agent.ask("apply the emea-plus-ten scenario", thread_id="apply-1")
    assert waiting.status == "needs_approval"
    assert waiting.approval and waiting.approval["changes"] == rows and waiting.approval["kind"] == "quota"
    with agent.warehouse.reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'emea-plus-ten'") == "draft"

    analyst = User("revops", "analyst", Scope.everything())
    denied = agent.resume("apply-1", approved=True, user=analyst)
    assert denied.status == "needs_approval" and "may not approve" in denied.answer
    with agent.warehouse.reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'emea-plus-ten'") == "draft"
    # The refused attempt is on the record and the request still waits for someone who may approve.
    assert any(s.kind == "approval" and "refused: revops" in (s.summary or "") for s in denied.steps)
    assert agent.pending_approval("apply-1") is not None

    agent.ask("apply the emea-plus-ten scenario", thread_id="apply-2")
    rejected = agent.resume("apply-2", approved=False, user=User("cro", "leader", Scope.everything()))
    assert "declined" in rejected.answer
    with agent.warehouse.reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'emea-plus-ten'") == "draft"

    agent.ask("apply the emea-plus-ten scenario", thread_id="apply-3")
    approved = agent.resume("apply-3", approved=True, user=User("cro", "leader", Scope.everything()))
    assert approved.status == "ok" and f"{rows} rows changed" in approved.answer
    with agent.warehouse.reader() as cur:
        assert cur.scalar("SELECT status FROM scenarios WHERE name = 'emea-plus-ten'") == "applied"
        assert audit.verify(cur, approved.run_id).ok
    kinds = [(s.kind, s.summary or "") for s in approved.steps]
    assert any(k == "approval" and "approved by cro" in s for k, s in kinds)


def test_openai_path_round_trip_with_retry(agent: PlanningAgent) -> None:
    replies = [
        429,  # rate limited once: the client retries with backoff
        lambda body: completion(
            tool_calls=[{"name": "metrics", "args": {"metric": "pipeline", "filters": {"region": ["EMEA"]}}}]
        ),
        lambda body: completion(content="EMEA: " + tool_results(body)[-1]["summary"]),
    ]
    with OpenAIStub(replies) as stub:
        remote = PlanningAgent(
            agent.warehouse, ModelSettings(provider="openai", base_url=stub.base_url, api_key="k", max_retries=2),
            checkpointer(":memory:"),
        )  # fmt: skip
        result = remote.ask("What's pipeline in EMEA?")
    assert result.status == "ok" and result.model == "gpt-4o-mini"
    assert _tools(result) == ["metrics"] and result.grounding["ok"]
    assert len(stub.requests) == 3
    tools = {t["function"]["name"] for t in stub.requests[1]["body"]["tools"]}
    assert tools == {"metrics", "scenarios"}  # only what the request can need (agent/tool_choice.py)
    schema = next(t for t in stub.requests[1]["body"]["tools"] if t["function"]["name"] == "metrics")["function"]
    assert "runtime" not in schema["parameters"]["properties"]  # the context is never the model's to fill
    assert "as_of" not in schema["parameters"]["properties"]  # expert knobs stay with the CLI
    assert schema["parameters"]["additionalProperties"] is False


def test_openai_ungrounded_answer_is_regenerated_then_flagged(agent: PlanningAgent) -> None:
    replies = [
        lambda body: completion(tool_calls=[{"name": "metrics", "args": {"metric": "pipeline"}}]),
        lambda body: completion(content="Pipeline is $987.6M."),
        lambda body: completion(content="Pipeline is $987.6M, honestly."),
    ]
    with OpenAIStub(replies) as stub:
        remote = PlanningAgent(
            agent.warehouse,
            ModelSettings(provider="openai", base_url=stub.base_url, api_key="k"),
            checkpointer(":memory:"),
        )
        result = remote.ask("What's pipeline?")
    assert result.grounding["regenerated"] and not result.grounding["ok"]
    assert "$987.6M" in result.grounding["ungrounded"] and "Grounding check" in result.answer


def test_openai_failure_falls_back_to_the_offline_planner(agent: PlanningAgent) -> None:
    with OpenAIStub([], default=503) as stub:
        remote = PlanningAgent(
            agent.warehouse,
            ModelSettings(provider="openai", base_url=stub.base_url, api_key="k", max_retries=1),
            checkpointer(":memory:"),
        )
        result = remote.ask("What's pipeline this quarter in EMEA?")
    assert result.status == "ok" and "offline-planner" in result.model
    assert "language model was unavailable" in result.answer
    assert any(s.kind == "error" and "falling back" in (s.summary or "") for s in result.steps)
    assert _tools(result) == ["metrics"]


def test_cli_ask_json_and_audit_commands(agent: PlanningAgent, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPM_THREADS_DB", str(tmp_path / "threads.sqlite"))
    from interfaces.settings import get_settings

    get_settings.cache_clear()
    path = str(agent.warehouse.path)
    runner = CliRunner()
    result = runner.invoke(app, ["-w", path, "ask", "win rate by segment last quarter", "--json", "--user", "revops"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert {"run_id", "thread_id", "status", "answer", "recommendations", "steps", "model", "grounding"} <= set(data)
    assert data["steps"][0]["kind"] == "question" and {"seq", "kind", "name", "args", "summary", "duration_ms"} <= set(
        data["steps"][0]
    )
    follow = runner.invoke(app, ["-w", path, "ask", "and for EMEA?", "--thread", data["thread_id"], "--json"])
    assert json.loads(follow.stdout)["status"] == "ok"
    shown = runner.invoke(app, ["-w", path, "audit", "show", data["run_id"]])
    assert shown.exit_code == 0 and "tool_call" in shown.stdout
    listed = runner.invoke(app, ["-w", path, "audit", "list", "--json"])
    assert data["run_id"] in listed.stdout
    verified = runner.invoke(app, ["-w", path, "audit", "verify", data["run_id"]])
    assert verified.exit_code == 0
    replayed = runner.invoke(app, ["-w", path, "audit", "replay", data["run_id"], "--json"])
    assert replayed.exit_code == 0 and json.loads(replayed.stdout)["ok"]
    unknown = runner.invoke(app, ["-w", path, "ask", "hello", "--user", "nobody"])
    assert unknown.exit_code == 4 and "Known users" in unknown.stderr
    empty = runner.invoke(app, ["-w", path, "ask"])
    assert empty.exit_code == 3
    get_settings.cache_clear()


def _ask_cli(path: str, *args: str, env: dict[str, str | None] | None = None):  # type: ignore[no-untyped-def]
    from interfaces.output import out
    from interfaces.settings import get_settings

    get_settings.cache_clear()
    out.cache_clear()  # the console decides "terminal or pipe" when it is made
    try:
        return CliRunner().invoke(app, ["-w", path, "ask", *args], env=env)
    finally:
        out.cache_clear()
        get_settings.cache_clear()


def test_cli_ask_is_plain_text_when_piped_and_lists_each_recommendation_once(agent: PlanningAgent) -> None:
    question = "Forecast next quarter and tell me how many reps to hire"
    piped = _ask_cli(str(agent.warehouse.path), question, env={"COLUMNS": "400"})  # no wrapped table cells
    assert piped.exit_code == 0, piped.stderr
    assert "**" not in piped.stdout and "Forecast (" in piped.stdout  # `**Forecast**` as plain text
    data = json.loads(_ask_cli(str(agent.warehouse.path), question, "--json").stdout)
    assert "**Forecast**" in data["answer"] and "What to do:" in data["answer"]  # --json keeps the Markdown
    assert "Recommendations" in piped.stdout
    after = data["answer"].split("What to do:\n", 1)[1]
    listed = [line[2:] for line in after.split("\n\n", 1)[0].splitlines()]
    assert listed and all(piped.stdout.count(action) == 1 for action in listed), listed  # not twice
    for rec in data["recommendations"][:RECOMMENDATIONS_SHOWN]:
        assert piped.stdout.count(rec["action"]) == 1, rec["action"]


def test_cli_ask_renders_markdown_on_a_terminal(agent: PlanningAgent) -> None:
    shown = _ask_cli(
        str(agent.warehouse.path),
        "Forecast next quarter's bookings by region",
        env={"FORCE_COLOR": "1", "NO_COLOR": None},
    )
    assert shown.exit_code == 0, shown.stderr
    assert "**" not in shown.stdout and "\x1b[1mForecast\x1b[0m" in shown.stdout  # bold, not asterisks


def test_cli_ask_without_a_warehouse_names_the_demo_command(tmp_path: Path, demo_path: Path) -> None:
    missing = str(tmp_path / "warehouse.duckdb")
    result = _ask_cli(missing, "Forecast next quarter", env={"SPM_DEMO_WAREHOUSE": str(demo_path)})
    assert result.exit_code == 4 and "Traceback" not in result.stderr
    assert f"spm -w {demo_path} ask" in " ".join(result.stderr.split()) and "spm data init --demo" in result.stderr
    assert not Path(missing).exists()  # nothing is written anywhere else


def test_plain_text_and_the_answer_without_its_recommendation_list() -> None:
    from interfaces.agent_view import plain_text, without_listed_recommendations

    answer = (
        "**Forecast** (by region): P50 `$1M`.\n\n| region | P50 |\n|---|---|\n| EMEA | $1.2M |\n\n"
        "What to do:\n- Do a.\n- Do b.\n\n1 data warning(s) affect these numbers: x"
    )
    assert plain_text(answer).splitlines()[:5] == [
        "Forecast (by region): P50 $1M.",
        "",
        "| region | P50   |",
        "|--------|-------|",
        "| EMEA   | $1.2M |",
    ]
    assert "What to do:" not in without_listed_recommendations(answer, ["Do a.", "Do b.", "Do c."])
    assert without_listed_recommendations(answer, ["Do a."]) == answer.replace("- Do a.\n", "")  # b stays
    assert without_listed_recommendations("no list here", ["Do a."]) == "no list here"


def test_users_resolve_from_the_warehouse(agent: PlanningAgent) -> None:
    user = find_user(agent.warehouse, "emea-lead")
    assert user.role == "leader" and user.scope == Scope("region", "EMEA")


def test_the_planner_classifier_loads_before_the_warehouse_is_held(
    agent: PlanningAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process waits while an ask holds the file: loading the classifier (and
    scikit-learn, a second in a fresh process) must not happen inside that window."""
    from contextlib import contextmanager

    from agent.planner import intents

    intents.reset()
    loaded_when_held: list[bool] = []
    held = agent.warehouse.held

    @contextmanager
    def watching(**how):  # type: ignore[no-untyped-def]
        loaded_when_held.append(intents._model is not None)
        with held(**how) as wh:
            yield wh

    monkeypatch.setattr(agent.warehouse, "held", watching)
    result = agent.ask("What's pipeline this quarter in EMEA?")
    assert result.status == "ok" and _tools(result) == ["metrics"]
    assert loaded_when_held and loaded_when_held[0] is True
