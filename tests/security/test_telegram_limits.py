"""Size and de-duplication attacks on the Telegram webhook: over-long texts, huge bodies, pre-claimed update ids."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Iterator

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from integrations.channels.common import MAX_MESSAGE_CHARS, TOO_LONG_TEXT
from integrations.channels.state import RedisChannelState
from integrations.channels.telegram.inbound import SECRET_HEADER, TelegramInput
from integrations.channels.telegram.settings import TelegramSettings
from tests.channels.fake_telegram import FakeTelegram, next_update_id, text_update
from tests.e2e.stack import free_port
from tests.sanic_server import serve_channel

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/12"
TOKEN = "987654321:SECURITY-limits-token"
SECRET = secrets.token_urlsafe(32)


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
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.texts.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "收到")


def new_user() -> int:
    return random.randint(7_000_000_000, 7_999_999_999)


async def post(client: httpx.AsyncClient, url: str, update: dict) -> httpx.Response:
    return await client.post(f"{url}/webhook", json=update, headers={SECRET_HEADER: SECRET})


async def test_an_over_long_text_gets_the_polite_notice_and_no_turn(fake: FakeTelegram) -> None:
    rasa, user = Rasa(), new_user()
    async with serve_channel(channel(fake), rasa) as url, httpx.AsyncClient() as client:
        huge = await post(client, url, text_update(user, "租" * 100_000))
        assert huge.status_code == 413  # 300 KB of JSON: the update size limit refuses it
        for length in (100_000, MAX_MESSAGE_CHARS + 1, MAX_MESSAGE_CHARS):  # 100 KB of ASCII fits the limit
            assert (await post(client, url, text_update(user, "a" * length))).status_code == 200
        await asyncio.to_thread(fake.wait_for_messages, user, 3, 20)
    assert fake.sent_texts(user) == [TOO_LONG_TEXT, TOO_LONG_TEXT, "收到"]
    assert rasa.texts == ["a" * MAX_MESSAGE_CHARS]


async def test_a_huge_announced_body_is_refused_before_it_is_received(fake: FakeTelegram) -> None:
    async with serve_channel(channel(fake), Rasa()) as url:
        port = int(url.split(":")[2].split("/")[0])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(f"POST /webhooks/telegram/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n{SECRET_HEADER}: {SECRET}\r\n"
                     f"Content-Type: application/json\r\nContent-Length: {50_000_000}\r\n\r\n{{".encode())
        await writer.drain()
        # 50 MB announced, one byte sent: the answer must not wait for the rest.
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        writer.close()
    assert status_line.split()[1] == b"413"


async def test_one_users_update_id_cannot_swallow_another_users_update(fake: FakeTelegram) -> None:
    """update_ids are sequential, so easy to predict: a de-duplication key of the id alone lets whoever gets an
    update in first (a second bot on the same Redis, or a forged update) silence a citizen's message."""
    rasa, first, second = Rasa(), new_user(), new_user()
    update_id = next_update_id()
    async with serve_channel(channel(fake), rasa) as url, httpx.AsyncClient() as client:
        assert (await post(client, url, text_update(first, "你好", update_id))).status_code == 200
        assert (await post(client, url, text_update(second, "租房补贴", update_id))).status_code == 200
        for user in (first, second):
            await asyncio.to_thread(fake.wait_for_messages, user, 1, 20)
    assert sorted(rasa.texts) == sorted(["你好", "租房补贴"])
