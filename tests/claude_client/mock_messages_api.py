"""Loopback mock of the Anthropic Messages API, driven by a script of tool calls.

The real Claude Code client talks to it through ``ANTHROPIC_BASE_URL``. Each model
turn is answered with the next scripted tool call; once the script is used up the
mock ends the conversation with a plain text reply. Every request and every
``tool_result`` the client sends back is recorded so tests can assert on what the
client actually did with each call (ran it, refused it, let a hook block it).

Wire format: docs section 7.4/7.5 of the shared Claude Code reference.
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterable, Iterator, Sequence

# Never anything else: the mock must not be reachable from outside the machine.
LOOPBACK = "127.0.0.1"
MESSAGES_PATH = "/v1/messages"

__all__ = [
    "MockMessagesAPI",
    "RecordedRequest",
    "ToolCall",
    "ToolResult",
    "normalise_content",
    "sse_events",
]


@dataclass(frozen=True)
class ToolCall:
    """One tool call the mock model will make, e.g. ``ToolCall("Bash", {...})``."""

    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ToolResult:
    """What the client sent back for one scripted call."""

    index: int  # position in the script; -1 if the id was not one the mock issued
    call: ToolCall | None
    tool_use_id: str
    content: str
    is_error: bool


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON when possible, else the raw text (or None when empty)


@dataclass
class _Script:
    """One loaded script. The generation tag keeps ids unique across runs so a
    result can never be attributed to a call from an earlier run."""

    calls: tuple[ToolCall, ...]
    final_text: str
    generation: int
    results: dict[str, ToolResult] = field(default_factory=dict)

    def tool_use_id(self, index: int) -> str:
        return f"toolu_mock{self.generation:03d}_{index:03d}"

    def index_of(self, tool_use_id: str) -> int:
        prefix = f"toolu_mock{self.generation:03d}_"
        if tool_use_id.startswith(prefix) and tool_use_id[len(prefix):].isdigit():
            index = int(tool_use_id[len(prefix):])
            if index < len(self.calls):
                return index
        return -1


class MockMessagesAPI:
    """Threaded HTTP server answering like the Messages API, on 127.0.0.1 only.

    Use as a context manager (or ``start()``/``stop()``) so the server is shut down
    even when a test fails. ``load_script()`` before each client run.
    """

    def __init__(self, script: Iterable[ToolCall] = (), final_text: str = "Done.") -> None:
        self._lock = threading.Lock()
        self._generations = itertools.count(1)
        self._script = self._new_script(script, final_text)
        self._requests: list[RecordedRequest] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> "MockMessagesAPI":
        if self._server is not None:
            raise RuntimeError("mock Messages API already started")
        server = ThreadingHTTPServer((LOOPBACK, 0), _make_handler(self))
        # Handler threads must not keep the test process alive if a client hangs.
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="mock-messages-api",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> "MockMessagesAPI":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("mock Messages API is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- script and recordings -----------------------------------------------------

    def load_script(self, script: Iterable[ToolCall], final_text: str = "Done.") -> None:
        """Replace the script and forget results of earlier runs (requests stay logged)."""
        with self._lock:
            self._script = self._new_script(script, final_text)

    @property
    def script(self) -> tuple[ToolCall, ...]:
        return self._script.calls

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, in arrival order (method, path, body)."""
        with self._lock:
            return list(self._requests)

    @property
    def tool_results(self) -> list[ToolResult]:
        """Results for the current script's calls, in script order.

        A call the client never answered (e.g. the run stopped early) is absent,
        so the list can be shorter than the script.
        """
        with self._lock:
            results = list(self._script.results.values())
        scripted = sorted((r for r in results if r.index >= 0), key=lambda r: r.index)
        return scripted + [r for r in results if r.index < 0]

    def _new_script(self, script: Iterable[ToolCall], final_text: str) -> _Script:
        calls = tuple(script)
        for call in calls:
            if not isinstance(call, ToolCall):
                raise TypeError(f"script entries must be ToolCall, got {call!r}")
        return _Script(calls=calls, final_text=final_text, generation=next(self._generations))

    # -- request handling (called from handler threads) ----------------------------

    def _record_request(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """Record the tool results in ``body`` and build the assistant message."""
        blocks = list(_tool_result_blocks(body.get("messages", [])))
        with self._lock:
            script = self._script
            for block in blocks:
                result = _to_tool_result(block, script)
                script.results.setdefault(result.tool_use_id, result)
            # The client resends the whole conversation, so the number of results in
            # it says how far along the script we are.
            step = len(blocks)
        model = body.get("model") or "claude-test"
        if step < len(script.calls):
            call = script.calls[step]
            content = {"type": "tool_use", "id": script.tool_use_id(step),
                       "name": call.name, "input": call.input}
            return _message(model, content, "tool_use", step)
        return _message(model, {"type": "text", "text": script.final_text}, "end_turn", step)


# -- pure helpers ------------------------------------------------------------------


def _tool_result_blocks(messages: Sequence[Any]) -> Iterator[dict[str, Any]]:
    for message in messages:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for block in content:
            if isinstance(block, dict) and block.get("type") == "tool_result":
                yield block


def normalise_content(content: Any) -> str:
    """tool_result content is either a string or a list of blocks; tests want text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
            elif isinstance(block, dict):
                parts.append(f"[{block.get('type', 'unknown')} block]")
            else:
                parts.append(str(block))
        return "\n".join(parts)
    return str(content)


def _to_tool_result(block: dict[str, Any], script: _Script) -> ToolResult:
    tool_use_id = str(block.get("tool_use_id", ""))
    index = script.index_of(tool_use_id)
    return ToolResult(
        index=index,
        call=script.calls[index] if index >= 0 else None,
        tool_use_id=tool_use_id,
        content=normalise_content(block.get("content")),
        is_error=bool(block.get("is_error", False)),
    )


def _message(model: str, block: dict[str, Any], stop_reason: str, step: int) -> dict[str, Any]:
    return {
        "id": f"msg_mock_{step:03d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": 10,
            "output_tokens": 5,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }


def sse_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The event sequence the client accepts for one complete message (section 7.5)."""
    start = dict(message, content=[], stop_reason=None, stop_sequence=None)
    yield "message_start", {"type": "message_start", "message": start}
    for index, block in enumerate(message["content"]):
        if block["type"] == "tool_use":
            empty = dict(block, input={})
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        else:
            empty = dict(block, text="")
            delta = {"type": "text_delta", "text": block["text"]}
        yield "content_block_start", {"type": "content_block_start", "index": index,
                                      "content_block": empty}
        yield "content_block_delta", {"type": "content_block_delta", "index": index,
                                      "delta": delta}
        yield "content_block_stop", {"type": "content_block_stop", "index": index}
    yield "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
        "usage": {"output_tokens": message["usage"]["output_tokens"]},
    }
    yield "message_stop", {"type": "message_stop"}


def _make_handler(api: MockMessagesAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one response per connection, so the streamed body simply ends
        # when the connection closes; no chunked encoding needed.
        protocol_version = "HTTP/1.0"
        server_version = "MockMessagesAPI/1"

        def do_HEAD(self) -> None:  # noqa: N802 (http.server naming)
            self._record(None)
            status = HTTPStatus.OK if self.path == "/" else HTTPStatus.NOT_FOUND
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802
            self._record(None)
            self._send_not_found()

        def do_POST(self) -> None:  # noqa: N802
            raw = self._read_body()
            body = _parse_json(raw)
            self._record(body if body is not None else (raw or None))
            if not self.path.startswith(MESSAGES_PATH) or not isinstance(body, dict):
                self._send_not_found()
                return
            # Anything under /v1/messages that is not a plain create call (e.g.
            # count_tokens) is unknown to the mock; say so rather than guess.
            if self.path.split("?", 1)[0] != MESSAGES_PATH:
                self._send_not_found()
                return
            reply = api._next_reply(body)
            if body.get("stream"):
                self._send_stream(reply)
            else:
                self._send_json(HTTPStatus.OK, reply)

        def _do_other(self) -> None:
            raw = self._read_body()
            body = _parse_json(raw)
            self._record(body if body is not None else (raw or None))
            self._send_not_found()

        do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _do_other

        def _read_body(self) -> str:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                return self.rfile.read(length).decode("utf-8", "replace")
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            return ""

        def _read_chunked(self) -> str:
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks).decode("utf-8", "replace")

        def _record(self, body: Any) -> None:
            api._record_request(RecordedRequest(
                method=self.command, path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()}, body=body,
            ))

        def _send_stream(self, message: dict[str, Any]) -> None:
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Connection", "close")
            self.end_headers()
            for name, data in sse_events(message):
                self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

        def _send_json(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_not_found(self) -> None:
            self._send_json(HTTPStatus.NOT_FOUND, {
                "type": "error",
                "error": {"type": "not_found_error",
                          "message": f"mock Messages API: no route for {self.command} {self.path}"},
            })

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            # Requests are already recorded; stderr noise would only clutter pytest output.
            pass

    return Handler


def _parse_json(raw: str) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
