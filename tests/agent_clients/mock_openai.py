"""Loopback mock of the two OpenAI wire formats the other agents speak: the Responses API (Codex CLI) and Chat
Completions (Copilot CLI), both streamed as server-sent events.

The model is a script of shell commands: a request that carries n tool results is answered with the (n+1)th
scripted call, and once the script is used up with a plain text reply. Requests without tools (titles,
summaries) get the text reply. Every request body is recorded, so a test can read what reached the model: the
instructions, the tool results (the output of a command that ran, or the hook's reason for a blocked one).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


class MockOpenAI:
    def __init__(self, commands: list[str] | None = None, final_text: str = "Done.") -> None:
        self.commands = list(commands or [])
        self.final_text = final_text
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> "MockOpenAI":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}/v1"

    def record(self, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(body)

    def all_text(self) -> str:
        """Everything the client sent, as one string (for "did this text reach the model")."""
        with self._lock:
            return "\n".join(json.dumps(body, ensure_ascii=False) for body in self.requests)

    def tool_outputs(self) -> list[str]:
        """The text the client returned for each scripted call, in order (from the last request that has them)."""
        with self._lock:
            requests = list(self.requests)
        best: list[str] = []
        for body in requests:
            outputs = _responses_outputs(body) if "input" in body else _chat_outputs(body)
            if len(outputs) >= len(best):
                best = outputs
        return best


def _text_of(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(_text_of(part.get("text", "") if isinstance(part, dict) else part) for part in value)
    return json.dumps(value)


def _responses_outputs(body: dict[str, Any]) -> list[str]:
    items = body.get("input") if isinstance(body.get("input"), list) else []
    return [_text_of(item.get("output")) for item in items if isinstance(item, dict) and item.get("type") == "function_call_output"]


def _chat_outputs(body: dict[str, Any]) -> list[str]:
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    return [_text_of(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "tool"]


def _sse(handler: BaseHTTPRequestHandler, events: list[tuple[str | None, Any]]) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Connection", "close")
    handler.end_headers()
    for name, data in events:
        chunk = (f"event: {name}\n" if name else "") + "data: " + (data if isinstance(data, str) else json.dumps(data)) + "\n\n"
        handler.wfile.write(chunk.encode("utf-8"))
    handler.wfile.flush()
    handler.close_connection = True


def _responses_events(api: MockOpenAI, body: dict[str, Any]) -> list[tuple[str | None, Any]]:
    done = len(_responses_outputs(body))
    step = len(api.requests)
    if body.get("tools") and done < len(api.commands):
        arguments = json.dumps({"cmd": api.commands[done]})
        item = {"type": "function_call", "id": f"fc_{step}", "call_id": f"call_{done}", "name": "exec_command",
                "arguments": arguments, "status": "completed"}
    else:
        item = {"type": "message", "id": f"msg_{step}", "role": "assistant", "status": "completed",
                "content": [{"type": "output_text", "text": api.final_text, "annotations": []}]}
    usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15}
    response = {"id": f"resp_{step}", "object": "response", "status": "in_progress", "model": body.get("model"), "output": []}
    return [
        ("response.created", {"type": "response.created", "response": response}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed",
                                "response": {**response, "status": "completed", "output": [item], "usage": usage}}),
    ]


def _chat_events(api: MockOpenAI, body: dict[str, Any]) -> list[tuple[str | None, Any]]:
    done = len(_chat_outputs(body))
    step = len(api.requests)
    base = {"id": f"chatcmpl-{step}", "object": "chat.completion.chunk", "created": 0, "model": body.get("model") or "mock-model"}
    if body.get("tools") and done < len(api.commands):
        call = {"index": 0, "id": f"call_{done}", "type": "function",
                "function": {"name": "bash", "arguments": json.dumps({"command": api.commands[done], "description": "run it"})}}
        deltas = [({"role": "assistant", "content": None, "tool_calls": [call]}, None), ({}, "tool_calls")]
    else:
        deltas = [({"role": "assistant", "content": api.final_text}, None), ({}, "stop")]
    events: list[tuple[str | None, Any]] = [
        (None, {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) for delta, finish in deltas
    ]
    events.append((None, {**base, "choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}))
    events.append((None, "[DONE]"))
    return events


def _handler(api: MockOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server naming
            payload = json.dumps({"object": "list", "data": [{"id": "mock-model", "object": "model", "owned_by": "mock"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            api.record(body)
            if self.path.rstrip("/").endswith("/responses"):
                _sse(self, _responses_events(api, body))
            elif self.path.rstrip("/").endswith("/chat/completions"):
                _sse(self, _chat_events(api, body))
            else:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return

    return Handler
