"""The Slack bot end to end: a real Bolt app behind its HTTP endpoint, the real agent on the small
demo, and a local mock of the Slack Web API recording what the bot posts."""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.slack_stub import SlackStub, signed_headers

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from interfaces.compose import checkpointer
from interfaces.slack_app import SlackBot, build_app, serve_http
from interfaces.slack_blocks import APPROVE_ACTION, REJECT_ACTION, result_blocks
from interfaces.slack_cli import identifier
from tools.core import format as fmt
from warehouse.connection import Warehouse

SECRET = "test-signing-secret"
CRO, REP, EMEA_LEAD, STRANGER = "U0SPMCRO01", "U0SPMREP01", "U0SPMEMEA1", "U0NOBODY99"


@dataclass
class Bot:
    url: str
    stub: SlackStub
    agent: PlanningAgent

    def post(self, body: str, headers: dict[str, str]) -> tuple[int, str, float]:
        request = urllib.request.Request(self.url, data=body.encode(), headers=headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), time.monotonic() - started
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), time.monotonic() - started

    def event(
        self,
        event: dict[str, Any],
        event_id: str,
        *,
        retry: int | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> tuple[int, str, float]:
        body = json.dumps({"type": "event_callback", "team_id": "T0TEST", "event_id": event_id, "event": event})
        headers = signed_headers(secret, body, timestamp=timestamp, content_type="application/json")
        if retry is not None:
            headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(body, headers)

    def form(self, fields: dict[str, str]) -> tuple[int, str, float]:
        body = urllib.parse.urlencode(fields)
        return self.post(body, signed_headers(SECRET, body, content_type="application/x-www-form-urlencoded"))

    def runs(self) -> list[tuple[str, str, str]]:
        with self.agent.warehouse.reader() as cur:
            return cur.execute(
                "SELECT run_id, user_id, question FROM audit_runs WHERE interface = 'slack' ORDER BY started_at"
            ).fetchall()


@pytest.fixture(scope="module")
def bot(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    path = tmp_path_factory.mktemp("slack") / "demo.duckdb"
    shutil.copy(demo_path, path)
    agent = PlanningAgent(Warehouse(path, writable=True), ModelSettings(provider="offline"), checkpointer(":memory:"))
    stub = SlackStub()
    app = build_app(
        SlackBot(agent, identifier(agent.warehouse, "deny")),
        bot_token="xoxb-test",
        signing_secret=SECRET,
        api_url=stub.url,
    )
    server = serve_http(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Bot(f"http://127.0.0.1:{server.server_port}/slack/events", stub, agent)
    server.shutdown()
    stub.close()


def _mention(text: str, ts: str, user: str = CRO, channel: str = "C0PLAN") -> dict[str, Any]:
    return {"type": "app_mention", "user": user, "text": f"<@UBOT0001> {text}", "ts": ts, "channel": channel}


def _working(stub: SlackStub, thread_ts: str) -> list[str]:
    """The ts of each "working" message posted in the thread (each becomes an answer)."""
    return [p["_ts"] for p in stub.posted() if p.get("thread_ts") == thread_ts and p["text"].startswith("Working")]


def _answers(stub: SlackStub, thread_ts: str, text: str = "", count: int = 1) -> list[dict[str, Any]]:
    """The answers in the thread: the "working" messages, updated with the answer's blocks."""

    deadline = time.monotonic() + 60
    while True:
        working = _working(stub, thread_ts)
        found = [
            p for p in stub.posted("chat.update") if p.get("ts") in working and "blocks" in p and text in p["text"]
        ]
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer in thread {thread_ts}; calls: {[m for m, _ in stub.calls]}")
        time.sleep(0.05)


def _answer_in(stub: SlackStub, thread_ts: str) -> dict[str, Any]:
    return _answers(stub, thread_ts)[0]


def test_mention_gets_a_threaded_block_kit_answer(bot: Bot) -> None:
    status, _, took = bot.event(_mention("What's pipeline this quarter in EMEA?", "1700000001.000100"), "Ev001")
    assert status == 200 and took < 3.0  # acknowledged at once; the agent runs afterwards
    answer = _answer_in(bot.stub, "1700000001.000100")
    (working,) = _working(bot.stub, "1700000001.000100")  # one "working" message comes first ...
    updates = [p for m, p in bot.stub.calls if m == "chat.update" and p["ts"] == working]
    assert updates[0]["text"].startswith("Working on it… (") and "blocks" not in updates[0]  # ... shows progress
    assert updates[-1] is answer  # ... and becomes the answer, in place
    assert not [p for p in bot.stub.posted() if p.get("thread_ts") == "1700000001.000100" and "blocks" in p]
    kinds = [b["type"] for b in answer["blocks"]]
    assert kinds[0] == "header" and kinds[1] == "section" and kinds[-1] == "context"
    assert "EMEA" in answer["blocks"][1]["text"]["text"] and "Pipeline" in answer["text"]  # blocks and fallback
    run_id = answer["blocks"][-1]["elements"][0]["text"].split("`")[1]
    runs = {r[0]: r for r in bot.runs()}
    assert runs[run_id][1] == "cro"  # the Slack user id mapped to the warehouse user


def test_follow_up_in_the_same_thread_reuses_the_conversation(bot: Bot) -> None:
    bot.event(_mention("What's pipeline this quarter in EMEA?", "1700000002.000100"), "Ev002")
    _answer_in(bot.stub, "1700000002.000100")
    reply = {**_mention("and for APAC?", "1700000002.000200"), "thread_ts": "1700000002.000100"}
    bot.event(reply, "Ev003")
    answers = _answers(bot.stub, "1700000002.000100", text="APAC")
    assert "(pipeline; APAC" in answers[0]["text"]


def test_bad_or_stale_signatures_get_401_and_run_nothing(bot: Bot) -> None:
    before = len(bot.runs())
    event = _mention("Forecast next quarter", "1700000003.000100")
    assert bot.event(event, "Ev004", secret="not-the-secret")[0] == 401
    assert bot.event(event, "Ev005", timestamp=int(time.time()) - 3600)[0] == 401
    body = json.dumps({"type": "event_callback", "event_id": "Ev006", "event": event})
    assert bot.post(body, {"Content-Type": "application/json"})[0] == 401  # unsigned
    time.sleep(1.0)
    assert len(bot.runs()) == before
    assert not [p for p in bot.stub.posted() if p.get("thread_ts") == "1700000003.000100"]


def test_slack_retries_are_answered_once(bot: Bot) -> None:
    event = _mention("Win rate by segment last quarter", "1700000004.000100")
    assert bot.event(event, "Ev007")[0] == 200
    assert bot.event(event, "Ev007", retry=1)[0] == 200
    assert bot.event(event, "Ev007", retry=2)[0] == 200
    _answer_in(bot.stub, "1700000004.000100")
    time.sleep(1.5)
    assert len(_working(bot.stub, "1700000004.000100")) == 1 and len(_answers(bot.stub, "1700000004.000100")) == 1
    assert sum(1 for r in bot.runs() if r[2] == "Win rate by segment last quarter") == 1


def test_slash_command_acks_in_time_and_answers_in_a_thread(bot: Bot) -> None:
    status, body, took = bot.form(
        {
            "command": "/spm",
            "text": "How many AEs must we hire to make next year?",
            "user_id": CRO,
            "channel_id": "C0SLASH",
            "team_id": "T0TEST",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1.2.3",
        }
    )
    assert status == 200 and took < 3.0 and "Working" not in body  # one "working" signal, in the thread
    question = bot.stub.wait_for(lambda m, p: m == "chat.postMessage" and p.get("channel") == "C0SLASH")[0]
    assert "How many AEs" in question["text"] and "thread_ts" not in question
    answer = _answer_in(bot.stub, question["_ts"])  # the question message's ts is the thread
    assert "Capacity gap" in answer["text"] and len(_working(bot.stub, question["_ts"])) == 1


def test_unknown_users_are_refused_by_default(bot: Bot) -> None:
    before = len(bot.runs())
    bot.event(_mention("Forecast next quarter", "1700000005.000100", user=STRANGER), "Ev008")
    refusal = bot.stub.wait_for(lambda m, p: m == "chat.postEphemeral" and p.get("thread_ts") == "1700000005.000100")[0]
    assert "don't know you" in refusal["text"] and STRANGER in refusal["text"] and refusal["user"] == STRANGER
    assert not [p for p in bot.stub.posted() if p.get("thread_ts") == "1700000005.000100"]  # nothing public
    assert len(bot.runs()) == before


def test_scoped_slack_user_sees_only_their_scope(bot: Bot) -> None:
    bot.event(_mention("What's pipeline this quarter in APAC?", "1700000006.000100", user=EMEA_LEAD), "Ev009")
    answer = _answer_in(bot.stub, "1700000006.000100")
    assert "outside" in answer["text"] and "EMEA" in answer["text"]


def _click(bot: Bot, action: str, thread_id: str, user: str, thread_ts: str) -> tuple[int, str, float]:
    payload = {
        "type": "block_actions",
        "user": {"id": user},
        "team": {"id": "T0TEST"},
        "channel": {"id": "C0PLAN"},
        "message": {"ts": "1700000099.000001", "thread_ts": thread_ts},
        "actions": [{"action_id": action, "block_id": "spm_approval", "value": thread_id, "type": "button"}],
        "response_url": "http://127.0.0.1:9/unused",
        "trigger_id": "1.2.3",
    }
    return bot.form({"payload": json.dumps(payload)})


def _scenario_status(bot: Bot, name: str) -> str:
    with bot.agent.warehouse.reader() as cur:
        return cur.scalar("SELECT status FROM scenarios WHERE name = ?", [name])


def test_approval_buttons_only_work_for_allowed_roles(bot: Bot) -> None:
    bot.agent.ask("What if we raise EMEA quotas 10%? save it as slack-emea-up")
    ts = "1700000007.000100"
    bot.event(_mention("apply the slack-emea-up scenario", ts), "Ev010")
    waiting = _answer_in(bot.stub, ts)
    actions = next(b for b in waiting["blocks"] if b["type"] == "actions")
    assert [e["action_id"] for e in actions["elements"]] == [APPROVE_ACTION, REJECT_ACTION]
    thread_id = actions["elements"][0]["value"]
    assert "spm ask" not in waiting["text"]  # Slack shows buttons, not the command-line hint

    # A rep presses Approve: refused privately, nothing changes, the click is on the record.
    assert _click(bot, APPROVE_ACTION, thread_id, REP, ts)[0] == 200
    refused = bot.stub.wait_for(lambda m, p: m == "chat.postEphemeral" and p.get("user") == REP)[0]
    assert "may not" in refused["text"] and refused["thread_ts"] == ts  # in the thread, not the channel root
    assert _scenario_status(bot, "slack-emea-up") == "draft"

    # The CRO approves: applied in one transaction, the result posted in the thread.
    assert _click(bot, APPROVE_ACTION, thread_id, CRO, ts)[0] == 200
    done = bot.stub.wait_for(
        lambda m, p: m == "chat.postMessage" and p.get("thread_ts") == ts and "rows changed" in p.get("text", "")
    )[0]
    assert "blocks" in done
    assert _scenario_status(bot, "slack-emea-up") == "applied"
    updated = bot.stub.wait_for(lambda m, p: m == "chat.update" and "Approved by" in p.get("text", ""))[0]
    assert updated["ts"] == "1700000099.000001"
    assert not [b for b in updated["blocks"] if b["type"] == "actions"]  # no second decision possible
    with bot.agent.warehouse.reader() as cur:
        run_id = cur.scalar("SELECT run_id FROM audit_runs WHERE thread_id = ?", [thread_id])
        summaries = [
            r[0]
            for r in cur.execute(
                "SELECT summary FROM audit_steps WHERE run_id = ? AND kind = 'approval' ORDER BY seq", [run_id]
            ).fetchall()
        ]
    assert any("refused: rep" in s for s in summaries) and any("approved by cro" in s for s in summaries)


def test_blocks_stay_within_slack_limits(bot: Bot) -> None:
    result = bot.agent.ask("Forecast next quarter by region and tell me how many reps to hire")
    blocks, fallback = result_blocks(result, "x" * 400)
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    for block in blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
    assert "```" in json.dumps(blocks)  # a compact table of the tool's headline rows
    assert result.run_id in fallback


def test_manifest_subscribes_to_what_the_bot_listens_to() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parents[1] / "interfaces/slack_manifest.yaml").read_text())
    settings = manifest["settings"]
    assert {"app_mention", "message.im"} <= set(settings["event_subscriptions"]["bot_events"])
    assert settings["interactivity"]["is_enabled"]  # the approval buttons
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/spm"]
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )


def test_spm_slack_names_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from interfaces.cli import app
    from interfaces.settings import get_settings

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    missing = runner.invoke(app, ["slack"])
    assert missing.exit_code == 3 and "SLACK_BOT_TOKEN" in missing.stderr
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    get_settings.cache_clear()
    http = runner.invoke(app, ["slack", "--http"])
    assert http.exit_code == 3 and "SLACK_SIGNING_SECRET" in http.stderr
    socket = runner.invoke(app, ["slack", "--socket"])
    assert socket.exit_code == 3 and "SLACK_APP_TOKEN" in socket.stderr and "xoxb-test" not in socket.stderr
    get_settings.cache_clear()


def test_direct_messages_are_answered_and_bot_messages_ignored(bot: Bot) -> None:
    dm = {
        "type": "message",
        "channel_type": "im",
        "user": CRO,
        "text": "Check the data quality",
        "ts": "1700000008.000100",
        "channel": "D0DIRECT",
    }
    bot.event(dm, "Ev011")
    assert "Data quality" in _answer_in(bot.stub, "1700000008.000100")["text"]
    own = {**dm, "ts": "1700000008.000200", "bot_id": "BBOT0001", "text": "an answer the bot posted"}
    bot.event(own, "Ev012")
    time.sleep(1.0)
    assert not [p for p in bot.stub.posted() if p.get("thread_ts") == "1700000008.000200"]


def test_a_kpi_table_shows_the_kpi_in_its_own_unit(bot: Bot) -> None:
    """A coverage of 9.90 reads 9.90x, a win rate 0.36 reads 36%: never as dollars, never cut off."""
    from agent.result import AgentResult
    from tools.metrics.models import MetricsInput
    from tools.metrics.tool import run_metrics

    for metric, pattern in (("coverage", r"\d+\.\d{2}x"), ("win_rate", r"\d+(\.\d)?%")):
        kpi = run_metrics(bot.agent.warehouse, MetricsInput(metric=metric, by=["region"]))
        result = AgentResult(run_id="r1", thread_id="t1", status="ok", answer="a", model="offline",
                             tool_results=[kpi.model_dump(mode="json")])  # fmt: skip
        blocks, _ = result_blocks(result, "q")
        text = next(b["text"]["text"] for b in blocks if b["type"] == "section" and "```" in b["text"]["text"])
        lines = text.split("```")[1].splitlines()
        header = lines[0].split()
        column = header.index("value")
        for line, row in zip(lines[1:], kpi.tables["values"], strict=True):
            shown = line.split()[column]
            assert re.fullmatch(pattern, shown), (metric, line)
            assert shown == fmt.value(row["value"], kpi.metrics["unit"])
