"""TELEGRAM_SECRET_TOKEN is all that tells Telegram's webhook calls from anyone else's: it must be guess-proof."""

from __future__ import annotations

import secrets

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from integrations.channels.telegram.inbound import SECRET_HEADER, TelegramInput
from integrations.channels.telegram.settings import TelegramSettings
from tests.channels.fake_telegram import text_update
from tests.sanic_server import serve_channel

TOKEN = "987654321:SECURITY-telegram-token"


def problem(secret: str, mode: str = "webhook") -> str | None:
    return TelegramSettings(TOKEN, secret, mode=mode).problem()


@pytest.mark.parametrize(
    "secret", ["x", "1234", "a" * 31, "短密钥" * 20, "a" * 40 + " b", "a" * 257],
    ids=["1 char", "4 chars", "31 chars", "not ASCII", "a space", "257 chars"],
)
def test_short_or_malformed_secrets_disable_the_channel(secret: str) -> None:
    found = problem(secret)
    assert found is not None and "TELEGRAM_SECRET_TOKEN" in found and "32" in found
    assert problem(secret, mode="polling") is not None  # set but unusable: refused in polling mode as well


@pytest.mark.parametrize("secret", ["a" * 32, secrets.token_urlsafe(32), "A-z_0" * 50], ids=["32", "43", "250"])
def test_long_random_secrets_are_accepted(secret: str) -> None:
    assert problem(secret) is None


async def test_a_one_character_secret_cannot_be_brute_forced_because_the_webhook_is_off() -> None:
    turns: list[UserMessage] = []

    async def rasa(message: UserMessage) -> None:
        turns.append(message)

    channel = TelegramInput(TelegramSettings(TOKEN, "7"))
    async with serve_channel(channel, rasa) as url, httpx.AsyncClient() as client:
        guesses = [await client.post(f"{url}/webhook", json=text_update(5550100, "你好"), headers={SECRET_HEADER: g})
                   for g in "0123456789"]
    assert {g.status_code for g in guesses} == {503}
    assert "TELEGRAM_SECRET_TOKEN" in guesses[0].json()["error"]
    assert turns == []
