"""Hole 10d: five wrong passwords locked the admin out for everyone.

Failed logins were counted per user name alone: anybody could lock any account by guessing. They are now
counted per (user name, client address) and per client address, so the owner still logs in from their own
machine while the guesser is stopped; an admin can lift a lock on the users page (audited).

Also: the login form and the session cookie against cross-site use, the failures table holding no typed text,
and attempts counted before the expensive password check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import console.users
from console.app import create_app
from console.users import AuditEntry, LoginFailure, User
from console.web import COOKIE_NAME
from tests.console import conftest as console_fixtures
from tests.postgres import postgres_or_skip

console_db_url = console_fixtures.console_db_url
console_settings = console_fixtures.console_settings
console_app = console_fixtures.console_app
client = console_fixtures.client
fast_password_hashing = console_fixtures.fast_password_hashing

PASSWORD = console_fixtures.PASSWORD
post_login = console_fixtures.post_login


def at(app: FastAPI, address: str) -> TestClient:
    """A browser on another machine (client address)."""
    return TestClient(app, client=(address, 40000), follow_redirects=False)


def guess(app: FastAPI, address: str, username: str, times: int = 5) -> TestClient:
    guesser = at(app, address)
    for _ in range(times):
        assert post_login(guesser, username, "wrong guess 123").status_code == 401
    return guesser


def test_a_guesser_cannot_lock_the_admin_out_of_their_own_machine(console_app: FastAPI) -> None:
    console_fixtures.ensure_user(console_app, "root-admin", "admin")
    guesser = guess(console_app, "203.0.113.9", "root-admin")
    assert post_login(guesser, "root-admin", PASSWORD).status_code == 429  # the guesser is stopped ...
    owner = at(console_app, "10.1.1.20")
    assert post_login(owner, "root-admin", PASSWORD).status_code == 303  # ... the admin is not


def test_an_admin_unlocks_a_user_and_it_is_audited(console_app: FastAPI, client: TestClient) -> None:
    console_fixtures.ensure_user(console_app, "liu", "operator")
    office = guess(console_app, "10.2.0.7", "liu")  # liu mistyped five times at her desk
    assert post_login(office, "liu", PASSWORD).status_code == 429

    csrf = console_fixtures.login_as(client, "admin", "chief")
    with console_app.state.session_factory() as db:
        liu = db.query(User).filter_by(username="liu").one()
    page = client.get("/admin/users").text
    assert "已锁定" in page and f'action="/admin/users/{liu.id}/unlock"' in page
    assert client.post(f"/admin/users/{liu.id}/unlock").status_code == 403  # CSRF, like every change
    done = client.post(f"/admin/users/{liu.id}/unlock", data={"csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/admin/users?ok=unlocked"
    assert "已解除锁定" in client.get(done.headers["location"]).text

    assert post_login(office, "liu", PASSWORD).status_code == 303
    with console_app.state.session_factory() as db:
        entry = db.query(AuditEntry).filter_by(action="unlock_user").one()
    assert entry.username == "chief" and entry.target == "user:liu"


def test_one_address_guessing_many_names_is_stopped(console_app: FastAPI, console_settings) -> None:
    console_fixtures.ensure_user(console_app, "ma", "operator")
    guesser = at(console_app, "198.51.100.4")
    for number in range(console_settings.login_address_attempts):
        assert post_login(guesser, f"user{number}", "guess 1234").status_code == 401
    assert post_login(guesser, "ma", PASSWORD).status_code == 429
    assert post_login(at(console_app, "10.3.0.2"), "ma", PASSWORD).status_code == 303


def test_failed_logins_do_not_keep_what_was_typed(console_app: FastAPI) -> None:
    """People type their password into the user name field; a failed login must not store it."""
    typed = "MyPassw0rd!2026"
    guess(console_app, "10.4.0.1", typed, times=1)
    with console_app.state.session_factory() as db:
        stored = [(failure.username, failure.client) for failure in db.query(LoginFailure)]
    assert stored and all(typed.lower() not in username for username, _ in stored)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database_app(request: pytest.FixtureRequest, console_settings) -> Iterator[FastAPI]:
    """The console on SQLite (which serialises writers) and on PostgreSQL (which does not)."""
    if request.param == "sqlite":
        yield create_app(console_settings, run_jobs=False)
        return
    with postgres_or_skip("govbot_console_login") as url:
        app = create_app(replace(console_settings, database_url=url), run_jobs=False)
        yield app
        app.state.engine.dispose()


def test_attempts_are_counted_before_the_password_is_checked(
    any_database_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parallel guesses must not each get a (costly) password check before the first one is counted."""
    app = any_database_app
    console_fixtures.ensure_user(app, "niu", "operator")
    checks: list[float] = []
    real = console.users.verify_password

    def slow_verify(password: str, stored: str) -> bool:
        checks.append(time.monotonic())
        time.sleep(0.3)
        return real(password, stored)

    monkeypatch.setattr(console.users, "verify_password", slow_verify)
    guesser = at(app, "192.0.2.50")  # outside a `with`: each request runs on its own event loop, in parallel
    statuses: list[int] = []
    token = console_fixtures.login_form_token(guesser)  # one login form, submitted twelve times at once

    def attempt() -> None:
        data = {"username": "niu", "password": "wrong guess 123", "csrf_token": token, "next": ""}
        statuses.append(guesser.post("/login", data=data).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(set(statuses)) == [401, 429]
    assert len(checks) <= 5, f"{len(checks)} password checks for 12 parallel guesses (5 allowed)"


def test_the_login_form_cannot_be_posted_from_another_site(console_app: FastAPI, client: TestClient) -> None:
    """Login CSRF: a foreign page must not log the operator's browser into the attacker's account."""
    console_fixtures.ensure_user(console_app, "mallory", "operator")
    response = client.post(
        "/login",
        data={"username": "mallory", "password": PASSWORD, "csrf_token": console_fixtures.login_form_token(client)},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and COOKIE_NAME not in client.cookies


def test_the_session_cookie_is_never_sent_along_from_another_site(console_app: FastAPI, client: TestClient) -> None:
    console_fixtures.ensure_user(console_app, "qiu", "operator")
    response = post_login(client, "qiu", PASSWORD)
    header = next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE_NAME + "="))
    morsel = SimpleCookie(header)[COOKIE_NAME]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
