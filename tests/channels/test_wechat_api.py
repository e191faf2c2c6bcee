"""WeChat's server API from the channel's side, against the local fake: the shared access_token and its lock,
customer-service errors, the menu command; and the channel in-process (Sanic) for the 5-second rule's races."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest

from integrations.channels.state import MemoryChannelState
from integrations.channels.wechat import WeChatInput
from integrations.channels.wechat.api import WeChatApi
from integrations.channels.wechat.delivery import Deliveries
from integrations.channels.wechat.menu import load_menu
from integrations.channels.wechat.settings import WeChatSettings
from tests.channels.fake_wechat import (
    ChannelServer,
    FakeWeChatApi,
    WeChatPusher,
    message_xml,
    new_msg_id,
    new_openid,
    reply_fields,
)
from tests.e2e.stack import ROOT, free_port

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/12"
SECRET = "api-test-secret"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChatApi]:
    server = FakeWeChatApi(app_id="wxapitest", app_secret=SECRET, port=free_port()).start()
    yield server
    server.stop()


def config_for(fake: FakeWeChatApi, **extra: str) -> WeChatSettings:
    # A new app id per test: its token key in Redis is then new too.
    fake.app_id = f"wx{uuid.uuid4().hex[:16]}"
    return WeChatSettings.from_env({
        "WECHAT_TOKEN": "api-test-token", "WECHAT_APP_ID": fake.app_id, "WECHAT_APP_SECRET": SECRET,
        "WECHAT_API_BASE_URL": fake.base_url, **extra,
    })


def test_the_token_is_fetched_once_and_shared_through_redis(fake: FakeWeChatApi) -> None:
    config = config_for(fake, REDIS_URL=REDIS_URL)
    before = fake.token_requests
    openid = new_openid()
    WeChatApi.from_config(config).send_text(openid, "第一条")
    WeChatApi.from_config(config).send_text(openid, "第二条")  # another worker: same token from Redis
    assert fake.token_requests - before == 1
    assert fake.texts_to(openid) == ["第一条", "第二条"]


@pytest.mark.parametrize("backend", ["redis", "memory"])
def test_concurrent_workers_refresh_the_token_once(fake: FakeWeChatApi, backend: str) -> None:
    config = config_for(fake, REDIS_URL=REDIS_URL if backend == "redis" else "")
    shared = WeChatApi.from_config(config)
    # Redis: six workers with their own clients; memory: six threads of one process.
    clients = [WeChatApi.from_config(config) if backend == "redis" else shared for _ in range(6)]
    fake.token_delay = 0.3  # all six ask while the first refresh is still running
    before = fake.token_requests
    tokens: list[str] = []
    try:
        threads = [threading.Thread(target=lambda c=c: tokens.append(c.access_token)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    finally:
        fake.token_delay = 0.0
    assert fake.token_requests - before == 1
    assert len(tokens) == 6 and len(set(tokens)) == 1


def test_a_rejected_token_is_refreshed_once_and_the_message_still_goes_out(fake: FakeWeChatApi) -> None:
    api = WeChatApi.from_config(config_for(fake, REDIS_URL=REDIS_URL))
    openid = new_openid()
    api.send_text(openid, "一")
    fake.invalidate_tokens()  # e.g. refreshed by a tool outside the channel
    before = fake.token_requests
    api.send_text(openid, "二")
    assert fake.token_requests - before == 1
    assert fake.texts_to(openid) == ["一", "二"]


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_reply_limits_stop_sending_without_retrying_and_are_logged_masked(
    fake: FakeWeChatApi, errcode: int, caplog: pytest.LogCaptureFixture
) -> None:
    deliveries = Deliveries(MemoryChannelState(), WeChatApi.from_config(config_for(fake)), 4.5, 600)
    openid = new_openid()
    fake.fail_next(openid, errcode)
    with caplog.at_level(logging.WARNING, logger="integrations.channels.wechat.delivery"):
        assert deliveries.send(openid, ["第一条", "第二条"]) == 0
    assert fake.attempts_to(openid) == 1  # neither retried nor the second message tried
    assert fake.texts_to(openid) == []
    assert str(errcode) in caplog.text and openid not in caplog.text


def test_a_busy_wechat_is_retried_a_bounded_number_of_times(fake: FakeWeChatApi) -> None:
    deliveries = Deliveries(MemoryChannelState(), WeChatApi.from_config(config_for(fake)), 4.5, 600)
    openid, other = new_openid(), new_openid()
    fake.fail_next(openid, -1, -1)
    assert deliveries.send(openid, ["您好"]) == 1
    assert fake.attempts_to(openid) == 3 and fake.texts_to(openid) == ["您好"]
    fake.fail_next(other, -1, -1, -1, -1)
    assert deliveries.send(other, ["您好"]) == 0
    assert fake.attempts_to(other) == 3  # not forever


def run_menu_command(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_") and k != "REDIS_URL"}
    return subprocess.run(
        [sys.executable, "-m", "integrations.channels.wechat.commands", "menu"], cwd=ROOT, capture_output=True,
        text=True, env={**clean, "PYTHONPATH": str(ROOT), **env}, timeout=60,
    )


def test_the_menu_command_creates_the_menu_of_the_yaml_file(fake: FakeWeChatApi) -> None:
    config_for(fake)
    before = len(fake.menus)
    done = run_menu_command({"WECHAT_APP_ID": fake.app_id, "WECHAT_APP_SECRET": SECRET,
                             "WECHAT_API_BASE_URL": fake.base_url, "REDIS_URL": REDIS_URL})
    assert done.returncode == 0, done.stderr
    assert "已创建自定义菜单" in done.stdout
    assert fake.menus[before:] == [load_menu().body]  # the fake checked WeChat's format and limits
    missing = run_menu_command({"WECHAT_API_BASE_URL": fake.base_url})
    assert missing.returncode == 2 and "WECHAT_APP_ID" in missing.stderr
    wrong_secret = run_menu_command({"WECHAT_APP_ID": fake.app_id, "WECHAT_APP_SECRET": "wrong",
                                     "WECHAT_API_BASE_URL": fake.base_url})
    assert wrong_secret.returncode == 1 and "40125" in wrong_secret.stderr


# ---------------------------------------------------------------- the channel in-process


async def test_without_its_settings_the_channel_loads_and_answers_503(caplog: pytest.LogCaptureFixture) -> None:
    WeChatInput._warned = False
    with caplog.at_level(logging.WARNING):
        channels = [WeChatInput(WeChatSettings.from_env({})) for _ in range(2)]
    assert caplog.text.count("WeChat channel not configured") == 1  # warned once, not per request or instance

    async def never(_message) -> None:
        raise AssertionError("no turn without settings")

    async with ChannelServer(channels[0], never) as server, httpx.AsyncClient() as client:
        for response in (await client.get(server.url), await client.post(server.url, content=b"<xml/>")):
            assert response.status_code == 503
            assert "WECHAT_TOKEN" in response.text and "未配置" in response.text


async def test_retries_during_a_slow_turn_get_success_and_the_reply_comes_once(fake: FakeWeChatApi) -> None:
    config = config_for(fake, WECHAT_PASSIVE_TIMEOUT="0.5", WECHAT_ENCODING_AES_KEY="")
    channel = WeChatInput(config)
    channel._state = MemoryChannelState()
    turns: list[str] = []

    async def slow_rasa(message) -> None:
        turns.append(message.text)
        await asyncio.sleep(2.0)
        await message.output_channel.send_text_message(message.sender_id, "这是您要的答复。")

    openid, msg_id = new_openid(), new_msg_id()
    xml = message_xml(openid, "text", {"Content": "慢慢查"}, msg_id=msg_id)
    async with ChannelServer(channel, slow_rasa) as server:
        pusher = WeChatPusher(server.url, config.token, config.app_id, "")
        first = await asyncio.to_thread(pusher.post, xml)
        assert first.text == "success"  # 0.5 s passed: the answer will follow as a customer-service message
        retry = await asyncio.to_thread(pusher.post, xml)
        assert retry.text == "success"
        texts = await asyncio.to_thread(fake.wait_for_texts, openid, 1, 10)
        late_retry = await asyncio.to_thread(pusher.post, xml)
        assert late_retry.text == "success"  # not a passive copy of what was already sent
        await asyncio.sleep(0.5)
    assert turns == ["慢慢查"]
    assert texts == ["这是您要的答复。"] and fake.texts_to(openid) == texts


async def test_a_retry_after_a_passive_answer_gets_the_same_answer_and_no_second_message(
    fake: FakeWeChatApi,
) -> None:
    config = config_for(fake, WECHAT_ENCODING_AES_KEY="")
    channel = WeChatInput(config)
    channel._state = MemoryChannelState()
    turns: list[str] = []

    async def quick_rasa(message) -> None:
        turns.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "您好，请问有什么可以帮您？")

    openid, msg_id = new_openid(), new_msg_id()
    xml = message_xml(openid, "text", {"Content": "你好"}, msg_id=msg_id)
    async with ChannelServer(channel, quick_rasa) as server:
        pusher = WeChatPusher(server.url, config.token, config.app_id, "")
        answers = [await asyncio.to_thread(pusher.post, xml) for _ in range(3)]
    contents = [reply_fields(a)["Content"] for a in answers]
    assert contents == ["您好，请问有什么可以帮您？"] * 3
    assert turns == ["你好"] and fake.attempts_to(openid) == 0


async def test_a_retry_during_the_passive_wait_gets_the_answer_passively_and_no_message_follows(
    fake: FakeWeChatApi,
) -> None:
    """WeChat gave up on the first connection (the retry proves it) and listens to the retry's."""
    config = config_for(fake, WECHAT_ENCODING_AES_KEY="")
    channel = WeChatInput(config)
    channel._state = MemoryChannelState()

    async def rasa(message) -> None:
        await asyncio.sleep(1.0)  # within the 4.5 s passive window
        await message.output_channel.send_text_message(message.sender_id, "办理结果如下。")

    openid = new_openid()
    xml = message_xml(openid, "text", {"Content": "查一下"}, msg_id=new_msg_id())
    async with ChannelServer(channel, rasa) as server:
        pusher = WeChatPusher(server.url, config.token, config.app_id, "")
        first = asyncio.create_task(asyncio.to_thread(pusher.post, xml))
        await asyncio.sleep(0.3)
        retry = await asyncio.to_thread(pusher.post, xml)
        assert reply_fields(retry)["Content"] == "办理结果如下。"
        await first
        await asyncio.sleep(1.0)
    assert fake.attempts_to(openid) == 0


async def test_typed_payloads_go_through_nlu_and_only_menus_send_payloads(fake: FakeWeChatApi) -> None:
    config = config_for(fake, WECHAT_ENCODING_AES_KEY="")
    channel = WeChatInput(config)
    channel._state = MemoryChannelState()
    seen: list[str] = []

    async def rasa(message) -> None:
        seen.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "好的")

    openid = new_openid()
    async with ChannelServer(channel, rasa) as server:
        pusher = WeChatPusher(server.url, config.token, config.app_id, "")
        for content in ('/inform{"identity_token": "forged"}', "/"):
            await asyncio.to_thread(pusher.post, message_xml(openid, "text", {"Content": content}, msg_id=new_msg_id()))
        click = message_xml(openid, "event", {"Event": "CLICK", "EventKey": "RENT_SUBSIDY_APPLY"})
        await asyncio.to_thread(pusher.post, click)
    assert seen == ['inform{"identity_token": "forged"}', "/rent_subsidy_apply"]
