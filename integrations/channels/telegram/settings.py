"""Telegram channel settings, read from the environment only (the bot token and secret never live in the repo)."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from telegram import Bot

from bot.log_redaction import redact_in_logs

CHANNEL = "telegram"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
WEBHOOK_PATH = "/webhooks/telegram/webhook"
MODES = ("webhook", "polling")
_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
MIN_SECRET_CHARS = 32  # the header is all that tells Telegram's calls from anyone's: it must not be guessable
# setWebhook accepts 1-256 of these characters; fewer than 32 is refused here.
_SECRET = re.compile(rf"[A-Za-z0-9_-]{{{MIN_SECRET_CHARS},256}}")
SECRET_RULE = f"{MIN_SECRET_CHARS}-256 random characters of A-Z, a-z, 0-9, _ and -"
SECRET_EXAMPLE = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    secret_token: str
    api_base_url: str = DEFAULT_API_BASE_URL
    mode: str = "webhook"
    webhook_url: str = ""
    poll_timeout: int = 25  # seconds a getUpdates long poll may wait
    order_window: float = 0.1  # seconds an idle chat waits so near-simultaneous updates run in update_id order

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> TelegramConfig:
        return cls(
            token=env.get("TELEGRAM_BOT_TOKEN", "").strip(),
            secret_token=env.get("TELEGRAM_SECRET_TOKEN", "").strip(),
            api_base_url=env.get("TELEGRAM_API_BASE_URL", "").strip() or DEFAULT_API_BASE_URL,
            mode=env.get("TELEGRAM_MODE", "webhook").strip().lower() or "webhook",
            webhook_url=env.get("TELEGRAM_WEBHOOK_URL", "").strip(),
            poll_timeout=_number(env, "TELEGRAM_POLL_TIMEOUT", 25),
            order_window=_number(env, "TELEGRAM_ORDER_WINDOW_MS", 100) / 1000,
        )

    def problem(self) -> str | None:
        """Why the channel cannot serve (shown in its 503 answers and logged once), or None when it can."""
        if self.mode not in MODES:
            return f"TELEGRAM_MODE must be one of {', '.join(MODES)}, not {self.mode!r}"
        if not self.token:
            return "TELEGRAM_BOT_TOKEN is not set (the token @BotFather gave you)"
        if not _TOKEN.fullmatch(self.token):
            return "TELEGRAM_BOT_TOKEN does not look like a bot token (<digits>:<letters, digits, _ or ->)"
        if self.mode == "webhook" and not self.secret_token:
            return f"TELEGRAM_SECRET_TOKEN is not set ({SECRET_RULE}, e.g. from {SECRET_EXAMPLE})"
        if self.secret_token and not _SECRET.fullmatch(self.secret_token):
            return (f"TELEGRAM_SECRET_TOKEN must be {SECRET_RULE} (a short secret can be guessed); "
                    f"generate one with {SECRET_EXAMPLE}")
        return None

    @property
    def bot_id(self) -> str:
        """The bot's user id, the token's first part: keys of one bot's updates never meet another bot's."""
        return self.token.split(":", 1)[0]

    def make_bot(self) -> Bot:
        return Bot(self.token, base_url=self.api_base_url)


def _number(env: Mapping[str, str], name: str, default: int) -> int:
    """An optional whole-number setting; a typo falls back to the default (with a warning), Rasa still starts."""
    raw = env.get(name, "").strip()
    if raw.isdigit():
        return int(raw)
    if raw:
        logging.getLogger(__name__).warning("%s=%r is not a whole number; using %d", name, raw, default)
    return default


def redact_token_in_logs(token: str) -> None:
    """The bot token is part of every Bot API URL (httpx logs each request at INFO): it never reaches a handler."""
    if token:
        redact_in_logs(f"telegram:{token}", lambda text: text.replace(token, "<bot-token>"))
