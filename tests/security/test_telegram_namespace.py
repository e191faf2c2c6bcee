"""Whose conversation a Telegram update continues, and whose buttons a button press may use.

Rasa keys conversations by sender id alone: with the bare Telegram user id as sender id, a channel that lets its
client choose a sender id could continue a Telegram user's conversation, and an operator's reply to another
channel's conversation "123456" would go to Telegram chat 123456. A button's short id must only work for the user it
was shown to: the Bot API warns that a bad client can send any callback_data.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Iterator

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from integrations.channels.common import DeliveryFailed
from integrations.channels.senders import sender_id
from integrations.channels.state import RedisChannelState
from integrations.channels.telegram.inbound import SECRET_HEADER, TelegramInput
from integrations.channels.telegram.settings import TelegramSettings
from tests.channels.fake_telegram import FakeTelegram, callback_update, text_update
from tests.e2e.stack import free_port
from tests.sanic_server import serve_channel

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/12"
TOKEN = "987654321:SECURITY-namespace-token"
SECRET = secrets.token_urlsafe(32)
MENU_TEXT = "请选择您要办理的业务："
PAYLOAD = '/application_status{"application_id": "ZF20260001"}'
OPERATOR_TEXT = "您好，我是工作人员王芳，您的申请已受理。"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram(free_port(), TOKEN)
    yield server
    server.close()


def channel(fake: FakeTelegram) -> TelegramInput:
    config = TelegramSettings(TOKEN, SECRET, api_base_url=f"http://127.0.0.1:{fake.server.server_address[1]}/bot",
                            order_window_ms=20)
    return TelegramInput(config, RedisChannelState(REDIS_URL))


class Rasa:
    """Answers "菜单" with a button carrying a payload, anything else with an echo; records every turn."""

    def __init__(self) -> None:
        self.turns: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append(message)
        if message.text == "菜单":
            buttons = [{"title": "查询申请进度", "payload": PAYLOAD}]
            await message.output_channel.send_text_with_buttons(message.sender_id, MENU_TEXT, buttons)
        else:
            await message.output_channel.send_text_message(message.sender_id, f"收到：{message.text}")

    def texts_of(self, user: int) -> list[str]:
        return [m.text for m in self.turns if m.sender_id.endswith(str(user))]


def new_user() -> int:
    return random.randint(6_000_000_000, 6_999_999_999)


async def post(client: httpx.AsyncClient, url: str, update: dict) -> None:
    answer = await client.post(f"{url}/webhook", json=update, headers={SECRET_HEADER: SECRET})
    assert answer.status_code == 200, answer.text


async def wait_for(fake: FakeTelegram, chat_id: int, count: int) -> list:
    return await asyncio.to_thread(fake.wait_for_messages, chat_id, count, 20)


async def test_a_telegram_update_continues_the_telegram_conversation_only(fake: FakeTelegram) -> None:
    rasa, user = Rasa(), new_user()
    async with serve_channel(channel(fake), rasa) as url, httpx.AsyncClient() as client:
        await post(client, url, text_update(user, "你好"))
        await wait_for(fake, user, 1)
    (turn,) = rasa.turns
    assert turn.sender_id == f"tg:{user}" == sender_id("telegram", str(user))
    assert turn.input_channel == "telegram"


async def test_an_operator_reply_goes_to_the_chat_of_that_conversation_only(fake: FakeTelegram) -> None:
    user = new_user()
    telegram = channel(fake)
    async with serve_channel(telegram, Rasa()):
        output = telegram.get_output_channel()
        await output.send_response(sender_id("telegram", str(user)), {"text": OPERATOR_TEXT, "operator": "wangfang"})
        for foreign in (str(user), f"rest:{user}", f"web:{user}", f"wechat:{user}", "tg:", "tg:abc"):
            with pytest.raises(DeliveryFailed) as refused:
                await output.send_response(foreign, {"text": "这条不该发出", "operator": "wangfang"})
            assert "Telegram" in str(refused.value) and "送达" in str(refused.value)
    assert fake.sent_texts(user) == [OPERATOR_TEXT]


async def test_a_button_works_only_for_the_user_it_was_shown_to(fake: FakeTelegram) -> None:
    rasa, owner, other = Rasa(), new_user(), new_user()
    async with serve_channel(channel(fake), rasa) as url, httpx.AsyncClient() as client:
        await post(client, url, text_update(owner, "菜单"))
        (menu,) = await wait_for(fake, owner, 1)
        data = menu.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        # Another user's client sends the owner's callback_data, in the other user's own chat.
        await post(client, url, callback_update(other, data))
        (refused,) = await wait_for(fake, other, 1)
        await post(client, url, callback_update(owner, data, menu.result))
        await wait_for(fake, owner, 2)
    assert "按钮已失效" in refused.params["text"]
    assert rasa.texts_of(other) == []
    assert rasa.texts_of(owner) == ["菜单", PAYLOAD]


async def test_a_button_in_an_operator_reply_works_for_that_user(fake: FakeTelegram) -> None:
    rasa, user = Rasa(), new_user()
    telegram = channel(fake)
    async with serve_channel(telegram, rasa) as url, httpx.AsyncClient() as client:
        buttons = [{"title": "查询申请进度", "payload": PAYLOAD}]
        await telegram.get_output_channel().send_response(sender_id("telegram", str(user)),
                                                          {"text": OPERATOR_TEXT, "buttons": buttons})
        (reply,) = await wait_for(fake, user, 1)
        data = reply.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        await post(client, url, callback_update(user, data, reply.result))
        await wait_for(fake, user, 2)
    assert [(m.sender_id, m.text) for m in rasa.turns] == [(f"tg:{user}", PAYLOAD)]
