"""A loopback OTLP/HTTP receiver for tests: records every export the client sends (http/json)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from agent_foundation import otlp

LOOPBACK = "127.0.0.1"


class OTLPReceiver:
    """`with OTLPReceiver() as receiver:` ... `receiver.endpoint`, `receiver.events()`."""

    def __init__(self) -> None:
        self.exports: list[tuple[str, Any]] = []  # (path, parsed JSON body)
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self._body()
                if self.headers.get("content-encoding") == "gzip":
                    body = gzip.decompress(body)
                try:
                    parsed: Any = json.loads(body)
                except ValueError:
                    parsed = body  # http/protobuf: kept raw, so a test can tell what arrived
                with receiver._lock:
                    receiver.exports.append((self.path, parsed))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def _body(self) -> bytes:
                if self.headers.get("transfer-encoding", "").lower() != "chunked":
                    return self.rfile.read(int(self.headers.get("content-length") or 0))
                body = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                    if size == 0:
                        self.rfile.readline()
                        return body
                    body += self.rfile.read(size)
                    self.rfile.readline()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def __enter__(self) -> "OTLPReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def paths(self) -> list[str]:
        with self._lock:
            return [path for path, _ in self.exports]

    def events(self, name: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            exports = [body for path, body in self.exports if path.endswith("/v1/logs") and isinstance(body, dict)]
        found = [event for body in exports for event in otlp.events(body)]
        return [event for event in found if name is None or event["event"] in (name, f"claude_code.{name}")]

    def wait_for(self, name: str, timeout: float = 15.0) -> list[dict[str, Any]]:
        """The events called `name`, waiting up to `timeout` seconds for the first (the client may flush late)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(name)
            if found:
                return found
            time.sleep(0.1)
        return self.events(name)
