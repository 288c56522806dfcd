"""The Slack bot end to end: a real Bolt app behind its HTTP endpoint, the real agent on the small
demo, and a local mock of the Slack Web API recording what the bot posts. Also the pure layout
rules: Markdown-safe cuts, answers split over sections, and escaping of every injection path."""

from __future__ import annotations

import json
import random
import re
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.slack_stub import SlackStub, signed_headers

from agent.agent import PlanningAgent
from agent.models import ModelSettings
from agent.result import AgentResult
from interfaces.compose import checkpointer
from interfaces.slack_app import (
    STATUS_WORKING,
    AssistantStatuses,
    SlackBot,
    StatusWorking,
    Working,
    build_app,
    serve_http,
)
from interfaces.slack_blocks import (
    APPROVE_ACTION,
    MESSAGE_TEXT_LIMIT,
    REJECT_ACTION,
    SECTION_LIMIT,
    result_blocks,
    split_mrkdwn,
    truncate_mrkdwn,
)
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
    slack: SlackBot

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


@contextmanager
def _serving(agent: PlanningAgent, stub: SlackStub) -> Iterator[Bot]:
    """A Bolt app for `agent` behind a local HTTP endpoint, its Web API calls going to `stub`."""
    slack = SlackBot(agent, identifier(agent.warehouse, "deny"))
    app = build_app(slack, bot_token="xoxb-test", signing_secret=SECRET, api_url=stub.url)
    server = serve_http(app, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Bot(f"http://127.0.0.1:{server.server_port}/slack/events", stub, agent, slack)
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def bot(demo_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bot]:
    path = tmp_path_factory.mktemp("slack") / "demo.duckdb"
    shutil.copy(demo_path, path)
    agent = PlanningAgent(Warehouse(path, writable=True), ModelSettings(provider="offline"), checkpointer(":memory:"))
    stub = SlackStub()
    with _serving(agent, stub) as served:
        yield served
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

    # Someone the warehouse does not know presses Approve: refused and recorded the same way.
    assert _click(bot, APPROVE_ACTION, thread_id, STRANGER, ts)[0] == 200
    stranger = bot.stub.wait_for(
        lambda m, p: m == "chat.postEphemeral" and p.get("user") == STRANGER and p.get("thread_ts") == ts
    )[0]
    assert "may not" in stranger["text"]
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
    assert any(f"slack:{STRANGER}" in s for s in summaries)


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
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "assistant_thread_started", "assistant_thread_context_changed"} <= events
    assert settings["interactivity"]["is_enabled"]  # the approval buttons
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/spm"]
    assert {"app_mentions:read", "assistant:write", "chat:write", "commands", "im:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    view = manifest["features"]["assistant_view"]  # the AI app's side panel, where statuses show
    assert view["assistant_description"] and all(p["title"] and p["message"] for p in view["suggested_prompts"])


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
    # A top-level DM is no assistant thread: no status is tried, the working message shows progress.
    assert not [p for p in bot.stub.posted("assistant.threads.setStatus") if p["channel_id"] == "D0DIRECT"]
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


# --- assistant threads (Slack AI apps) --------------------------------------------------------


def _assistant_message(text: str, channel: str, thread_ts: str, ts: str) -> dict[str, Any]:
    """A person's message in an assistant thread: in the app's DM, inside the thread Slack opened."""
    return {
        "type": "message",
        "channel_type": "im",
        "user": CRO,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "channel": channel,
    }


def _calls_in(stub: SlackStub, channel: str) -> list[tuple[str, dict[str, Any]]]:
    with stub._lock:  # a snapshot; never inside a wait_for predicate
        return [(m, p) for m, p in stub.calls if (p.get("channel") or p.get("channel_id")) == channel]


def _answered(stub: SlackStub, channel: str, thread_ts: str) -> dict[str, Any]:
    """The answer in an assistant thread: a new reply with blocks (a status is no message)."""
    return stub.wait_for(
        lambda m, p: m == "chat.postMessage" and p.get("channel") == channel and p.get("thread_ts") == thread_ts
        and "blocks" in p
    )[0]  # fmt: skip


def test_assistant_thread_shows_a_status_then_the_answer_and_clears_it(bot: Bot) -> None:
    channel, thread = "D0ASSIST1", "1700000010.000100"
    started = {
        "type": "assistant_thread_started",
        "assistant_thread": {"user_id": CRO, "channel_id": channel, "thread_ts": thread, "context": {}},
        "event_ts": "1700000010.000101",
    }
    assert bot.event(started, "Ev020")[0] == 200
    hello = bot.stub.wait_for(lambda m, p: m == "chat.postMessage" and p.get("channel") == channel)[0]
    assert hello["thread_ts"] == thread and "planning question" in hello["text"]  # the thread says what it does

    bot.event(
        _assistant_message("What's pipeline this quarter in EMEA?", channel, thread, "1700000010.000200"), "Ev021"
    )
    answer = _answered(bot.stub, channel, thread)
    assert "EMEA" in answer["blocks"][1]["text"]["text"]
    bot.stub.wait_for(
        lambda m, p: m == "assistant.threads.setStatus" and p["channel_id"] == channel and not p["status"]
    )
    calls = _calls_in(bot.stub, channel)
    statuses = [(i, p) for i, (m, p) in enumerate(calls) if m == "assistant.threads.setStatus"]
    assert all(p["thread_ts"] == thread for _, p in statuses)  # Slack's wire shape: channel_id, thread_ts, status
    assert statuses[0][1]["status"] == STATUS_WORKING  # "spm is working on it…" at once ...
    assert any(p["status"].startswith(STATUS_WORKING + " (") for _, p in statuses[1:-1])  # ... then the progress
    answer_at = next(i for i, (m, p) in enumerate(calls) if p is answer)
    assert statuses[-1][1]["status"] == "" and statuses[-1][0] > answer_at  # cleared once the answer is posted
    assert not [p for m, p in calls if m == "chat.update"]  # no placeholder message came and went
    assert not [p for m, p in calls if m == "chat.postMessage" and p["text"].startswith("Working")]


def test_a_thread_slack_refuses_a_status_for_gets_the_working_message(bot: Bot) -> None:
    """A refusal about one thread: that question falls back to the working message; others keep statuses."""
    channel, thread = "D0ASSIST2", "1700000011.000100"
    bot.stub.refuse("assistant.threads.setStatus", "invalid_thread_ts", channel=channel)
    bot.event(_assistant_message("Check the data quality", channel, thread, "1700000011.000200"), "Ev022")
    answer = _answer_in(bot.stub, thread)  # the "Working on it…" message, updated with the answer
    assert "Data quality" in answer["text"] and answer["channel"] == channel
    tried = [p for m, p in _calls_in(bot.stub, channel) if m == "assistant.threads.setStatus"]
    assert len(tried) == 1  # one try, no progress or clearing calls against a thread that refused
    assert bot.slack.statuses.refused is None  # other assistant threads still get a status


def test_an_app_that_may_not_set_statuses_falls_back_silently_and_stops_trying(bot: Bot) -> None:
    """missing_scope (or a workspace without the AI feature): the placeholder, as before, and no more tries."""
    stub = SlackStub()
    stub.refuse("assistant.threads.setStatus", "missing_scope")
    try:
        with _serving(bot.agent, stub) as other:
            other.event(_assistant_message("Check the data quality", "D0NOAI", "1700000012.000100", "1"), "Ev023")
            first = _answer_in(stub, "1700000012.000100")
            assert "Data quality" in first["text"] and "blocks" in first
            assert other.slack.statuses.refused == "missing_scope"
            other.event(_assistant_message("Check the data quality", "D0NOAI", "1700000012.000300", "2"), "Ev024")
            assert "Data quality" in _answer_in(stub, "1700000012.000300")["text"]
            assert len(stub.posted("assistant.threads.setStatus")) == 1  # learnt once for the process
            refusals = [p for p in stub.posted("chat.postEphemeral")]
            assert not refusals  # nothing about it reaches the user
    finally:
        stub.close()


# --- Markdown-safe cuts and long answers ------------------------------------------------------

_WORDS = [f"w{i}" for i in range(40)]


def _phrase(rng: random.Random, n: int = 3) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, n)))


def _random_mrkdwn(rng: random.Random) -> str:
    """Slack mrkdwn from well-formed pieces: every mark in it is closed, on its line."""
    pieces: list[str] = []
    for _ in range(rng.randint(20, 90)):
        kind = rng.randrange(12)
        pieces.append(
            [
                lambda: _phrase(rng, 6),
                lambda: f"*{_phrase(rng)}*",
                lambda: f"_{_phrase(rng)}_",
                lambda: f"~{_phrase(rng)}~",
                lambda: f"`{_phrase(rng)} * _`",
                lambda: f"<https://x.example/{rng.choice(_WORDS)}|{_phrase(rng)}>",
                lambda: "&amp;",
                lambda: f"&lt;{rng.choice(_WORDS)}&gt;",
                lambda: "\n\n",
                lambda: "\n• ",
                lambda: (
                    "\n```\n" + "\n".join(f"{_phrase(rng)} * &amp; _" for _ in range(rng.randint(1, 12))) + "\n```\n"
                ),
                lambda: "*" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(20, 60))) + "*",  # a long run
            ][kind]()
        )
    return " ".join(pieces)


def _open_marks(part: str) -> list[str]:
    """What a part leaves open: an odd code fence, or (outside code blocks, per line) an odd count of
    `*`, `_`, `~` or backticks, a link without its end, or a broken `&…;` entity."""
    problems = []
    if part.count("```") % 2:
        problems.append("```")
    outside = re.sub(r"```.*?```", "", part, flags=re.DOTALL)
    for line in outside.split("\n"):
        if line.count("`") % 2:
            problems.append(f"` in {line!r}")
        for mark in "*_~":  # marks inside a code span are text
            if re.sub(r"`[^`]*`", "", line).count(mark) % 2:
                problems.append(f"{mark} in {line!r}")
        if line.count("<") != line.count(">") or re.search(r"<[^>]*$|^[^<]*>", line):
            problems.append(f"link in {line!r}")
    if re.search(r"&(?!amp;|lt;|gt;)", part):
        problems.append("entity")
    return problems


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"w\d+", text)]


def test_cuts_never_leave_a_mark_open_wherever_they_fall() -> None:
    """Many random texts, each split at many widths (so cuts fall everywhere): every part fits,
    closes what it opens, and the words come through whole and in order."""
    rng = random.Random(19)
    for _ in range(30):
        text = _random_mrkdwn(rng)
        assert not _open_marks(text)
        for limit in range(60, 700, 23):
            parts = split_mrkdwn(text, limit)
            for part in parts:
                assert len(part) <= limit and part.strip()
                assert not _open_marks(part), (limit, part)
            assert _words(" ".join(parts)) == _words(text)
            cut = truncate_mrkdwn(text, limit)
            assert len(cut) <= limit and not _open_marks(cut) and (cut == text or cut.endswith("…"))


def test_cuts_keep_marks_whole_in_the_cases_that_matter() -> None:
    entity = "x" * 40 + " &amp; " + "y" * 40
    for limit in range(30, 90):
        assert all("&" not in p or "&amp;" in p for p in split_mrkdwn(entity, limit))
    code = "```\n" + "\n".join(f"row {i:03d}" for i in range(100)) + "\n```"
    parts = split_mrkdwn(code, 200)
    assert len(parts) > 1 and all(p.startswith("```\n") and p.endswith("\n```") for p in parts)  # closed, reopened
    assert split_mrkdwn("*bold " + "word " * 80 + "end*", 120)[0].endswith("word*")  # a run too long: closed
    link = "<https://x.example/" + "a" * 300 + "|the plan>"
    assert all("<" not in p for p in split_mrkdwn(link, 100))  # a link too long to fit: shown as text
    assert split_mrkdwn("a\n\n" + "b" * 70 + "\n\nc " * 3, 80)[0] == "a"  # paragraphs first (when no fuller cut)


def _result(answer: str, **extra: Any) -> AgentResult:
    return AgentResult(run_id="run-long-1", thread_id="t1", status="ok", answer=answer, model="offline", **extra)


def test_a_long_answer_is_split_over_sections_at_paragraphs() -> None:
    paragraphs = [f"**Region {i}** " + " ".join(f"w{j}" for j in range(150)) for i in range(12)]
    blocks, fallback = result_blocks(_result("\n\n".join(paragraphs)), "q")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert len(sections) > 2 and all(len(t) <= SECTION_LIMIT for t in sections)
    shown = "\n\n".join(sections)
    for paragraph in paragraphs:  # each paragraph whole, in one section
        assert any(paragraph.replace("**", "*") in t for t in sections)
    assert "spm audit show" not in shown  # nothing was cut
    assert len(blocks) <= 50 and sum(map(len, sections)) <= MESSAGE_TEXT_LIMIT
    assert blocks[-1]["type"] == "context" and fallback


def test_an_answer_too_long_for_one_message_is_cut_with_a_note_naming_the_run() -> None:
    table = "| rep | region | quota |\n|---|---|---|\n" + "\n".join(
        f"| R-{i:05d} | EMEA | $1.{i}M |" for i in range(2000)
    )
    blocks, _ = result_blocks(_result("Quotas by rep:\n\n" + table + "\n\nThat is all."), "q")
    sections = [b["text"]["text"] for b in blocks if b["type"] == "section"]
    assert sum(map(len, sections)) <= MESSAGE_TEXT_LIMIT  # Slack refuses more (msg_blocks_too_long)
    assert all(len(t) <= SECTION_LIMIT and not _open_marks(t) for t in sections)  # each code block closed
    assert "spm audit show run-long-1" in sections[-1] and "longer than Slack shows" in sections[-1]
    assert len(sections) > 1 and sections[1].startswith("```")  # the table went on in a reopened block


# --- escaping: nothing from a question, the data or an error becomes live markup ---------------

EVIL = ("<!channel>", "<!here>", "<@U0EVIL001>", "<https://evil.example|here>")
INJECTION = "<!channel> <!here> <@U0EVIL001> see <https://evil.example|here> & co"


def _live(params: dict[str, Any]) -> list[str]:
    """Injected markup that Slack would make live in a call: in `text`, a status, or any mrkdwn
    object of its blocks (plain_text is never parsed for mentions or links)."""
    texts = [str(params.get("text", "")), str(params.get("status", ""))]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                texts.append(str(node.get("text", "")))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(params.get("blocks"))
    return [evil for evil in EVIL for text in texts if evil in text]


def _client(stub: SlackStub) -> Any:
    from slack_sdk import WebClient

    return WebClient(token="xoxb-test", base_url=stub.url)


class _FailingAgent:
    """An agent whose every answer and decision fails with a message carrying injected markup."""

    def ask(self, *args: Any, **kwargs: Any) -> Any:
        from warehouse.errors import InputError

        raise InputError(f"no territory named {INJECTION}", hint=INJECTION)

    resume = ask


class _RefusingAgent:
    """An agent that refuses an approval with an answer quoting data."""

    def resume(self, *args: Any, **kwargs: Any) -> AgentResult:
        return AgentResult(run_id="r", thread_id="t", status="needs_approval", model="offline",
                           answer=f"rep may not approve scenario **{INJECTION}**")  # fmt: skip


class _ApprovingAgent:
    """An agent whose decisions succeed, with an answer quoting data."""

    def resume(self, *args: Any, **kwargs: Any) -> AgentResult:
        return AgentResult(run_id="r", thread_id="t", status="ok", model="offline", answer=f"applied {INJECTION}")


def test_a_question_with_markup_is_shown_not_obeyed(bot: Bot) -> None:
    """Mentions and the assistant thread: the question reaches the header (plain text) and any mrkdwn escaped."""
    bot.event(_mention(f"Forecast next quarter {INJECTION}", "1700000013.000100"), "Ev030")
    _answer_in(bot.stub, "1700000013.000100")
    working = _working(bot.stub, "1700000013.000100")
    with bot.stub._lock:
        thread = [p for _, p in bot.stub.calls if p.get("thread_ts") == "1700000013.000100" or p.get("ts") in working]
    assert len(thread) > 2 and not [evil for p in thread for evil in _live(p)]
    channel = "D0ASSIST3"
    bot.event(_assistant_message(f"Forecast {INJECTION}", channel, "1700000013.000200", "3"), "Ev031")
    _answered(bot.stub, channel, "1700000013.000200")
    assert not [evil for _, p in _calls_in(bot.stub, channel) for evil in _live(p)]


def test_a_slash_command_question_is_escaped_in_the_channel(bot: Bot) -> None:
    bot.form({"command": "/spm", "text": f"forecast {INJECTION}", "user_id": CRO, "channel_id": "C0EVIL",
              "team_id": "T0TEST", "response_url": "http://127.0.0.1:9/unused", "trigger_id": "1.2.3"})  # fmt: skip
    asked = bot.stub.wait_for(lambda m, p: m == "chat.postMessage" and p.get("channel") == "C0EVIL")[0]
    assert asked["text"].startswith(f"<@{CRO}> asked:")  # the asker's own mention stays live ...
    assert not _live(asked) and "&lt;!channel&gt;" in asked["text"]  # ... what they typed does not
    _answer_in(bot.stub, asked["_ts"])
    assert not [evil for _, p in _calls_in(bot.stub, "C0EVIL") for evil in _live(p)]


def test_progress_text_is_escaped_in_the_message_and_the_status(bot: Bot) -> None:
    client = _client(bot.stub)
    Working(client, "C0PROG", "1700000014.000100").progress(f"planned: {INJECTION}")
    StatusWorking(client, "D0PROG", "1700000014.000200", AssistantStatuses()).progress(f"ran {INJECTION}")
    update = bot.stub.wait_for(lambda m, p: m == "chat.update" and p.get("channel") == "C0PROG")[0]
    status = bot.stub.wait_for(lambda m, p: m == "assistant.threads.setStatus" and p["channel_id"] == "D0PROG")[0]
    assert "&lt;!channel&gt;" in update["text"] and "&lt;!channel&gt;" in status["status"]
    assert not _live(update) and not _live(status)


def test_error_messages_are_escaped(bot: Bot) -> None:
    """A failed question (working message and assistant thread) and a failed decision."""
    cro = identifier(bot.agent.warehouse, "deny")(CRO)
    failing = SlackBot(_FailingAgent(), identify=lambda user: cro)
    client = _client(bot.stub)
    failing.answer(client, team="T", channel="C0ERR", thread_ts="1700000015.000100", slack_user=CRO, text="q")
    failing.answer(client, team="T", channel="D0ERR", thread_ts="1700000015.000200", slack_user=CRO, text="q",
                   assistant=True)  # fmt: skip
    click = {"user": {"id": CRO}, "actions": [{"value": "t"}], "channel": {"id": "C0ERR2"},
             "message": {"ts": "1700000015.000300"}}  # fmt: skip
    failing.decide(client, click, approved=True)
    sent = [p for ch in ("C0ERR", "D0ERR", "C0ERR2") for _, p in _calls_in(bot.stub, ch)]
    told = [
        p["text"] for p in sent if "could not answer" in p.get("text", "") or "Nothing changed" in p.get("text", "")
    ]
    assert len(told) == 3 and all("&lt;!channel&gt;" in t for t in told)
    assert not [evil for p in sent for evil in _live(p)]


def test_refusals_and_verdicts_are_escaped(bot: Bot) -> None:
    """An approval refusal quoting data, a verdict naming a warehouse user, an unknown user's notice."""
    from warehouse.identity import Scope, User

    client = _client(bot.stub)
    refusing = SlackBot(_RefusingAgent(), identify=lambda user: None)
    click = {"user": {"id": REP}, "actions": [{"value": "t"}], "channel": {"id": "C0REF"},
             "message": {"ts": "1700000016.000100"}}  # fmt: skip
    refusing.decide(client, click, approved=True)
    refusal = bot.stub.wait_for(lambda m, p: m == "chat.postEphemeral" and p.get("channel") == "C0REF")[0]
    assert "may not approve" in refusal["text"] and not _live(refusal)

    odd = User(INJECTION, "leader", Scope("all", "-"), "odd")
    deciding = SlackBot(_ApprovingAgent(), identify=lambda user: odd)
    click = {"user": {"id": "<!here>"}, "actions": [{"value": "t"}], "channel": {"id": "C0VERDICT"},
             "message": {"ts": "1700000016.000200", "blocks": []}}  # fmt: skip
    deciding.decide(client, click, approved=True)
    verdict = bot.stub.wait_for(lambda m, p: m == "chat.update" and p.get("channel") == "C0VERDICT")[0]
    assert verdict["text"].startswith("Approved by &lt;!here&gt;")  # not a Slack user id: no mention
    assert not [evil for _, p in _calls_in(bot.stub, "C0VERDICT") for evil in _live(p)]

    unknown = SlackBot(bot.agent, identify=lambda user: None)
    unknown.answer(client, team="T", channel="C0WHO", thread_ts="1700000016.000300", slack_user="<!channel>", text="q")
    notice = bot.stub.wait_for(lambda m, p: m == "chat.postEphemeral" and p.get("channel") == "C0WHO")[0]
    assert "don't know you" in notice["text"] and not _live(notice)


def test_data_in_answers_recommendations_and_tables_is_escaped() -> None:
    """Rep, account and territory names reach Slack through the answer, recommendations and tool tables."""
    result = _result(
        f"Move **{INJECTION}** now.\n\n| account | to |\n|---|---|\n| {INJECTION} | R-1 |",
        recommendations=[{"action": f"Move {INJECTION}", "confidence": 0.8, "impact": {}}],
    )
    tables = _result(
        "Done.", tool_results=[{"tool": "territory", "tables": {"moves": [{"account": INJECTION, "to": "R-1"}]}}]
    )
    for res in (result, tables):
        blocks, fallback = result_blocks(res, INJECTION)
        assert not _live({"blocks": blocks, "text": fallback})
        assert blocks[0]["text"]["type"] == "plain_text"  # the question as written, never parsed
        assert "&lt;!channel&gt;" in json.dumps(blocks)
