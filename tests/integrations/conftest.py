"""The real sandbox, started in-process with uvicorn on a free port, plus tiny misbehaving servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from integrations.services import ServiceClientSettings
from tests.conftest import free_port


@pytest.fixture
def config(sandbox_url: str) -> ServiceClientSettings:
    return ServiceClientSettings(base_url=sandbox_url)


@dataclass
class FakeServer:
    """A local HTTP server that answers slowly or with an error, and counts the requests it got."""

    url: str
    requests: list[str] = field(default_factory=list)


def _start_fake(delay: float, status: int) -> tuple[FakeServer, ThreadingHTTPServer]:
    fake = FakeServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            fake.requests.append(f"{self.command} {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            time.sleep(delay)
            body = b'{"error": {"code": "unavailable", "message": "x", "details": {}}}'
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up waiting
                pass

        do_GET = do_POST = _answer  # noqa: N815 - http.server naming

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


@pytest.fixture
def slow_server() -> Iterator[FakeServer]:
    fake, server = _start_fake(delay=2.0, status=200)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def failing_server() -> Iterator[FakeServer]:
    fake, server = _start_fake(delay=0.0, status=503)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def broken_server() -> Iterator[FakeServer]:
    fake, server = _start_fake(delay=0.0, status=500)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"
