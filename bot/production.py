"""The production checklist: with GOVBOT_ENV=production a process refuses to start while anything on it is open.

Development (the default of `make run` and the tests) keeps its conveniences: generated tokens, development
keys, the REST channel, the sandbox's /dev routes. Production has none of them, and each process checks the
items that concern it before it binds a port (docs/security.md lists them).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from bot.secret_store import ACTION_SERVER_TOKEN, MIN_SECRET_CHARS, RASA_API_TOKEN
from bot.settings import ConfigurationError, Settings, govbot_env

# Public development values (they are in this repository): never acceptable in production.
DEVELOPMENT_SECRETS = {
    "PII_HASH_SECRET": "govbot-development-pii-secret",
    "PII_SEAL_KEY": "govbot-development-pii-seal-key",
    "SERVICES_SECRET_KEY": "govbot-development-services-secret-key",
}


def _secret(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    if not value:
        return f"{name} is not set"
    if value == DEVELOPMENT_SECRETS.get(name):
        return f"{name} is the public development value"
    if len(value) < MIN_SECRET_CHARS:
        return f"{name} is shorter than {MIN_SECRET_CHARS} characters"
    return None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _rest_channel() -> str | None:
    if _flag("REST_CHANNEL_ENABLED") and not os.environ.get("REST_CHANNEL_TOKEN", "").strip():
        return "REST_CHANNEL_ENABLED is set without REST_CHANNEL_TOKEN (an open REST channel lets anyone act as anyone)"
    if _flag("REST_CHANNEL_ENABLED"):
        return _secret("REST_CHANNEL_TOKEN")
    return None


def _wechat_safe_mode() -> str | None:
    if os.environ.get("WECHAT_TOKEN", "").strip() and not os.environ.get("WECHAT_ENCODING_AES_KEY", "").strip():
        return "WeChat is configured without WECHAT_ENCODING_AES_KEY (plaintext mode: message bodies are not signed)"
    return None


def _console_cookie() -> str | None:
    if os.environ.get("CONSOLE_COOKIE_SECURE", "true").strip().lower() == "false":
        return "CONSOLE_COOKIE_SECURE=false (session cookies would travel over plain http)"
    return None


CHECKS: dict[str, list[Callable[[], str | None]]] = {
    "rasa": [
        lambda: _secret("PII_HASH_SECRET"),
        lambda: _secret("PII_SEAL_KEY"),
        lambda: _secret(RASA_API_TOKEN),
        lambda: _secret(ACTION_SERVER_TOKEN),
        _rest_channel,
        _wechat_safe_mode,
    ],
    "actions": [lambda: _secret(ACTION_SERVER_TOKEN)],
    "console": [
        lambda: _secret("PII_HASH_SECRET"),
        lambda: _secret("PII_SEAL_KEY"),
        lambda: _secret(RASA_API_TOKEN),
        _console_cookie,
    ],
    "services": [lambda: _secret("SERVICES_SECRET_KEY")],
}


def problems(process: str) -> list[str]:
    """What keeps `process` (rasa, actions, console, services) from starting in production; [] otherwise."""
    try:
        if govbot_env() != "production":
            return []
    except ConfigurationError as error:
        return [str(error)]
    return [found for check in CHECKS[process] if (found := check())]


def enforce(process: str) -> Settings:
    """Exit with the list of problems when the checklist fails; the settings otherwise."""
    found = problems(process)
    if found:
        lines = "\n".join(f"  - {item}" for item in found)
        header = f"{process} 拒绝启动，请先处理以下配置问题（生产环境清单见 docs/security.md）："
        print(f"{header}\n{lines}", file=sys.stderr)
        raise SystemExit(2)
    return Settings.from_env()
