"""`python -m console create-user / set-password / disable-user`, run as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi import FastAPI
from starlette.testclient import TestClient

from tests.console.conftest import post_login

ROOT = Path(__file__).resolve().parents[2]


def cli(database_url: str, *args: str, password: str | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    env.pop("CONSOLE_PASSWORD", None)
    if password is not None:
        env["CONSOLE_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,  # no controlling terminal: getpass reads stdin instead of /dev/tty
    )


def test_create_user_then_log_in(console_db_url: str, console_app: FastAPI, client: TestClient) -> None:
    done = cli(console_db_url, "create-user", "Zhang.Wei", "--role", "admin", password="a long enough secret")
    assert done.returncode == 0, done.stderr
    assert "已创建用户 zhang.wei（管理员）" in done.stdout
    assert "a long enough secret" not in done.stdout + done.stderr

    assert post_login(client, "zhang.wei", "a long enough secret").status_code == 303
    assert client.get("/admin/users").status_code == 200  # the role was applied

    again = cli(console_db_url, "create-user", "zhang.wei", password="another long secret")
    assert again.returncode == 2 and "已存在" in again.stderr


def test_weak_password_and_bad_role_are_refused(console_db_url: str, console_app: FastAPI, client: TestClient) -> None:
    weak = cli(console_db_url, "create-user", "liu", password="short")
    assert weak.returncode == 2 and "至少需要 10 个字符" in weak.stderr
    role = cli(console_db_url, "create-user", "liu", "--role", "root", password="a long enough secret")
    assert role.returncode != 0
    assert post_login(client, "liu", "short").status_code == 401


def test_set_password_and_disable_user(console_db_url: str, console_app: FastAPI, client: TestClient) -> None:
    assert cli(console_db_url, "create-user", "chen", password="first long secret").returncode == 0
    assert post_login(client, "chen", "first long secret").status_code == 303

    changed = cli(console_db_url, "set-password", "chen", password="second long secret")
    assert changed.returncode == 0, changed.stderr
    assert client.get("/").headers["location"].startswith("/login")  # the old login ended
    client.cookies.clear()
    assert post_login(client, "chen", "first long secret").status_code == 401
    assert post_login(client, "chen", "second long secret").status_code == 303

    disabled = cli(console_db_url, "disable-user", "chen")
    assert disabled.returncode == 0 and "已停用 chen" in disabled.stdout
    client.cookies.clear()
    assert post_login(client, "chen", "second long secret").status_code == 403

    missing = cli(console_db_url, "disable-user", "nobody")
    assert missing.returncode == 2 and "不存在" in missing.stderr


def test_password_without_the_env_var_is_asked_interactively(console_db_url: str) -> None:
    # getpass falls back to stdin without a terminal; two different entries are refused.
    mismatch = cli(console_db_url, "create-user", "wu", stdin="a long enough secret\nsomething else entirely\n")
    assert mismatch.returncode != 0 and "不一致" in mismatch.stderr
