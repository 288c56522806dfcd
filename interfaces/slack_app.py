"""The Slack bot: a Bolt app that answers mentions, direct messages and `/spm` in threads.

Slack wants an acknowledgement within 3 seconds, so every listener acks at once and the
agent runs in a lazy listener on Bolt's thread pool. The Slack thread is the conversation
(thread id = team:channel:thread_ts): questions in different threads run in parallel, those
in one thread one at a time. Slack re-sends an event it thinks was lost; those retries are
recognised by event id and dropped. A question's "Working on it…" message shows the graph's
progress and becomes the answer. Approvals are buttons; a click by someone whose role may not
approve changes nothing but is recorded in the run's audit trail, and only they are told, in
the thread (as are people the warehouse does not know).

Where the app runs as a Slack AI app ("Agents & AI Apps", the manifest's `assistant_view`), a
question asked in an assistant thread shows the thread's status instead ("spm is working on it…",
then the graph's progress) through `assistant.threads.setStatus`, and the answer is a new reply,
which clears it. An assistant thread is recognised by Bolt's own rule (a person's message in the
app's DM with a `thread_ts`: `is_user_message_event_in_assistant_thread`); whether the app may set
statuses at all is learnt by trying: a refusal that concerns the app (`missing_scope`, not an AI
app) turns statuses off for the process, any other one only for that question, and either way the
question gets the "Working on it…" message as everywhere else.

Every text built here from a question, data or an error is escaped (`slack_escape`): a question
or a name holding `<!channel>` or `<https://evil.example|here>` shows as written.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.request.payload_utils import is_user_message_event_in_assistant_thread
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from interfaces.errors import explain
from interfaces.slack_blocks import (
    APPROVE_ACTION,
    FALLBACK_LIMIT,
    REJECT_ACTION,
    answer_text,
    result_blocks,
    slack_escape,
    to_mrkdwn,
    truncate_mrkdwn,
)
from warehouse.identity import Scope, User

log = logging.getLogger("spm.slack")
MENTION = re.compile(r"<@[A-Z0-9]+>\s*")
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")  # what may be written as a live <@mention>
SEEN_EVENTS = 10_000  # event ids remembered for de-duplication
WORKING = "Working on it…"
PROGRESS_EVERY = 1.0  # seconds between two progress updates of the working message
# Slack shows an assistant thread's status after the app's name: "spm is working on it…".
STATUS_WORKING = "is working on it…"
STATUS_STEP_LIMIT = 80  # characters of progress in a status line
# setStatus refusals that are about the app, not the thread: no scope, a token or workspace that may
# not, a method this workspace does not offer. After one, statuses stay off for the process.
APP_LEVEL_REFUSALS = frozenset(
    {
        "missing_scope",
        "not_allowed_token_type",
        "no_permission",
        "access_denied",
        "unknown_method",
        "method_deprecated",
        "deprecated_endpoint",
        "is_bot",
        "enterprise_is_restricted",
        "team_access_not_granted",
    }
)
ASK_ME = "Ask me a planning question, e.g. “Forecast next quarter by region”."
NOT_REGISTERED = (
    "I don't know you yet, so I can't show planning data. Ask an admin to add your Slack id ({user}): "
    "`spm users add YOUR_ID --role ROLE --scope SCOPE --slack-id {user}`."
)


class EventDeduplicator:
    """Remembers recent event ids (bounded) so a retried delivery runs nothing twice."""

    def __init__(self, size: int = SEEN_EVENTS) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        with self._lock:
            if event_id in self._seen:
                return False
            self._seen[event_id] = None
            if len(self._seen) > self._size:
                self._seen.popitem(last=False)
            return True


class ThreadLocks:
    """One lock per conversation thread: its messages run in order, other threads in parallel."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, thread_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(thread_id, threading.Lock())


class Working:
    """The thread's "Working on it…" message: updated in place as the graph moves (at most once
    per `PROGRESS_EVERY` seconds, Slack's rate limits being per channel), then replaced by the
    answer. If Slack refuses an update, the answer is posted as a new message instead."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str) -> None:
        self.client, self.channel, self.thread_ts = client, channel, thread_ts
        posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=WORKING)
        self.ts: str | None = posted.get("ts")
        self._shown = WORKING
        self._last = 0.0

    def progress(self, step: str) -> None:
        text = f"{WORKING} ({slack_escape(step)})"  # the step names tools the model chose: text, not markup
        now = time.monotonic()
        if self.ts is None or text == self._shown or now - self._last < PROGRESS_EVERY:
            return
        try:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text)
            self._shown, self._last = text, now
        except SlackApiError as exc:  # progress is a courtesy: the answer still comes
            log.info("progress update refused: %s", exc.response.get("error"))

    def finish(self, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        content: dict[str, Any] = {"text": text} | ({"blocks": blocks} if blocks is not None else {})
        if self.ts is not None:
            try:
                self.client.chat_update(channel=self.channel, ts=self.ts, **content)
                return
            except SlackApiError as exc:
                log.info("answer update refused, posting it instead: %s", exc.response.get("error"))
        self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **content)


class AssistantStatuses:
    """Sets assistant-thread statuses while this app may: an app-level refusal (see
    `APP_LEVEL_REFUSALS`) turns them off for good, so a workspace without the AI feature pays one
    failed call per process, not one per question. Every failure is silent to the user."""

    def __init__(self) -> None:
        self.refused: str | None = None  # the error that turned statuses off, if one did
        self._lock = threading.Lock()

    def set(self, client: WebClient, channel: str, thread_ts: str, status: str) -> bool:
        """Show `status` in the thread (an empty one clears it); False when Slack would not."""
        if self.refused is not None:
            return False
        try:
            client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
            return True
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error in APP_LEVEL_REFUSALS:
                with self._lock:
                    self.refused = error
            log.info("assistant status refused (%s): the working message stands in", error)
        except (SlackClientError, OSError) as exc:  # Slack unreachable: the answer may still get through
            log.info("assistant status failed: %s", type(exc).__name__)
        return False


class StatusWorking:
    """The working signal in an assistant thread: the thread's status, updated with progress (at
    most once per `PROGRESS_EVERY` seconds). Slack clears a status when the app replies, so a
    placeholder message would end it at once: the answer is posted as a new reply, then the status
    is cleared explicitly as well (a reply that fails must not leave "working" behind)."""

    def __init__(self, client: WebClient, channel: str, thread_ts: str, statuses: AssistantStatuses) -> None:
        self.client, self.channel, self.thread_ts, self.statuses = client, channel, thread_ts, statuses
        self._shown = STATUS_WORKING
        self._last = 0.0

    def progress(self, step: str) -> None:
        status = f"{STATUS_WORKING} ({slack_escape(step[:STATUS_STEP_LIMIT])})"
        now = time.monotonic()
        if status == self._shown or now - self._last < PROGRESS_EVERY:
            return
        if self.statuses.set(self.client, self.channel, self.thread_ts, status):
            self._shown, self._last = status, now

    def finish(self, *, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        content: dict[str, Any] = {"text": text} | ({"blocks": blocks} if blocks is not None else {})
        try:
            self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, **content)
        finally:
            self.statuses.set(self.client, self.channel, self.thread_ts, "")


def _mention(slack_user: str) -> str:
    """A live mention of a Slack user id as Slack sent it; anything else as escaped text."""
    return f"<@{slack_user}>" if SLACK_USER_ID.fullmatch(slack_user) else slack_escape(slack_user)


@dataclass
class SlackBot:
    """The bot's behaviour, independent of how requests arrive (HTTP or Socket Mode)."""

    agent: Any  # PlanningAgent
    identify: Callable[[str], User | None]  # Slack user id -> warehouse user (None: not allowed)
    locks: ThreadLocks = field(default_factory=ThreadLocks)
    dedupe: EventDeduplicator = field(default_factory=EventDeduplicator)
    statuses: AssistantStatuses = field(default_factory=AssistantStatuses)

    def working(self, client: WebClient, channel: str, thread_ts: str, *, assistant: bool) -> Working | StatusWorking:
        """The thread's status in an assistant thread when Slack takes it, else a working message."""
        if assistant and self.statuses.set(client, channel, thread_ts, STATUS_WORKING):
            return StatusWorking(client, channel, thread_ts, self.statuses)
        return Working(client, channel, thread_ts)

    def answer(
        self,
        client: WebClient,
        *,
        team: str,
        channel: str,
        thread_ts: str,
        slack_user: str,
        text: str,
        assistant: bool = False,
    ) -> None:
        """Run one question in the thread: a working signal (the assistant thread's status, else a
        "working" message updated in place with progress), then the answer."""
        question = MENTION.sub("", text or "").strip()
        if not question:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=ASK_ME)
            return
        user = self.identify(slack_user)
        if user is None:  # said to them alone: the channel need not learn who is not registered
            client.chat_postEphemeral(
                channel=channel,
                user=slack_user,
                thread_ts=thread_ts,
                text=NOT_REGISTERED.format(user=slack_escape(slack_user)),
            )
            return
        working = self.working(client, channel, thread_ts, assistant=assistant)
        thread_id = f"{team}:{channel}:{thread_ts}"
        try:
            with self.locks(thread_id):
                result = self.agent.ask(
                    question, thread_id=thread_id, user=user, interface="slack", on_progress=working.progress
                )
        except Exception as exc:  # the user sees the problem, never a stack trace
            log.warning("question failed: %s", type(exc).__name__)
            working.finish(text=f"Sorry, I could not answer: {slack_escape(explain(exc))}")
            return
        blocks, fallback = result_blocks(result, question)
        working.finish(text=fallback, blocks=blocks)

    def decide(self, client: WebClient, body: dict[str, Any], approved: bool) -> None:
        """An Approve/Reject click: resume the thread as the clicking user (their role is checked)."""
        slack_user = body["user"]["id"]
        thread_id = body["actions"][0]["value"]
        channel = body["channel"]["id"]
        message = body.get("message") or {}
        thread_ts = message.get("thread_ts") or message.get("ts")
        # Someone the warehouse does not know may still click: the refusal is recorded all the same,
        # as the least role there is (a User's role must be a real one) under an id that says who.
        user = self.identify(slack_user) or User(f"slack:{slack_user}", "rep", Scope("own", "-"), "unregistered")
        try:
            with self.locks(thread_id):
                result = self.agent.resume(thread_id, approved=approved, user=user, interface="slack")
        except Exception as exc:
            client.chat_postEphemeral(
                channel=channel,
                user=slack_user,
                thread_ts=thread_ts,
                text=f"Nothing changed: {slack_escape(explain(exc))}",
            )
            return
        if result.status == "needs_approval":  # refused: only the clicker needs to know, in the thread
            refusal = truncate_mrkdwn(to_mrkdwn(answer_text(result)), FALLBACK_LIMIT)
            client.chat_postEphemeral(channel=channel, user=slack_user, thread_ts=thread_ts, text=refusal)
            return
        blocks, fallback = result_blocks(result, "approved" if approved else "rejected")
        client.chat_postMessage(channel=channel, thread_ts=thread_ts, blocks=blocks, text=fallback)
        if message.get("ts"):  # the request is decided: its buttons give way to who decided
            decided = [b for b in message.get("blocks", []) if b.get("type") != "actions"]
            who = f"{_mention(slack_user)} ({slack_escape(user.user_id)})"
            verdict = f"{'Approved' if approved else 'Rejected'} by {who}."
            decided.append({"type": "context", "elements": [{"type": "mrkdwn", "text": verdict}]})
            client.chat_update(channel=channel, ts=message["ts"], blocks=decided, text=verdict)


def build_app(
    bot: SlackBot,
    *,
    bot_token: str,
    signing_secret: str | None = None,
    api_url: str | None = None,
    workers: int = 8,
    verify_token: bool = True,
) -> App:
    """The Bolt app: listeners ack at once and run the bot's work lazily on `workers` threads."""
    client = WebClient(token=bot_token, base_url=api_url) if api_url else WebClient(token=bot_token)
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        token_verification_enabled=verify_token,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spm-slack"),
        logger=log,
    )

    @app.middleware
    def drop_retries(body: dict[str, Any], next: Callable[[], Any]) -> Any:
        event_id = body.get("event_id")
        if event_id and not bot.dedupe.first_time(str(event_id)):
            return BoltResponse(status=200, body="")  # a retry of an event already being handled
        return next()

    def ack_now(ack: Callable[..., Any]) -> None:
        ack()

    def ask(body: dict[str, Any], event: dict[str, Any], client: WebClient, *, assistant: bool) -> None:
        bot.answer(
            client,
            team=str(body.get("team_id") or event.get("team") or ""),
            channel=event["channel"],
            thread_ts=event.get("thread_ts") or event["ts"],
            slack_user=event.get("user", ""),
            text=event.get("text", ""),
            assistant=assistant,
        )

    def on_mention(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        ask(body, event, client, assistant=False)

    def on_message(body: dict[str, Any], event: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("bot_id") or event.get("subtype"):
            return  # only people's direct messages; mentions in channels come as app_mention
        ask(body, event, client, assistant=is_user_message_event_in_assistant_thread(body))

    def on_thread_started(event: dict[str, Any], client: WebClient) -> None:
        thread = event.get("assistant_thread") or {}
        if thread.get("channel_id") and thread.get("thread_ts"):  # the manifest's prompts show too
            client.chat_postMessage(channel=thread["channel_id"], thread_ts=thread["thread_ts"], text=ASK_ME)

    def on_context_changed() -> None:
        return None  # the channel the user is looking at: questions name what they ask about

    def ack_command(ack: Callable[..., Any], command: dict[str, Any]) -> None:
        if not (command.get("text") or "").strip():
            ack(text="Ask a planning question, e.g. `/spm forecast next quarter by region`.")
        else:
            ack()  # the question appears in the channel and its thread says "working": one signal

    def on_command(command: dict[str, Any], client: WebClient, respond: Callable[..., Any]) -> None:
        text = (command.get("text") or "").strip()
        if not text:
            return
        try:  # the question as a channel message, so the answer (and follow-ups) live in its thread
            posted = client.chat_postMessage(
                channel=command["channel_id"], text=f"{_mention(command['user_id'])} asked: {slack_escape(text)}"
            )
        except SlackApiError:  # not in that channel: answer the user privately through the response URL
            user = bot.identify(command["user_id"])
            if user is None:
                respond(text=NOT_REGISTERED.format(user=slack_escape(command["user_id"])))
                return
            result = bot.agent.ask(text, user=user, interface="slack")
            blocks, fallback = result_blocks(result, text)
            respond(blocks=blocks, text=fallback)
            return
        bot.answer(
            client,
            team=command.get("team_id", ""),
            channel=command["channel_id"],
            thread_ts=posted["ts"],
            slack_user=command["user_id"],
            text=text,
        )

    def on_approve(body: dict[str, Any], client: WebClient) -> None:
        bot.decide(client, body, approved=True)

    def on_reject(body: dict[str, Any], client: WebClient) -> None:
        bot.decide(client, body, approved=False)

    app.event("app_mention")(ack=ack_now, lazy=[on_mention])
    app.event("message")(ack=ack_now, lazy=[on_message])
    app.event("assistant_thread_started")(ack=ack_now, lazy=[on_thread_started])
    app.event("assistant_thread_context_changed")(on_context_changed)
    app.command("/spm")(ack=ack_command, lazy=[on_command])
    app.action(APPROVE_ACTION)(ack=ack_now, lazy=[on_approve])
    app.action(REJECT_ACTION)(ack=ack_now, lazy=[on_reject])
    return app


def serve_http(app: App, host: str, port: int, path: str = "/slack/events") -> Any:
    """A threaded WSGI server for the app (Bolt's own dev server handles one request at a time).

    Returns the server; call `serve_forever()` on it (tests run it on a thread and `shutdown()`).
    """
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(app)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") != path:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        return handler(environ, start_response)

    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

    class Threaded(ThreadingMixIn, WSGIServer):
        daemon_threads = True

    return make_server(host, port, wsgi, server_class=Threaded, handler_class=Quiet)
