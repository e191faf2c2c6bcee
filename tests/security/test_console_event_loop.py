"""The console's async routes ran scrypt and synchronous SQLAlchemy on the event loop: while a few people logged in
(scrypt, 16 MiB and a fraction of a second each), every other operator's page waited for all of them.

Measured as an operator notices it, on a real `python -m console serve` at the production scrypt cost: while a
batch of logins is being checked, another logged-in operator's page still answers promptly.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from console.db import init_db, make_engine, session_factory
from console.users import User, create_user
from tests.e2e.stack import ROOT, free_port, wait_until

PASSWORD = "event-loop-test-password"
LOGINS = 12  # at 0.2 s or more of scrypt each: seconds when they run one after another on the loop
PROMPT_SECONDS = 1.5  # generous: an idle page answers in a few tens of milliseconds
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def console_server(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'conversation_log.db'}"
    engine = make_engine(url)
    init_db(engine)
    with session_factory(engine)() as db:  # production scrypt cost: nothing here is patched
        waiting = create_user(db, "waiting", PASSWORD, "operator")
        for number in range(LOGINS):  # one account per login: a person does not log in twice at once
            db.add(User(username=f"busy{number}", role="operator", password_hash=waiting.password_hash))
        db.commit()
    engine.dispose()
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": url, "CONSOLE_PORT": str(port),
           "CONSOLE_COOKIE_SECURE": "false", "GOVBOT_VAR_DIR": str(tmp_path), "CONSOLE_REFRESH_SECONDS": "60"}
    env.pop("GOVBOT_ENV", None)
    log = (tmp_path / "console.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "console", "serve"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/login", timeout=2).status_code == 200, 90, "console", server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def logged_in(base: str, username: str) -> httpx.Client:
    browser = httpx.Client(base_url=base, timeout=180)
    token = _CSRF.search(browser.get("/login").text).group(1)
    response = browser.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return browser


def timed_get(browser: httpx.Client, path: str) -> float:
    started = time.monotonic()
    assert browser.get(path).status_code == 200
    return time.monotonic() - started


def test_pages_answer_while_logins_are_checked(console_server: str) -> None:
    operator = logged_in(console_server, "waiting")
    idle = min(timed_get(operator, "/conversations") for _ in range(3))

    finished: list[float] = []
    failed: list[BaseException] = []

    def log_in(username: str) -> None:
        try:
            logged_in(console_server, username).close()
        except BaseException as error:  # reported below, with the others
            failed.append(error)
        finished.append(time.monotonic())

    batch = [threading.Thread(target=log_in, args=(f"busy{number}",)) for number in range(LOGINS)]
    started = time.monotonic()
    for thread in batch:
        thread.start()
    time.sleep(0.3)  # the logins have reached the server and are being checked
    waited = timed_get(operator, "/conversations")
    answered = time.monotonic()
    for thread in batch:
        thread.join(300)
    assert not failed and len(finished) == LOGINS, f"logins failed: {failed!r}"
    batch_seconds = max(finished) - started
    assert answered < max(finished), "the batch was over before the page was asked: no load was measured"
    # Generous, and relative on a busy machine: on the loop the page waits for (nearly) the whole batch.
    assert waited < max(PROMPT_SECONDS, batch_seconds / 4), (
        f"the page took {waited:.2f} s (idle: {idle:.3f} s) while {LOGINS} logins took {batch_seconds:.2f} s"
    )
    operator.close()
