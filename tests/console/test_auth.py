"""Login: password hashing, sessions, cookies, logout, rate limit, disabled accounts, redirects."""

from __future__ import annotations

import hashlib
import time
from dataclasses import replace
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

import console.users
from bot.settings import ConsoleSettings
from console.app import create_app
from console.sessions import user_key
from console.users import LoginFailure, LoginSession, User, verify_password
from console.web import COOKIE_NAME
from tests.console.conftest import PASSWORD, ensure_user, login_as, post_login


def set_cookie(response, name: str) -> SimpleCookie:
    for header in response.headers.get_list("set-cookie"):
        cookie = SimpleCookie(header)
        if name in cookie:
            return cookie
    raise AssertionError(f"no Set-Cookie for {name}")


def logged_in(client: TestClient) -> bool:
    """The start page sends a logged-in user to the conversation list and anybody else to the login page."""
    response = client.get("/")
    assert response.status_code == 303
    return response.headers["location"] == "/conversations"


def test_the_database_holds_neither_password_nor_session_token(client: TestClient, console_app: FastAPI) -> None:
    login_as(client, "operator", username="wang")
    token = client.cookies[COOKIE_NAME]
    with console_app.state.session_factory() as db:
        user = db.query(User).filter_by(username="wang").one()
        record = db.query(LoginSession).one()
    assert PASSWORD not in user.password_hash and verify_password(PASSWORD, user.password_hash)
    assert record.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in record.token_hash


# --- login, session, logout ------------------------------------------------------------------------------


def test_login_page_is_chinese(client: TestClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert "运营后台登录" in page.text and "用户名" in page.text and "密码" in page.text


def test_login_then_pages_work_and_wrong_password_is_refused(client: TestClient) -> None:
    ensure_user(client.app, "li", "operator")
    wrong = post_login(client, "li", "not the password")
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.text
    assert COOKIE_NAME not in client.cookies
    unknown = post_login(client, "nobody", PASSWORD)
    assert unknown.status_code == 401 and "用户名或密码不正确" in unknown.text  # same answer: no user enumeration

    ok = post_login(client, "LI ", PASSWORD)  # user names are case- and space-insensitive
    assert ok.status_code == 303 and ok.headers["location"] == "/conversations"
    home = client.get("/")
    assert home.status_code == 303 and home.headers["location"] == "/conversations"
    assert client.get("/login").status_code == 303  # already logged in


def test_login_form_needs_its_own_csrf_token(client: TestClient) -> None:
    ensure_user(client.app, "zhao", "operator")
    response = client.post("/login", data={"username": "zhao", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403 and "登录页面已过期" in response.text
    assert COOKIE_NAME not in client.cookies


def test_cookie_flags_in_production(console_settings: ConsoleSettings) -> None:
    app = create_app(replace(console_settings, cookie_secure=True, session_hours=2), run_jobs=False)
    ensure_user(app, "qian", "operator")
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as secure_client:
        response = post_login(secure_client, "qian", PASSWORD)
    assert response.status_code == 303
    morsel = set_cookie(response, COOKIE_NAME)[COOKIE_NAME]
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"].lower() == "strict" and morsel["path"] == "/"
    assert morsel["max-age"] == str(2 * 3600)


def test_cookie_is_not_secure_when_configured_off(client: TestClient) -> None:
    ensure_user(client.app, "sun", "operator")
    morsel = set_cookie(post_login(client, "sun", PASSWORD), COOKIE_NAME)[COOKIE_NAME]
    assert morsel["httponly"] and not morsel["secure"]


def test_sessions_expire(client: TestClient, console_app: FastAPI) -> None:
    login_as(client, "operator")
    with console_app.state.session_factory() as db:
        record = db.query(LoginSession).one()
        assert record.expires_at == pytest.approx(time.time() + 8 * 3600, abs=60)  # CONSOLE_SESSION_HOURS
        assert logged_in(client)
        record.expires_at = time.time() - 1
        db.commit()
    assert not logged_in(client)
    assert client.post("/logout", headers={"X-CSRF-Token": "x"}).status_code == 401


def test_logout_invalidates_the_session(client: TestClient) -> None:
    token = login_as(client, "admin")
    stolen = client.cookies[COOKIE_NAME]
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/login?bye=1"
    assert "您已安全退出" in client.get("/login?bye=1").text
    # The old cookie value no longer works, even when replayed.
    client.cookies.set(COOKIE_NAME, stolen)
    assert client.get("/admin/users").status_code == 303


def test_logout_needs_post_and_csrf(client: TestClient) -> None:
    login_as(client, "operator")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 403
    assert logged_in(client)


# --- rate limit ------------------------------------------------------------------------------------------


def clients(app: FastAPI, *addresses: str) -> list[TestClient]:
    return [TestClient(app, client=(address, 40000), follow_redirects=False) for address in addresses]


def test_login_attempts_are_limited_per_user_name_and_address(console_app: FastAPI) -> None:
    ensure_user(console_app, "alice", "operator")
    ensure_user(console_app, "bob", "operator")
    first, second, third = clients(console_app, "10.0.0.1", "10.0.0.2", "10.0.0.3")
    for _ in range(5):
        assert post_login(first, "alice", "wrong password").status_code == 401
    refused = post_login(first, "alice", PASSWORD)
    assert refused.status_code == 429
    assert "登录失败次数过多" in refused.text and "分钟后）再试" in refused.text
    # Locked for that address only: whoever guessed cannot lock alice out of her own machine ...
    assert post_login(second, "alice", PASSWORD).status_code == 303
    # ... and other users are not affected either.
    assert post_login(third, "bob", PASSWORD).status_code == 303


def test_login_attempts_are_limited_per_client_address(console_app: FastAPI, console_settings: ConsoleSettings) -> None:
    ensure_user(console_app, "carol", "operator")
    guesser, colleague = clients(console_app, "10.0.1.1", "10.0.1.2")
    for number in range(console_settings.login_address_attempts):
        post_login(guesser, f"u{number}", "guess")
    assert post_login(guesser, "carol", PASSWORD).status_code == 429
    assert post_login(colleague, "carol", PASSWORD).status_code == 303


def test_the_lock_ends_when_failures_leave_the_window(console_app: FastAPI) -> None:
    ensure_user(console_app, "dave", "operator")
    (test_client,) = clients(console_app, "10.0.2.1")
    for _ in range(5):
        post_login(test_client, "dave", "wrong password")
    assert post_login(test_client, "dave", PASSWORD).status_code == 429
    with console_app.state.session_factory() as db:
        for failure in db.query(LoginFailure):
            failure.at -= 901  # CONSOLE_LOGIN_WINDOW_SECONDS=900
        db.commit()
    assert post_login(test_client, "dave", PASSWORD).status_code == 303


def test_a_success_forgives_earlier_failures_of_the_name(console_app: FastAPI) -> None:
    ensure_user(console_app, "erin", "operator")
    (test_client,) = clients(console_app, "10.0.3.1")
    for _ in range(3):
        post_login(test_client, "erin", "wrong password")
    assert post_login(test_client, "erin", PASSWORD).status_code == 303
    test_client.cookies.clear()
    with console_app.state.session_factory() as db:
        assert db.query(LoginFailure).filter_by(username=user_key("erin")).count() == 0


# --- disabled accounts and redirects ---------------------------------------------------------------------


def test_disabled_users_cannot_log_in_and_lose_their_sessions(client: TestClient, console_app: FastAPI) -> None:
    login_as(client, "operator", username="frank")
    with console_app.state.session_factory() as db:
        console.users.set_disabled(db, console.users.find_user(db, "frank"), True)
        db.commit()
    assert not logged_in(client)  # the open session ended
    refused = post_login(client, "frank", PASSWORD)
    assert refused.status_code == 403 and "该账号已被停用" in refused.text
    assert f"{COOKIE_NAME}=" not in refused.headers.get("set-cookie", "")
    assert not logged_in(client)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "/\t/evil.example",
        "http:/evil.example",
        "evil.example",
        "/logout",
    ],
)
def test_next_cannot_leave_the_site(client: TestClient, target: str) -> None:
    ensure_user(client.app, "grace", "operator")
    response = post_login(client, "grace", PASSWORD, next_url=target)
    assert response.status_code == 303 and response.headers["location"] == "/conversations"


def test_next_returns_to_the_requested_page(client: TestClient) -> None:
    ensure_user(client.app, "heidi", "admin")
    first = client.get("/admin/audit?action=login")
    assert first.status_code == 303
    login_page = client.get(first.headers["location"])
    assert 'name="next" value="/admin/audit?action=login"' in login_page.text
    response = post_login(client, "heidi", PASSWORD, next_url="/admin/audit?action=login")
    assert response.headers["location"] == "/admin/audit?action=login"
    assert client.get(response.headers["location"]).status_code == 200
