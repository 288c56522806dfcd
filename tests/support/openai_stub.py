"""A local OpenAI-compatible chat-completions server for tests: real HTTP, scripted replies.

Each reply is a function of the request body (so it can answer from the tool results the
agent sends back) or a fixed HTTP error. Every request is recorded for assertions.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# A completion builder (or one returning (HTTP status, body)), or an HTTP status to fail with.
Reply = Callable[[dict[str, Any]], Any] | int


def completion(content: str | None = None, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}_{int(time.time() * 1e6)}",
                "type": "function",
                # "raw": the arguments exactly as a model wrote them (not always valid JSON).
                "function": {"name": c["name"], "arguments": c["raw"] if "raw" in c else json.dumps(c.get("args", {}))},
            }
            for i, c in enumerate(tool_calls)
        ]
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "stub-model",
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tool_calls else "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def tool_results(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The tool results (as JSON) the agent sent back in this request."""
    out = []
    for message in body.get("messages", []):
        if message.get("role") == "tool":
            try:
                out.append(json.loads(message["content"]))
            except (ValueError, TypeError):
                out.append({"error": message.get("content")})
    return out


def stream_events(answer: dict[str, Any], include_usage: bool, piece: int = 4) -> bytes:
    """A completion as the server-sent events OpenAI streams (`stream: true`): the text in small
    deltas, each tool call's name then its arguments in pieces, the finish reason, the usage
    (when `stream_options.include_usage`), then `[DONE]`."""
    message = answer["choices"][0]["message"]
    base = {k: answer[k] for k in ("id", "created", "model")} | {"object": "chat.completion.chunk"}

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        return base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""})]
    text = message.get("content") or ""
    events += [chunk({"content": text[i : i + piece]}) for i in range(0, len(text), piece)]
    for index, call in enumerate(message.get("tool_calls") or []):
        start = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        events.append(chunk({"tool_calls": [start]}))
        arguments = call["function"]["arguments"]
        for i in range(0, len(arguments), piece * 3):
            events.append(
                chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[i : i + piece * 3]}}]})
            )
    events.append(chunk({}, answer["choices"][0]["finish_reason"]))
    if include_usage:
        events.append(base | {"choices": [], "usage": answer["usage"]})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


class OpenAIStub:
    def __init__(self, replies: list[Reply], default: Reply | None = None) -> None:
        self.replies = list(replies)
        self.default = default
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with stub._lock:
                    stub.requests.append({"path": self.path, "body": body})
                    reply = stub.replies.pop(0) if stub.replies else stub.default
                if reply is None:
                    reply = 500
                if isinstance(reply, int):
                    payload = json.dumps({"error": {"message": f"stub error {reply}", "type": "stub"}}).encode()
                    self.send_response(reply)
                    self.send_header("retry-after-ms", "1")
                else:
                    answer = reply(body)  # bytes: sent as they are (a garbled response)
                    status = 200
                    if isinstance(answer, tuple):  # (HTTP status, body): a refusal that depends on the request
                        status, answer = answer
                    payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                    self.send_response(status)
                    if body.get("stream") and status == 200 and isinstance(answer, dict):
                        usage = bool((body.get("stream_options") or {}).get("include_usage"))
                        payload = stream_events(answer, usage)
                        self.send_header("Content-Type", "text/event-stream")
                        self.send_header("Content-Length", str(len(payload)))
                        self.end_headers()
                        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                            self.wfile.write(payload)
                        return
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                # A client that gave up waiting (a timeout test) has nothing left to receive.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> OpenAIStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
