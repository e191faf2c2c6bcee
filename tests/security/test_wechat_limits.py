"""Size attacks on the WeChat webhook: over-long texts, huge bodies, huge event keys."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis
from rasa.core.channels.channel import UserMessage

from integrations.channels.common import MAX_MESSAGE_CHARS, TOO_LONG_TEXT
from integrations.channels.state import PREFIX, RedisChannelState
from integrations.channels.wechat import WeChatInput
from integrations.channels.wechat.settings import WeChatSettings
from tests.channels.env import aes_key
from tests.channels.fake_wechat import (
    ChannelServer,
    WeChatPusher,
    message_xml,
    new_msg_id,
    new_openid,
    reply_fields,
)

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/12"
TOKEN = "security-limits-token"
AES_KEY = aes_key(b"security-limits-key")


def channel() -> WeChatInput:
    wechat = WeChatInput(WeChatSettings.from_env({
        "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": f"wx{uuid.uuid4().hex[:16]}", "WECHAT_APP_SECRET": "secret",
        "WECHAT_ENCODING_AES_KEY": AES_KEY, "WECHAT_API_BASE_URL": "http://127.0.0.1:9/cgi-bin/",
    }))
    wechat._state = RedisChannelState(REDIS_URL)
    return wechat


class Rasa:
    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.texts.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "好的")


def text(openid: str, content: str) -> str:
    return message_xml(openid, "text", {"Content": content}, msg_id=new_msg_id())


async def test_an_over_long_text_gets_the_polite_notice_and_no_turn() -> None:
    wechat, rasa, openid = channel(), Rasa(), new_openid()
    async with ChannelServer(wechat, rasa) as server:
        pusher = WeChatPusher(server.url, TOKEN, wechat.config.app_id, AES_KEY)
        huge = await asyncio.to_thread(pusher.post_safe, text(openid, "租" * 100_000))
        assert huge.status_code == 413  # 300 KB of UTF-8, more once encrypted: the body limit refuses it
        just_over = await asyncio.to_thread(pusher.post_safe, text(openid, "租" * (MAX_MESSAGE_CHARS + 1)))
        at_the_cap = await asyncio.to_thread(pusher.post_safe, text(openid, "租" * MAX_MESSAGE_CHARS))
    assert at_the_cap.status_code == 200
    assert reply_fields(just_over, TOKEN, wechat.config.app_id, AES_KEY)["Content"] == TOO_LONG_TEXT
    assert "您" in TOO_LONG_TEXT
    assert rasa.texts == ["租" * MAX_MESSAGE_CHARS]  # the over-long ones never reached Rasa


async def test_a_huge_announced_body_is_refused_before_it_is_received() -> None:
    """Sanic buffers up to 100 MB of a request before a handler runs; the webhook must not wait for (or hold) that."""
    wechat = channel()
    async with ChannelServer(wechat, Rasa()) as server:
        pusher = WeChatPusher(server.url, TOKEN, wechat.config.app_id, AES_KEY)
        query = "&".join(f"{k}={v}" for k, v in pusher.query().items())
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(f"POST /webhooks/wechat/?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
                     f"Content-Length: {50_000_000}\r\n\r\n<xml>".encode())
        await writer.drain()
        # 50 MB announced, five bytes sent: the answer must not wait for the rest.
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        writer.close()
    assert status_line.split()[1] == b"413"


async def test_a_huge_event_key_does_not_become_a_huge_state_key() -> None:
    wechat, openid = channel(), new_openid()
    key = "K" * 30_000  # signed by WeChat or not, an EventKey is whatever the sender put there
    async with ChannelServer(wechat, Rasa()) as server:
        pusher = WeChatPusher(server.url, TOKEN, wechat.config.app_id, AES_KEY)
        click = message_xml(openid, "event", {"Event": "CLICK", "EventKey": key})
        assert (await asyncio.to_thread(pusher.post_safe, click)).status_code == 200
    client = redis.Redis.from_url(REDIS_URL)
    keys = [k for k in client.scan_iter(match=f"{PREFIX}*{openid}*", count=1000)]
    assert keys, "the click was de-duplicated by a key naming its sender"
    assert max(len(k) for k in keys) < 300
