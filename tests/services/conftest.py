"""Fixtures for the sandbox API tests: every test runs on SQLite and on the local PostgreSQL.

PostgreSQL: a throw-away database govbot_test_<random> is created for the session and dropped afterwards;
each test starts from a freshly migrated and seeded schema.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from pathlib import Path

import httpx
import psycopg2
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.settings import SandboxSettings
from services.app import create_app
from tests.e2e.stack import free_port

PG_HOST = os.environ.get("TEST_PGHOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PGPORT", "5432"))


def _pg_admin_connection():  # type: ignore[no-untyped-def]
    last_error: Exception | None = None
    for user in ("postgres", "root"):
        try:
            connection = psycopg2.connect(host=PG_HOST, port=PG_PORT, user=user, dbname="postgres")
            connection.autocommit = True
            return connection, user
        except psycopg2.OperationalError as exc:
            last_error = exc
    pytest.skip(f"local PostgreSQL not reachable: {last_error}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    connection, user = _pg_admin_connection()
    name = f"govbot_test_{secrets.token_hex(4)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg2://{user}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.close()


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        # Connections a previous test's app may still hold would block (or deadlock) the DROP.
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'services.db'}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


@pytest.fixture
def make_client(database_url: str) -> Iterator[Callable[..., TestClient]]:
    """Build a sandbox on the test database with optional settings overrides, e.g. sms_limit_per_phone=2."""
    clients: list[TestClient] = []

    def factory(**overrides: object) -> TestClient:
        settings = replace(SandboxSettings(database_url=database_url), **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.__exit__(None, None, None)
        client.app.state.engine.dispose()


@contextmanager
def serving(settings: SandboxSettings) -> Iterator[str]:
    """The sandbox with these settings in a real uvicorn server (a thread, a free port); yields its URL.

    Requests run on uvicorn's thread pool with one database connection each, as in production (the TestClient
    would serialise them through one event loop), so tests can fire truly parallel requests."""
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(url)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.engine.dispose()


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail("sandbox server did not start")


@pytest.fixture
def make_server(database_url: str) -> Iterator[Callable[..., str]]:
    """`serving` on the test database with optional settings overrides; returns the URL."""
    with ExitStack() as stack:

        def factory(**overrides: object) -> str:
            return stack.enter_context(serving(replace(SandboxSettings(database_url=database_url), **overrides)))

        yield factory


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One sandbox per test module, for tests that only read (searches, look-ups): much faster."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'services.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _reset_postgres(url)
    with TestClient(create_app(SandboxSettings(database_url=url)), raise_server_exceptions=False) as client:
        yield client
    client.app.state.engine.dispose()
