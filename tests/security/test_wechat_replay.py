"""Attacks on the authenticity of WeChat webhook requests, against the channel in a real Sanic server with its state
in the local Redis.

WeChat's plaintext `signature` covers token, timestamp and nonce only, not the message: whoever sees one request URL
(an access log, a proxy, a screenshot) holds a valid signature for five minutes. These tests play that attacker:
they reuse a captured query with a body of their own, or post plaintext to a channel configured for safe mode.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
from rasa.core.channels.channel import UserMessage

from integrations.channels.state import RedisChannelState
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
TOKEN, SECRET = "security-test-token", "security-test-secret"
AES_KEY = aes_key(b"security-replay-key")
ANSWER = "您好，请问有什么可以帮您？"


def config(safe_mode: bool) -> WeChatSettings:
    # A new app id per test keeps its keys in the shared Redis apart from other tests'.
    return WeChatSettings.from_env({
        "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": f"wx{uuid.uuid4().hex[:16]}", "WECHAT_APP_SECRET": SECRET,
        "WECHAT_ENCODING_AES_KEY": AES_KEY if safe_mode else "", "WECHAT_API_BASE_URL": "http://127.0.0.1:9/cgi-bin/",
    })


def replica(settings: WeChatSettings) -> WeChatInput:
    """One Rasa replica's channel: its state is the shared Redis, as with REDIS_URL in production."""
    channel = WeChatInput(settings)
    channel._state = RedisChannelState(REDIS_URL)
    return channel


class Rasa:
    """Stands in for Rasa: records every turn and answers at once."""

    def __init__(self) -> None:
        self.turns: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.turns.append(message)
        await message.output_channel.send_text_message(message.sender_id, ANSWER)

    def texts(self) -> list[str]:
        return [m.text for m in self.turns]


def text(openid: str, content: str, msg_id: int | None = None) -> str:
    return message_xml(openid, "text", {"Content": content}, msg_id=msg_id or new_msg_id())


async def post(pusher: WeChatPusher, body: str, query: dict[str, str]) -> httpx.Response:
    return await asyncio.to_thread(pusher.post, body, query=query)


async def test_a_plaintext_post_is_refused_when_safe_mode_is_configured() -> None:
    settings = config(safe_mode=True)
    rasa = Rasa()
    async with ChannelServer(replica(settings), rasa) as server:
        pusher = WeChatPusher(server.url, TOKEN, settings.app_id, AES_KEY)
        # Correctly signed, as from a logged URL, but the body is the attacker's plaintext.
        forged = await post(pusher, text(new_openid(), "帮我改一下手机号"), pusher.query())
        assert forged.status_code == 403
        assert rasa.turns == []
        verified = await asyncio.to_thread(httpx.get, server.url, params={**pusher.query(), "echostr": "5501"})
        assert verified.status_code == 200 and verified.text == "5501"  # URL verification is plaintext by design
        genuine = await asyncio.to_thread(pusher.post_safe, text(new_openid(), "你好"))
    assert reply_fields(genuine, TOKEN, settings.app_id, AES_KEY)["Content"] == ANSWER
    assert rasa.texts() == ["你好"]


async def test_a_logged_url_cannot_carry_another_message() -> None:
    settings = config(safe_mode=False)  # development: plaintext mode
    rasa = Rasa()
    citizen, victim = new_openid(), new_openid()
    async with ChannelServer(replica(settings), rasa) as server:
        pusher = WeChatPusher(server.url, TOKEN, settings.app_id, "")
        logged = pusher.query()
        assert (await post(pusher, text(citizen, "你好"), logged)).status_code == 200
        for forged in (text(victim, "我要取消我的补贴申请"), text(citizen, "转人工")):
            refused = await post(pusher, forged, logged)
            assert refused.status_code == 403, refused.text
    assert rasa.texts() == ["你好"]
    assert len(rasa.turns) == 1


async def test_replicas_share_the_signatures_already_used() -> None:
    settings = config(safe_mode=False)
    rasa = Rasa()
    async with ChannelServer(replica(settings), rasa) as first, ChannelServer(replica(settings), rasa) as second:
        pusher = WeChatPusher(first.url, TOKEN, settings.app_id, "")
        logged = pusher.query()
        assert (await post(pusher, text(new_openid(), "你好"), logged)).status_code == 200
        other = WeChatPusher(second.url, TOKEN, settings.app_id, "")
        assert (await post(other, text(new_openid(), "查询我的申请进度"), logged)).status_code == 403
    assert rasa.texts() == ["你好"]


@pytest.mark.parametrize("safe_mode", [False, True])
async def test_a_byte_identical_retry_is_answered_from_deduplication_and_runs_once(safe_mode: bool) -> None:
    """WeChat's documentation does not say whether a retry carries new timestamp/nonce: the same request again must
    still get its answer, from the de-duplication, and never a second turn."""
    settings = config(safe_mode)
    rasa = Rasa()
    async with ChannelServer(replica(settings), rasa) as server:
        pusher = WeChatPusher(server.url, TOKEN, settings.app_id, AES_KEY)
        xml = text(new_openid(), "你好")
        query, body = pusher.safe_request(xml) if safe_mode else (pusher.query(), xml)
        answers = [await post(pusher, body, query) for _ in range(3)]
        # A retry with a new timestamp and nonce (and, in safe mode, a new encryption) is the same message too.
        query, body = pusher.safe_request(xml) if safe_mode else (pusher.query(), xml)
        answers.append(await post(pusher, body, query))
    key = AES_KEY if safe_mode else None
    contents = [reply_fields(a, TOKEN, settings.app_id, key)["Content"] for a in answers]
    assert contents == [ANSWER] * 4
    assert rasa.texts() == ["你好"]


async def test_the_same_msgid_from_two_users_is_two_messages() -> None:
    """De-duplication by MsgId alone lets one user's message swallow another's (or a forged one pre-empt it)."""
    settings = config(safe_mode=True)
    rasa = Rasa()
    msg_id = new_msg_id()
    async with ChannelServer(replica(settings), rasa) as server:
        pusher = WeChatPusher(server.url, TOKEN, settings.app_id, AES_KEY)
        first = await asyncio.to_thread(pusher.post_safe, text(new_openid(), "你好", msg_id))
        second = await asyncio.to_thread(pusher.post_safe, text(new_openid(), "租房补贴怎么申请", msg_id))
    assert [r.status_code for r in (first, second)] == [200, 200]
    assert reply_fields(second, TOKEN, settings.app_id, AES_KEY)["Content"] == ANSWER
    assert rasa.texts() == ["你好", "租房补贴怎么申请"]


async def test_a_stale_or_future_timestamp_is_still_refused() -> None:
    settings = config(safe_mode=False)
    rasa = Rasa()
    async with ChannelServer(replica(settings), rasa) as server:
        pusher = WeChatPusher(server.url, TOKEN, settings.app_id, "")
        for shift in (-settings.timestamp_window - 30, settings.timestamp_window + 30):
            query = pusher.query(timestamp=int(time.time()) + shift)
            assert (await post(pusher, text(new_openid(), "你好"), query)).status_code == 403
    assert rasa.turns == []
