"""The app shell: security headers, local assets, Chinese error pages, hostile input, periodic jobs."""

from __future__ import annotations

import logging
import random
import threading
import time
from dataclasses import replace

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import console.app
from bot.settings import ConsoleSettings
from console.app import create_app, run_jobs_once
from console.users import AuditEntry
from console.web import audit, localtime
from tests.console import seed
from tests.console.conftest import login_as


def test_security_headers_on_pages_errors_and_assets(client: TestClient) -> None:
    for response in (client.get("/login"), client.get("/no-such-page"), client.get("/static/console.css")):
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "unsafe-inline" not in policy and "http" not in policy
    assert client.get("/login").headers["cache-control"] == "no-store"


def test_assets_are_local_and_public(client: TestClient) -> None:
    css = client.get("/static/console.css")
    assert css.status_code == 200 and "text/css" in css.headers["content-type"]
    page = client.get("/login").text
    assert 'href="/static/console.css"' in page
    assert "http://" not in page and "https://" not in page  # no CDN, no external fonts


def test_not_found_page_is_chinese(client: TestClient) -> None:
    login_as(client, "operator")
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.text and "Not Found" not in response.text
    assert "退出登录" in response.text  # the navigation is still there for a logged-in user


def test_forbidden_page_is_chinese(client: TestClient) -> None:
    login_as(client, "operator")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "没有权限" in response.text and "仅限管理员" in response.text


def test_api_errors_are_json(client: TestClient) -> None:
    response = client.get("/api/anything")
    assert response.status_code == 404
    assert response.json() == {"detail": "您访问的页面不存在或已被删除，请从导航栏重新进入。"}


def test_bad_parameters_get_a_chinese_page_without_echoing_the_input(client: TestClient) -> None:
    login_as(client, "admin")
    response = client.get("/admin/audit?page=13812345678abc")
    assert response.status_code == 422
    assert "参数有误" in response.text and "13812345678" not in response.text


def test_huge_and_malformed_forms_are_refused_cleanly(client: TestClient) -> None:
    token = login_as(client, "admin")
    huge = client.post(
        "/admin/users",
        content=b"csrf_token=" + token.encode() + b"&username=" + b"a" * 1_100_000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert huge.status_code == 413 and "内容过大" in huge.text
    broken = client.post(
        "/admin/users", content=b"\xff\xfe=\xff", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert broken.status_code == 400
    assert client.get("/admin/users").status_code == 200  # still serving


def test_audit_never_stores_raw_personal_data(console_app: FastAPI) -> None:
    with console_app.state.session_factory() as db:
        audit(db, None, "unmask", "conversation:42", "应市民 13812345678（身份证 110101199003074518）要求核实")
        db.commit()
        entry = db.query(AuditEntry).one()
    assert entry.username == "system" and entry.target == "conversation:42"
    assert "13812345678" not in entry.detail and "110101199003074518" not in entry.detail
    assert "138****5678" in entry.detail


def test_times_are_shown_in_beijing_time() -> None:
    assert localtime(0) == "1970-01-01 08:00:00"
    assert localtime(None) == ""


def test_periodic_jobs_run_with_a_committed_session_and_survive_errors(
    console_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def failing(session) -> None:
        raise RuntimeError("boom")

    def writing(session) -> None:
        audit(session, None, "job", "ran")

    with caplog.at_level(logging.ERROR, logger="console.app"):
        run_jobs_once(console_app.state.session_factory, [failing, writing])
    assert "failing" in caplog.text
    with console_app.state.session_factory() as db:
        assert [entry.action for entry in db.query(AuditEntry)] == ["job"]


def test_the_running_console_indexes_new_conversations_and_queues_handoffs(
    console_settings: ConsoleSettings, console_db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the Rasa server logs shows up in the list and the takeover queue without anyone reindexing."""
    monkeypatch.setenv("CONSOLE_REFRESH_SECONDS", "0.1")
    app = create_app(console_settings, run_jobs=True)
    with TestClient(app, follow_redirects=False) as client:
        login_as(client, "operator")
        handoff = seed.handoff(random.Random(3), time.time() - 60, "webchat")
        seed.seed_via_broker(console_db_url, [handoff])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            listed = 'href="/conversations/' in client.get("/conversations?intent=request_human").text
            queued = "网页聊天" in client.get("/takeover").text
            if listed and queued:
                break
            time.sleep(0.2)
        assert listed, "the periodic index job did not pick up the new conversation"
        assert queued, "the periodic handoff job did not queue the request"


def test_the_jobs_thread_starts_with_the_app(
    console_settings: ConsoleSettings, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    ran = threading.Event()
    monkeypatch.setattr(console.app, "load_jobs", lambda: [lambda session: ran.set()])
    monkeypatch.setenv("CONSOLE_REFRESH_SECONDS", "0.05")
    app = create_app(replace(console_settings), run_jobs=True)
    with TestClient(app):
        assert ran.wait(5), "the periodic job did not run"
    # Without run_jobs the app starts no thread.
    ran.clear()
    with TestClient(create_app(console_settings, run_jobs=False)):
        time.sleep(0.2)
    assert not ran.is_set()
