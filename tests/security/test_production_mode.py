"""Hole 9: dangerous defaults failed open.

`PII_HASH_SECRET` and `PII_SEAL_KEY` fell back to public constants with a warning, the Rasa API had no token
unless one was set, and `SERVICES_ENV=prod` (anything but `production`) exposed development routes. Now
GOVBOT_ENV=production is one explicit mode whose processes refuse to start while anything on the checklist is
open, and any other value than development/production is refused outright.
"""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from bot.production import problems
from bot.settings import DEVELOPMENT_SECRETS, ConfigurationError, secret_from_env
from tests.e2e.stack import ROOT, free_port, wait_until

STRONG = "s" * 40


def start(args: list[str], env: dict[str, str], tmp_path) -> subprocess.CompletedProcess:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "GOVBOT_VAR_DIR": str(tmp_path), **env}
    for name in ("RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "PII_HASH_SECRET", "PII_SEAL_KEY"):
        if name not in env:
            full.pop(name, None)
    return subprocess.run([sys.executable, *args], env=full, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_rasa_server_refuses_to_start_with_anything_open(tmp_path) -> None:
    result = start(["-m", "bot", "serve"], {"GOVBOT_ENV": "production", "PII_HASH_SECRET": DEVELOPMENT_SECRETS[
        "PII_HASH_SECRET"], "REST_CHANNEL_ENABLED": "true", "WECHAT_TOKEN": "wechat-token"}, tmp_path)
    assert result.returncode == 2
    for expected in ("PII_HASH_SECRET is the public development value", "PII_SEAL_KEY is not set",
                     "RASA_API_TOKEN is not set", "ACTION_SERVER_TOKEN is not set",
                     "REST_CHANNEL_ENABLED is set without REST_CHANNEL_TOKEN", "WECHAT_ENCODING_AES_KEY"):
        assert expected in result.stderr
    assert not (tmp_path / "secrets").exists()  # nothing generated in production


@pytest.mark.parametrize("value", ["prod", "staging", "dev", "development,production"])
def test_an_unknown_mode_is_refused(value: str, tmp_path) -> None:
    result = start(["-m", "bot", "serve"], {"GOVBOT_ENV": value}, tmp_path)
    assert result.returncode == 2 and "GOVBOT_ENV must be 'development' or 'production'" in result.stderr


def test_a_complete_production_configuration_passes_the_checklist(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PII_HASH_SECRET", "PII_SEAL_KEY", "RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "SERVICES_SECRET_KEY"):
        monkeypatch.setenv(name, STRONG + name)
    monkeypatch.setenv("GOVBOT_ENV", "production")
    for name in ("REST_CHANNEL_ENABLED", "WECHAT_TOKEN", "CONSOLE_COOKIE_SECURE"):
        monkeypatch.delenv(name, raising=False)
    assert [problems(process) for process in ("rasa", "actions", "console", "services")] == [[], [], [], []]
    monkeypatch.setenv("RASA_API_TOKEN", "short")
    assert problems("rasa") == ["RASA_API_TOKEN is shorter than 32 characters"]


def test_production_has_no_development_secret_to_fall_back_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVBOT_ENV", "production")
    monkeypatch.delenv("PII_SEAL_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="PII_SEAL_KEY"):
        secret_from_env("PII_SEAL_KEY", "sealing")
    monkeypatch.setenv("PII_SEAL_KEY", DEVELOPMENT_SECRETS["PII_SEAL_KEY"])
    with pytest.raises(ConfigurationError, match="PII_SEAL_KEY"):
        secret_from_env("PII_SEAL_KEY", "sealing")
    monkeypatch.setenv("GOVBOT_ENV", "development")
    assert secret_from_env("PII_SEAL_KEY", "sealing") == DEVELOPMENT_SECRETS["PII_SEAL_KEY"]


def test_the_action_server_starts_in_production_only_with_its_secrets(tmp_path) -> None:
    refused = start(["-m", "bot", "actions"], {"GOVBOT_ENV": "production"}, tmp_path)
    assert refused.returncode == 2
    for secret in ("ACTION_SERVER_TOKEN", "PII_HASH_SECRET", "PII_SEAL_KEY"):  # its token; the subscriber's seal
        assert f"{secret} is not set" in refused.stderr

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GOVBOT_VAR_DIR": str(tmp_path), "GOVBOT_ENV": "production",
           "ACTION_SERVER_TOKEN": STRONG, "PII_HASH_SECRET": STRONG[::-1], "PII_SEAL_KEY": STRONG.upper(),
           "ACTION_PORT": str(port)}
    server = subprocess.Popen([sys.executable, "-m", "bot", "actions"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200, 90, "actions", server)
        call = {"next_action": "action_listen", "tracker": {"sender_id": "x", "events": []}, "domain": {}}
        assert httpx.post(f"http://127.0.0.1:{port}/webhook", json=call).status_code == 401
        signed = httpx.get(f"http://127.0.0.1:{port}/actions", headers={"Authorization": f"Bearer {STRONG}"})
        assert signed.status_code == 200 and {"name": "action_session_start"} in signed.json()
    finally:
        server.terminate()
        server.wait(20)
