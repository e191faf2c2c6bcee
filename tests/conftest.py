"""Fixtures shared by every test folder: the real services sandbox (in-process) and the whole stack as `make run`
starts it (services sandbox, action server and Rasa server, one per test session, started on first use)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from bot.settings import SandboxSettings
from services.app import create_app
from tests.e2e.stack import ROOT, Stack, free_port


@pytest.fixture(scope="session")
def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("sandbox") / "services.db"
    port = free_port()
    # The session's tests verify the seed personas many times within minutes: the SMS limits of a real deployment
    # would make a test's outcome depend on how fast the others ran. The limits have tests of their own, each on a
    # sandbox of its own (tests/services, tests/unit/test_actions_services.py).
    unlimited = {name: 10_000 for name in ("sms_limit_per_phone", "sms_limit_per_chat_user",
                                           "sms_daily_limit_per_phone", "sms_daily_limit_per_chat_user")}
    app = create_app(SandboxSettings(database_url=f"sqlite:///{database}", port=port, **unlimited))
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




# The conversations verify the same sample persons many times, at whatever pace the machine allows; the SMS limits
# are tested on sandboxes of their own (tests/services/test_identity.py, tests/security/test_sms_bruteforce.py).
UNLIMITED_SMS = {name: "100000" for name in (
    "SERVICES_SMS_LIMIT_PER_PHONE", "SERVICES_SMS_LIMIT_PER_CHAT_USER", "SERVICES_SMS_DAILY_LIMIT_PER_PHONE",
    "SERVICES_SMS_DAILY_LIMIT_PER_CHAT_USER",
)}


def _running_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    running = Stack(tmp_path_factory.mktemp("stack"), extra_env=dict(UNLIMITED_SMS))
    try:
        yield running.start()
    finally:
        running.stop_all()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _running_stack(tmp_path_factory)


@pytest.fixture(scope="module")
def clock_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of its own for conversations that move the sandbox's clock: the shared one keeps the real date, so
    date-bound seed data (this month's tax return, a job fair's date) means the same in every other test."""
    yield from _running_stack(tmp_path_factory)
