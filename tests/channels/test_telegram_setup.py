"""`python -m integrations.channels.telegram.commands` against the fake Bot API (run as the real command)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.channels.fake_telegram import FakeTelegram, fake_telegram_for
from tests.e2e.stack import ROOT

WEBHOOK_URL = "https://govbot.example.org/webhooks/telegram/webhook"


@pytest.fixture(scope="session")
def fake(channel_env: dict[str, str]) -> FakeTelegram:
    return fake_telegram_for(channel_env["TELEGRAM_API_BASE_URL"], channel_env["TELEGRAM_BOT_TOKEN"])


def setup_command(channel_env: dict[str, str], *args: str, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **channel_env, "PYTHONPATH": str(ROOT), **env}
    return subprocess.run([sys.executable, "-m", "integrations.channels.telegram.commands", *args], cwd=ROOT,
                          env=full_env, capture_output=True, text=True, timeout=60)


def test_set_registers_the_webhook_with_its_secret_and_the_commands(
    channel_env: dict[str, str], fake: FakeTelegram
) -> None:
    before = len(fake.calls)
    result = setup_command(channel_env, "set", TELEGRAM_WEBHOOK_URL=WEBHOOK_URL)
    assert result.returncode == 0, result.stderr
    calls = {c.method: c.params for c in fake.calls[before:]}
    assert calls["setWebhook"]["url"] == WEBHOOK_URL
    assert calls["setWebhook"]["secret_token"] == channel_env["TELEGRAM_SECRET_TOKEN"]
    assert calls["setWebhook"]["allowed_updates"] == ["message", "callback_query"]
    commands = {c["command"]: c["description"] for c in calls["setMyCommands"]["commands"]}
    assert set(commands) == {"start", "help", "cancel", "human"}
    assert "取消" in commands["cancel"] and "人工" in commands["human"]
    assert channel_env["TELEGRAM_BOT_TOKEN"] not in result.stdout + result.stderr
    info = setup_command(channel_env, "info")
    assert info.returncode == 0 and f"url: {WEBHOOK_URL}" in info.stdout


def test_delete_removes_the_webhook(channel_env: dict[str, str], fake: FakeTelegram) -> None:
    before = len(fake.calls)
    result = setup_command(channel_env, "delete", "--drop-pending")
    assert result.returncode == 0, result.stderr
    deletes = [c for c in fake.calls[before:] if c.method == "deleteWebhook"]
    assert len(deletes) == 1 and deletes[0].params["drop_pending_updates"] is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TELEGRAM_WEBHOOK_URL": "http://govbot.example.org/webhooks/telegram/webhook"}, "https"),
        ({"TELEGRAM_WEBHOOK_URL": WEBHOOK_URL, "TELEGRAM_SECRET_TOKEN": ""}, "TELEGRAM_SECRET_TOKEN"),
        ({"TELEGRAM_WEBHOOK_URL": ""}, "TELEGRAM_WEBHOOK_URL"),
    ],
)
def test_set_refuses_a_webhook_telegram_would_not_call_or_could_be_forged(
    channel_env: dict[str, str], fake: FakeTelegram, env: dict[str, str], message: str
) -> None:
    before = len(fake.calls)
    result = setup_command(channel_env, "set", **env)
    assert result.returncode == 2 and message in result.stderr
    assert fake.calls[before:] == [], "nothing was sent to the Bot API"
