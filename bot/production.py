"""The production checklist: with GOVBOT_ENV=production a process refuses to start while anything on it is open.

Development (the default of `make run` and the tests) keeps its conveniences: generated tokens, development
keys, the REST channel, the sandbox's /dev routes. Production has none of them, and each process checks the
items that concern it before it binds a port (docs/security.md lists them).
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from bot.settings import (
    ChannelSettings,
    ConfigurationError,
    ConsoleSettings,
    Secrets,
    Settings,
    WeChatSettings,
    govbot_env,
)


def _secrets(*names: str) -> Callable[[], list[str]]:
    def check() -> list[str]:
        secrets = Secrets.from_env()  # each field is named after its variable
        return [problem for name in names if (problem := Secrets.problem(name, getattr(secrets, name.lower())))]

    return check


def _rest_channel() -> list[str]:
    channel = ChannelSettings.from_env()
    if not channel.rest_enabled:
        return []
    if not channel.rest_token:
        return ["REST_CHANNEL_ENABLED is set without REST_CHANNEL_TOKEN (an open REST channel lets anyone act as "
                "anyone)"]
    problem = Secrets.problem("REST_CHANNEL_TOKEN", channel.rest_token)
    return [problem] if problem else []


def _wechat_safe_mode() -> list[str]:
    wechat = WeChatSettings.from_env()
    if wechat.token and not wechat.encoding_aes_key:
        return ["WeChat is configured without WECHAT_ENCODING_AES_KEY (plaintext mode: message bodies are not signed)"]
    return []


def _console_cookie() -> list[str]:
    if not ConsoleSettings.from_env(rasa_token=None).cookie_secure:
        return ["CONSOLE_COOKIE_SECURE=false (session cookies would travel over plain http)"]
    return []


CHECKS: dict[str, list[Callable[[], list[str]]]] = {
    "rasa": [
        _secrets("PII_HASH_SECRET", "PII_SEAL_KEY", "RASA_API_TOKEN", "ACTION_SERVER_TOKEN"),
        _rest_channel,
        _wechat_safe_mode,
    ],
    # Seals the conversation id it subscribes with, keeps "退订" under the log's hash of it.
    "actions": [_secrets("ACTION_SERVER_TOKEN", "PII_HASH_SECRET", "PII_SEAL_KEY")],
    "console": [_secrets("PII_HASH_SECRET", "PII_SEAL_KEY", "RASA_API_TOKEN"), _console_cookie],
    "services": [_secrets("SERVICES_SECRET_KEY")],
    "log-consumer": [_secrets("PII_HASH_SECRET", "PII_SEAL_KEY")],  # hashes and seals what it stores
    # Opens the sealed subscribers, hashes them like the log, calls Rasa's API, checks the back ends' signatures.
    "notifier": [_secrets("PII_HASH_SECRET", "PII_SEAL_KEY", "RASA_API_TOKEN", "NOTIFY_WEBHOOK_SECRET")],
}


def problems(process: str) -> list[str]:
    """What keeps `process` (rasa, actions, console, services, log-consumer, notifier) from starting in production;
    [] if nothing."""
    try:
        if govbot_env() != "production":
            return []
    except ConfigurationError as error:
        return [str(error)]
    try:
        return [problem for check in CHECKS[process] for problem in check()]
    except ConfigurationError as error:  # a value that does not parse at all
        return [str(error)]


def enforce(process: str) -> Settings:
    """Exit with the list of problems when the checklist fails; the settings otherwise."""
    found = problems(process)
    if found:
        lines = "\n".join(f"  - {item}" for item in found)
        header = f"{process} 拒绝启动，请先处理以下配置问题（生产环境清单见 docs/security.md）："
        print(f"{header}\n{lines}", file=sys.stderr)
        raise SystemExit(2)
    return Settings.from_env()
