"""Telegram channel settings: the variables are declared with the product's others in bot/settings.py (the bot
token and secret come from the environment only); here what the channel builds from them."""

from __future__ import annotations

from telegram import Bot

from bot.log_redaction import redact_in_logs
from bot.settings import TelegramSettings

CHANNEL = "telegram"
WEBHOOK_PATH = "/webhooks/telegram/webhook"

__all__ = ["CHANNEL", "WEBHOOK_PATH", "TelegramSettings", "make_bot", "redact_token_in_logs"]


def make_bot(settings: TelegramSettings) -> Bot:
    return Bot(settings.token, base_url=settings.api_base_url)


def redact_token_in_logs(token: str) -> None:
    """The bot token is part of every Bot API URL (httpx logs each request at INFO): it never reaches a handler."""
    if token:
        redact_in_logs(f"telegram:{token}", lambda text: text.replace(token, "<bot-token>"))
