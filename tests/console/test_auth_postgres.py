"""Login, rate limit, user management and the audit log on PostgreSQL (the deployment database)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from bot.settings import ConsoleSettings
from console.app import create_app
from console.users import AuditEntry
from tests.console.conftest import PASSWORD, ensure_user, login_as, post_login
from tests.postgres import postgres_or_skip

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_app(console_settings: ConsoleSettings) -> Iterator[FastAPI]:
    with postgres_or_skip("govbot_console_auth") as url:
        app = create_app(replace(console_settings, database_url=url), run_jobs=False)
        yield app
        app.state.engine.dispose()


def test_login_admin_and_rate_limit_on_postgres(postgres_app: FastAPI) -> None:
    with TestClient(postgres_app, follow_redirects=False) as client:
        token = login_as(client, "admin", username="boss")
        form = {"csrf_token": token, "username": "lin", "role": "operator"}
        created = client.post("/admin/users", data={**form, "password": PASSWORD, "password_confirm": PASSWORD})
        assert created.status_code == 303
        assert "lin" in client.get("/admin/users").text
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
        assert client.get("/admin/users").status_code == 303

    ensure_user(postgres_app, "guo", "operator")
    with TestClient(postgres_app, client=("10.9.0.1", 1), follow_redirects=False) as guesser:
        for _ in range(5):
            assert post_login(guesser, "guo", "wrong password").status_code == 401
        assert post_login(guesser, "guo", PASSWORD).status_code == 429
    with TestClient(postgres_app, client=("10.9.0.2", 1), follow_redirects=False) as other:
        assert post_login(other, "lin", PASSWORD).status_code == 303

    with postgres_app.state.session_factory() as db:
        actions = [entry.action for entry in db.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["login", "create_user", "logout", "login"]
