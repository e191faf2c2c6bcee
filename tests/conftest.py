"""Fixtures shared by every test folder: the real services sandbox, started in-process."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from services.app import create_app
from services.settings import Settings
from tests.e2e.stack import free_port


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("sandbox") / "services.db"
    port = free_port()
    app = create_app(Settings(database_url=f"sqlite:///{database}", port=port))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.05)
    else:
        pytest.fail("sandbox did not start")
    yield url
    server.should_exit = True
    thread.join(timeout=10)


