"""The Telegram channel in an in-process Sanic server, talking to the fake Bot API, with a small stand-in for Rasa.

These cover what the real stack cannot show cheaply: polling mode, a reply longer than Telegram's limit, a
server without credentials, a user who blocked the bot. tests/channels/test_telegram.py runs the real stack.
"""

from __future__ import annotations

import asyncio
import logging
import random
from contextlib import AbstractAsyncContextManager as AsyncContextManager
from dataclasses import replace

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from integrations.channels.common import OnNewMessage
from integrations.channels.state import RedisChannelState
from integrations.channels.telegram.handler import ERROR_TEXT
from integrations.channels.telegram.inbound import SECRET_HEADER, TelegramInput
from integrations.channels.telegram.render import TEXT_LIMIT, utf16_len
from integrations.channels.telegram.settings import TelegramSettings
from tests.channels.conftest import CHANNEL_REDIS_URL
from tests.channels.fake_telegram import FakeTelegram, fake_telegram_for, text_update
from tests.sanic_server import serve_channel

LONG_REPLY = "\n".join(f"{i}. 杭州数字经济人才专场招聘会｜2026-12-01｜线上｜报名中，已报{i}/500人" for i in range(200))


@pytest.fixture(scope="session")
def fake(channel_env: dict[str, str]) -> FakeTelegram:
    return fake_telegram_for(channel_env["TELEGRAM_API_BASE_URL"], channel_env["TELEGRAM_BOT_TOKEN"])


@pytest.fixture
def config(channel_env: dict[str, str], fake: FakeTelegram) -> TelegramSettings:
    return replace(TelegramSettings.from_env(channel_env), poll_timeout=1, order_window_ms=20)


async def stand_in_for_rasa(message: UserMessage) -> None:
    """Echoes the message; "长回复" gets a reply longer than one Telegram message, with a button."""
    if message.text == "出错":
        raise RuntimeError("the tracker store is down")
    if message.text == "长回复":
        buttons = [{"title": "查看更多", "payload": "/show_more"}]
        await message.output_channel.send_text_with_buttons(message.sender_id, LONG_REPLY, buttons)
    else:
        await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")


def serving(channel: TelegramInput, on_new_message: OnNewMessage = stand_in_for_rasa) -> AsyncContextManager[str]:
    return serve_channel(channel, on_new_message)


def new_user() -> int:
    return random.randint(3_000_000_000, 3_999_999_999)


async def wait_for_messages(fake: FakeTelegram, chat_id: int, count: int) -> list:
    return await asyncio.to_thread(fake.wait_for_messages, chat_id, count, 20)


async def test_without_credentials_the_channel_loads_and_answers_503(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        channel = TelegramInput(TelegramSettings.from_env({}))
    warnings = [r for r in caplog.records if "TELEGRAM_BOT_TOKEN" in r.getMessage()]
    assert len(warnings) == 1
    async with serving(channel) as url, httpx.AsyncClient() as client:
        webhook = await client.post(f"{url}/webhook", json=text_update(new_user(), "你好"))
        health = await client.get(f"{url}/")
    assert webhook.status_code == health.status_code == 503
    assert "TELEGRAM_BOT_TOKEN is not set" in webhook.json()["error"]
    assert len([r for r in caplog.records if "TELEGRAM_BOT_TOKEN" in r.getMessage()]) == 1, "warned once only"


async def test_a_webhook_without_its_secret_is_503_until_the_secret_is_set() -> None:
    channel = TelegramInput(TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": "123456789:TEST-telegram-token"}))
    async with serving(channel) as url, httpx.AsyncClient() as client:
        answer = await client.post(f"{url}/webhook", json=text_update(new_user(), "你好"))
    assert answer.status_code == 503 and "TELEGRAM_SECRET_TOKEN" in answer.json()["error"]


async def test_a_reply_longer_than_telegram_allows_arrives_split_in_order(
    config: TelegramSettings, fake: FakeTelegram
) -> None:
    user = new_user()
    channel = TelegramInput(config, RedisChannelState(CHANNEL_REDIS_URL))
    async with serving(channel) as url, httpx.AsyncClient() as client:
        answer = await client.post(f"{url}/webhook", json=text_update(user, "长回复"),
                                   headers={SECRET_HEADER: config.secret_token})
        assert answer.status_code == 200
        # The keyboard comes with the last part: once it is there, the whole reply has been sent.
        await asyncio.to_thread(fake.wait_for, lambda: any("reply_markup" in c.params
                                                           for c in fake.calls_of("sendMessage", user)), 20)
    sent = fake.calls_of("sendMessage", user)
    texts = [c.params["text"] for c in sent]
    assert len(texts) == 3 and all(utf16_len(t) <= TEXT_LIMIT for t in texts)
    assert "\n".join(texts) == LONG_REPLY
    assert ["reply_markup" in c.params for c in sent] == [False, False, True]


async def test_polling_mode_feeds_updates_through_the_same_handling(
    config: TelegramSettings, fake: FakeTelegram
) -> None:
    user = new_user()
    first = text_update(user, "查询口岸状态")
    channel = TelegramInput(replace(config, mode="polling"), RedisChannelState(CHANNEL_REDIS_URL))
    async with serving(channel) as url, httpx.AsyncClient() as client:
        fake.push_update(first)
        await wait_for_messages(fake, user, 1)
        webhook = await client.post(f"{url}/webhook", json=text_update(user, "你好"),
                                    headers={SECRET_HEADER: config.secret_token})
    assert webhook.status_code == 503, "in polling mode the webhook route is off"
    offsets = [c.params.get("offset") for c in fake.calls_of("getUpdates")]
    assert first["update_id"] + 1 in offsets, "getUpdates confirmed the processed update"
    # After a restart Telegram may deliver an update again; it must not run a second time.
    async with serving(channel):
        fake.push_update(first)
        fake.push_update(text_update(user, "谢谢"))
        await wait_for_messages(fake, user, 2)
    assert fake.sent_texts(user) == ["收到：查询口岸状态", "收到：谢谢"]


async def test_a_user_who_blocked_the_bot_does_not_disturb_others(config: TelegramSettings, fake: FakeTelegram) -> None:
    blocked, other = new_user(), new_user()
    fake.blocked_chats.add(blocked)
    channel = TelegramInput(config, RedisChannelState(CHANNEL_REDIS_URL))
    headers = {SECRET_HEADER: config.secret_token}
    async with serving(channel) as url, httpx.AsyncClient() as client:
        for update in (text_update(blocked, "长回复"), text_update(other, "你好")):
            assert (await client.post(f"{url}/webhook", json=update, headers=headers)).status_code == 200
        await wait_for_messages(fake, other, 1)
    assert fake.sent_texts(other) == ["收到：你好"]
    assert len(fake.calls_of("sendMessage", blocked)) == 1, "after a 403 the rest of that reply is not attempted"


async def test_a_failed_turn_is_apologised_for_and_the_chat_goes_on(
    config: TelegramSettings, fake: FakeTelegram
) -> None:
    user = new_user()
    channel = TelegramInput(config, RedisChannelState(CHANNEL_REDIS_URL))
    headers = {SECRET_HEADER: config.secret_token}
    async with serving(channel) as url, httpx.AsyncClient() as client:
        for text in ("出错", "你好"):
            answer = await client.post(f"{url}/webhook", json=text_update(user, text), headers=headers)
            assert answer.status_code == 200
        await wait_for_messages(fake, user, 2)
    assert fake.sent_texts(user) == [ERROR_TEXT, "收到：你好"]
