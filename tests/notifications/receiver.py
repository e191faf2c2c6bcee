"""A stand-in for the notifier's webhook in the sandbox's tests: records every post (checking its signature) and
answers each with the next status it was told to give (202 once the list is used up)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bot.notifier.signing import SIGNATURE_HEADER, BadSignature, verify
from tests.e2e.stack import free_port


@dataclass
class Receiver:
    secret: str
    port: int = field(default_factory=free_port)
    statuses: list[int] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)  # the bodies of correctly signed posts
    unsigned: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/events"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(receiver._record(body, self.headers.get(SIGNATURE_HEADER)))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _record(self, body: bytes, signature: str | None) -> int:
        try:
            verify(self.secret, body, signature, window=60)
        except BadSignature:
            with self._lock:
                self.unsigned += 1
            return 403
        with self._lock:
            self.posts.append(json.loads(body))
            return self.statuses.pop(0) if self.statuses else 202

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.posts) >= count:
                    return list(self.posts)
            time.sleep(0.02)
        with self._lock:
            return list(self.posts)
