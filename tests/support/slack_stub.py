"""A local mock of the Slack Web API over real HTTP, recording every call the bot makes.

Point a `WebClient` at `stub.url` (SLACK_API_URL); calls land in `stub.calls` as
(method, params) with JSON-decoded `blocks`. Also signs requests the way Slack does, so tests
can post events to the bot's HTTP endpoint.

`assistant.threads.setStatus` answers as Slack does (`{"ok": true}`; slack_sdk sends it as JSON:
`channel_id`, `thread_ts`, `status`). `stub.refuse(method, error, channel=...)` makes a method
fail the way Slack reports failures (HTTP 200, `{"ok": false, "error": ...}`), for every channel
or one, so a test can play a workspace without the AI feature or a missing scope.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER = "UBOT0001"


class SlackStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._refusals: dict[tuple[str, str | None], str] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                method = self.path.rsplit("/", 1)[-1]
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                params = (
                    json.loads(raw or "{}")
                    if "json" in (self.headers.get("Content-Type") or "")
                    else dict(parse_qsl(raw))
                )
                if isinstance(params.get("blocks"), str):
                    params["blocks"] = json.loads(params["blocks"])
                reply = stub.reply(method, params)
                body = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def refuse(self, method: str, error: str, *, channel: str | None = None) -> None:
        """From now on, answer `method` (in `channel`, or anywhere) with Slack's error `error`."""
        with self._lock:
            self._refusals[(method, channel)] = error

    def reply(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            ts = f"1700000000.{next(self._ts):06d}"
            if method == "chat.postMessage":
                params = {**params, "_ts": ts}  # the message's own ts, for tests that follow its updates
            self.calls.append((method, params))
            channel = params.get("channel_id") or params.get("channel")
            refused = self._refusals.get((method, channel)) or self._refusals.get((method, None))
        if refused:
            return {"ok": False, "error": refused}
        if method == "auth.test":
            return {"ok": True, "user_id": BOT_USER, "bot_id": "BBOT0001", "team_id": "T0TEST", "user": "spm"}
        if method == "chat.postMessage":
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": {"ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        return {"ok": True}

    def posted(self, method: str = "chat.postMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [p for m, p in self.calls if m == method]

    def wait_for(self, predicate: Any, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until some recorded call satisfies `predicate(method, params)`; return the matches."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                found = [p for m, p in self.calls if predicate(m, p)]
            if found:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no matching Slack call within {timeout} s; calls: {[m for m, _ in self.calls]}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signed_headers(secret: str, body: str, *, timestamp: int | None = None, content_type: str) -> dict[str, str]:
    """The headers Slack sends: X-Slack-Signature = v0=HMAC-SHA256(secret, 'v0:{ts}:{body}')."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}", "Content-Type": content_type}
