"""Admin pages: managing users in the console and reading the audit log."""

from __future__ import annotations

import re
import time

from fastapi import FastAPI
from starlette.testclient import TestClient

from console.users import AuditEntry, User, find_user
from console.web import audit
from tests.console.conftest import PASSWORD, ensure_user, login_as, post_login

NEW_PASSWORD = "a brand new secret 42"


def user_id(app: FastAPI, username: str) -> int:
    with app.state.session_factory() as db:
        return find_user(db, username).id


def audit_actions(app: FastAPI) -> list[tuple[str, str, str]]:
    with app.state.session_factory() as db:
        return [(e.username, e.action, e.target) for e in db.query(AuditEntry).order_by(AuditEntry.id)]


def other_client(app: FastAPI) -> TestClient:
    return TestClient(app, follow_redirects=False)


def test_admin_creates_a_user_who_can_then_log_in(client: TestClient, console_app: FastAPI) -> None:
    token = login_as(client, "admin", username="boss")
    form = {"csrf_token": token, "username": "Zhou", "role": "operator", "password": NEW_PASSWORD}
    response = client.post("/admin/users", data={**form, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/admin/users?ok=created"
    page = client.get(response.headers["location"])
    assert "用户已创建" in page.text and "zhou" in page.text and "操作员" in page.text
    assert ("boss", "create_user", "user:zhou") in audit_actions(console_app)

    newcomer = other_client(console_app)
    assert post_login(newcomer, "zhou", NEW_PASSWORD).status_code == 303
    assert newcomer.get("/admin/users").status_code == 403  # an operator


def test_user_creation_errors_are_explained(client: TestClient, console_app: FastAPI) -> None:
    token = login_as(client, "admin", username="boss")
    base = {"csrf_token": token, "role": "operator"}
    cases = [
        ({"username": "boss", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, "已存在"),
        ({"username": "wu", "password": "short", "password_confirm": "short"}, "至少需要 10 个字符"),
        ({"username": "wu", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD + "!"}, "两次输入的密码不一致"),
        ({"username": "w u<script>", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, "用户名只能包含"),
        ({"username": "wu", "role": "root", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}, "角色只能是"),
    ]
    for fields, message in cases:
        response = client.post("/admin/users", data={**base, **fields})
        assert response.status_code == 400, fields
        assert message in response.text, fields
        assert "<script>" not in response.text
    with console_app.state.session_factory() as db:
        assert db.query(User).count() == 1
    assert [action for _, action, _ in audit_actions(console_app)] == ["login"]


def test_changing_a_role_takes_effect_immediately(client: TestClient, console_app: FastAPI) -> None:
    ensure_user(console_app, "ma", "operator")
    colleague = other_client(console_app)
    post_login(colleague, "ma", PASSWORD)
    assert colleague.get("/admin/audit").status_code == 403

    token = login_as(client, "admin", username="boss")
    target = user_id(console_app, "ma")
    response = client.post(f"/admin/users/{target}/role", data={"csrf_token": token, "role": "admin"})
    assert response.status_code == 303
    assert colleague.get("/admin/audit").status_code == 200
    assert ("boss", "change_role", "user:ma") in audit_actions(console_app)


def test_disable_and_enable_a_user(client: TestClient, console_app: FastAPI) -> None:
    ensure_user(console_app, "hu", "operator")
    colleague = other_client(console_app)
    post_login(colleague, "hu", PASSWORD)
    token = login_as(client, "admin", username="boss")
    target = user_id(console_app, "hu")

    assert client.post(f"/admin/users/{target}/disable", data={"csrf_token": token}).status_code == 303
    assert colleague.get("/").headers["location"].startswith("/login")  # logged out at once
    assert "已停用" in client.get("/admin/users").text
    colleague.cookies.clear()
    assert post_login(colleague, "hu", PASSWORD).status_code == 403

    assert client.post(f"/admin/users/{target}/enable", data={"csrf_token": token}).status_code == 303
    assert post_login(colleague, "hu", PASSWORD).status_code == 303
    actions = [action for who, action, target in audit_actions(console_app) if who == "boss" and target == "user:hu"]
    assert actions == ["disable_user", "enable_user"]


def test_admins_cannot_lock_themselves_out(client: TestClient, console_app: FastAPI) -> None:
    token = login_as(client, "admin", username="boss")
    me = user_id(console_app, "boss")
    refused = client.post(f"/admin/users/{me}/disable", data={"csrf_token": token})
    assert refused.status_code == 400 and "不能停用自己" in refused.text
    demoted = client.post(f"/admin/users/{me}/role", data={"csrf_token": token, "role": "operator"})
    assert demoted.status_code == 400 and "最后一个可用的管理员" in demoted.text
    assert client.get("/admin/users").status_code == 200  # still an admin

    ensure_user(console_app, "deputy", "admin")
    assert client.post(f"/admin/users/{me}/role", data={"csrf_token": token, "role": "operator"}).status_code == 303
    assert client.get("/admin/users").status_code == 403


def test_reset_password_ends_the_users_sessions(client: TestClient, console_app: FastAPI) -> None:
    ensure_user(console_app, "xu", "operator")
    colleague = other_client(console_app)
    post_login(colleague, "xu", PASSWORD)
    token = login_as(client, "admin", username="boss")
    target = user_id(console_app, "xu")

    weak = client.post(f"/admin/users/{target}/password", data={"csrf_token": token, "password": "123"})
    assert weak.status_code == 400 and "至少需要 10 个字符" in weak.text
    response = client.post(f"/admin/users/{target}/password", data={"csrf_token": token, "password": NEW_PASSWORD})
    assert response.status_code == 303
    assert "密码已重置" in client.get(response.headers["location"]).text
    assert colleague.get("/").headers["location"].startswith("/login")
    colleague.cookies.clear()
    assert post_login(colleague, "xu", PASSWORD).status_code == 401
    assert post_login(colleague, "xu", NEW_PASSWORD).status_code == 303
    entries = audit_actions(console_app)
    assert ("boss", "reset_password", "user:xu") in entries
    assert all(NEW_PASSWORD not in target for _, _, target in entries)


def test_unknown_user_is_a_chinese_404(client: TestClient) -> None:
    token = login_as(client, "admin")
    response = client.post("/admin/users/9999/disable", data={"csrf_token": token})
    assert response.status_code == 404 and "该用户不存在" in response.text


def seed_audit(app: FastAPI, count: int) -> None:
    now = time.time()
    with app.state.session_factory() as db:
        for user_name in ("amy", "ben"):
            ensure_user(app, user_name, "operator")
        amy, ben = find_user(db, "amy"), find_user(db, "ben")
        for i in range(count):
            entry = audit(db, amy if i % 2 else ben, "view_conversation" if i % 3 else "export", f"conversation:{i}")
            entry.at = now - 3600 + i  # later entries are newer
        db.commit()


def rows(page: str) -> list[str]:
    return re.findall(r"conversation:(\d+)", page)


def test_audit_log_is_newest_first_and_paged(client: TestClient, console_app: FastAPI) -> None:
    seed_audit(console_app, 120)
    login_as(client, "admin", username="boss")
    first = client.get("/admin/audit?action=view_conversation")
    assert first.status_code == 200
    numbers = [int(n) for n in rows(first.text)]
    assert len(numbers) == 50 and numbers == sorted(numbers, reverse=True) and numbers[0] == 119
    assert "共 80 条记录" in first.text and "第 1 / 2 页" in first.text and "查看会话" in first.text
    second = client.get("/admin/audit?action=view_conversation&page=2")
    assert len(rows(second.text)) == 30 and not set(rows(second.text)) & set(rows(first.text))
    assert client.get("/admin/audit?action=view_conversation&page=99").status_code == 200  # clamped to the last


def test_audit_log_filters_by_user_and_action(client: TestClient, console_app: FastAPI) -> None:
    seed_audit(console_app, 30)
    login_as(client, "admin", username="boss")
    page = client.get("/admin/audit?user=AMY&action=export")
    expected = sorted((i for i in range(30) if i % 2 and not i % 3), reverse=True)
    assert [int(n) for n in rows(page.text)] == expected
    assert f"共 {len(expected)} 条记录" in page.text
    logins = client.get("/admin/audit?action=login")
    assert "共 1 条记录" in logins.text and "登录" in logins.text and rows(logins.text) == []
    assert "没有符合条件的记录" in client.get("/admin/audit?user=nobody").text
