"""Fixtures of the console tests: a fresh SQLite database, the app (no periodic jobs), a client, `login_as`.

`client` does NOT follow redirects, so tests see the 303s themselves (pass `follow_redirects=True` to one call
when they want the page behind a redirect). Cookies are not marked Secure here (the test client talks http).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import console.users
from bot.settings import ConsoleSettings
from console.app import create_app
from console.sessions import find_session
from console.users import create_user, find_user
from console.web import COOKIE_NAME

PASSWORD = "correct horse battery staple"
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
_names = itertools.count(1)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Still scrypt with a random salt, at a fifth of the production cost, so tests that log in stay quick."""
    monkeypatch.setattr(console.users, "_SCRYPT_P", 1)


@pytest.fixture
def console_db_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'console.db'}"


@pytest.fixture
def console_settings(console_db_url: str) -> ConsoleSettings:
    return replace(
        ConsoleSettings.from_env(),
        database_url=console_db_url,
        cookie_secure=False,
        session_hours=8,
        login_attempts=5,
        login_window_seconds=900,
    )


@pytest.fixture
def console_app(console_settings: ConsoleSettings) -> FastAPI:
    return create_app(console_settings, run_jobs=False)


@pytest.fixture
def client(console_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(console_app, follow_redirects=False) as test_client:
        yield test_client


def ensure_user(app: FastAPI, username: str, role: str = "operator", password: str = PASSWORD) -> None:
    """Create the user directly in the database (no-op when it exists)."""
    with app.state.session_factory() as db:
        if find_user(db, username) is None:
            create_user(db, username, password, role)
            db.commit()


def login_form_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200, page.text
    match = _CSRF_FIELD.search(page.text)
    assert match, "login form without csrf_token"
    return match.group(1)


def post_login(client: TestClient, username: str, password: str, next_url: str = ""):
    token = login_form_token(client)
    data = {"username": username, "password": password, "csrf_token": token, "next": next_url}
    return client.post("/login", data=data)


def csrf_of(client: TestClient) -> str:
    """The CSRF token of the client's current login session."""
    with client.app.state.session_factory() as db:
        record = find_session(db, client.cookies.get(COOKIE_NAME))
        assert record is not None, "not logged in"
        return record.csrf_token


def login_as(client: TestClient, role: str = "operator", username: str | None = None, password: str = PASSWORD) -> str:
    """Create a user of this role (a fresh name unless given) and log the client in; returns the CSRF token."""
    username = username or f"{role}{next(_names)}"
    ensure_user(client.app, username, role, password)
    client.cookies.clear()
    response = post_login(client, username, password)
    assert response.status_code == 303, response.text
    return csrf_of(client)
