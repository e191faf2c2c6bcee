"""The WeChat channel in the running stack (Rasa, action server, sandbox, Redis), fed like WeChat's servers feed
it, with the local fake of api.weixin.qq.com receiving customer-service messages."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from integrations.channels.common import SLOW_DOWN_TEXT, UNSUPPORTED_TEXT
from integrations.channels.wechat.replies import LETTER_HINT_TEXT
from integrations.channels.wechat.routing import VOICE_NOT_RECOGNISED_TEXT, WELCOME_TEXT
from tests.channels.fake_wechat import (
    FakeWeChatApi,
    WeChatPusher,
    message_xml,
    new_msg_id,
    new_openid,
    reply_fields,
)
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture(scope="session")
def fake_wechat(channel_env: dict[str, str]) -> Iterator[FakeWeChatApi]:
    port = urlparse(channel_env["WECHAT_API_BASE_URL"]).port
    fake = FakeWeChatApi(channel_env["WECHAT_APP_ID"], channel_env["WECHAT_APP_SECRET"], port).start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def stack(fake_wechat: FakeWeChatApi, channel_stack: Stack) -> Stack:
    return channel_stack


@pytest.fixture
def wechat(stack: Stack, channel_env: dict[str, str]) -> WeChatPusher:
    return WeChatPusher(f"{stack.rasa_url}/webhooks/wechat/", channel_env["WECHAT_TOKEN"],
                        channel_env["WECHAT_APP_ID"], channel_env["WECHAT_ENCODING_AES_KEY"])


def text(openid: str, content: str, msg_id: int | None = None) -> str:
    return message_xml(openid, "text", {"Content": content}, msg_id=msg_id or new_msg_id())


def event(openid: str, name: str, key: str | None = None) -> str:
    return message_xml(openid, "event", {"Event": name, **({"EventKey": key} if key is not None else {})})


def answer(wechat: WeChatPusher, response: httpx.Response) -> str:
    """The passive reply's text, decrypted (the stack runs in safe mode, as production must)."""
    assert response.status_code == 200, response.text
    return reply_fields(response, wechat.token, wechat.app_id, wechat.aes_key)["Content"]


def ask(wechat: WeChatPusher, xml: str) -> str:
    """Post a message as WeChat does in safe mode (signed, encrypted) and return the passive reply's text."""
    return answer(wechat, wechat.post_safe(xml))


def tracker(stack: Stack, openid: str) -> dict:
    """The conversation of a WeChat user: Rasa knows it as wechat:<OpenID> (integrations/channels/senders.py)."""
    return stack.api("GET", f"/conversations/wechat:{openid}/tracker").json()


def user_texts(stack: Stack, openid: str) -> list[str]:
    return [e.get("text") for e in tracker(stack, openid).get("events", []) if e["event"] == "user"]


def last_intent(stack: Stack, openid: str) -> str:
    return tracker(stack, openid)["latest_message"]["intent"]["name"]


@contextlib.contextmanager
def slow_actions(stack: Stack, seconds: float) -> Iterator[None]:
    """Every custom action takes `seconds` longer: the action server is paused (SIGSTOP) for that long."""
    group = os.getpgid(stack.processes["actions"].pid)
    os.killpg(group, signal.SIGSTOP)
    timer = threading.Timer(seconds, os.killpg, (group, signal.SIGCONT))
    timer.start()
    try:
        yield
    finally:
        timer.join()
        os.killpg(group, signal.SIGCONT)


# ---------------------------------------------------------------- verification and refused requests


def test_url_verification_echoes_echostr_only_when_signed(wechat: WeChatPusher) -> None:
    good = httpx.get(wechat.webhook_url, params={**wechat.query(), "echostr": "8273645501"})
    assert good.status_code == 200 and good.text == "8273645501"
    forged = httpx.get(wechat.webhook_url, params={**wechat.query(), "signature": "0" * 40, "echostr": "1"})
    assert forged.status_code == 403 and "1" not in forged.text


def test_forged_stale_and_tampered_messages_are_refused_and_no_turn_runs(stack: Stack, wechat: WeChatPusher) -> None:
    openid = new_openid()
    forged = {**wechat.query(), "signature": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}
    assert wechat.post(text(openid, "你好"), query=forged).status_code == 403
    stale = wechat.query(timestamp=int(time.time()) - 3600)  # correctly signed, an hour old: a replay
    assert wechat.post(text(openid, "你好"), query=stale).status_code == 403
    assert wechat.post_safe(text(openid, "你好"), tamper=True).status_code == 403
    assert wechat.post(text(openid, "你好")).status_code == 403  # correctly signed plaintext: refused in safe mode
    assert user_texts(stack, openid) == []


def test_hostile_bodies_get_4xx_and_the_next_message_is_answered(stack: Stack, wechat: WeChatPusher) -> None:
    openid = new_openid()
    entities = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    laughs = (
        f'<?xml version="1.0"?><!DOCTYPE xml [{"".join(entities)}]>'
        f"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"
    )
    bodies = {
        "malformed": text(openid, "你好")[:-10],
        "billion laughs": laughs,
        "1 MB": text(openid, "租" * 350_000),
        "empty": "",
        "not WeChat": "<html><body>hello</body></html>",
    }
    for name, body in bodies.items():
        plaintext, encrypted = wechat.post(body).status_code, wechat.post_safe(body).status_code
        assert 400 <= plaintext < 500 and 400 <= encrypted < 500, f"{name}: {plaintext}, {encrypted}"
    assert user_texts(stack, openid) == []
    assert "您好" in ask(wechat, text(openid, "你好"))


# ---------------------------------------------------------------- safe mode


def test_an_encrypted_question_is_answered_encrypted(wechat: WeChatPusher, channel_env: dict[str, str]) -> None:
    openid = new_openid()
    response = wechat.post_safe(text(openid, "现在去日本入境有什么管控措施"))
    assert response.status_code == 200 and "日本" not in response.text
    reply = reply_fields(response, channel_env["WECHAT_TOKEN"], channel_env["WECHAT_APP_ID"],
                         channel_env["WECHAT_ENCODING_AES_KEY"])
    assert reply["ToUserName"] == openid
    assert "日本" in reply["Content"] and "入境" in reply["Content"], reply["Content"]


def test_a_message_encrypted_with_the_previous_key_is_accepted(wechat: WeChatPusher,
                                                               channel_env: dict[str, str]) -> None:
    previous = channel_env["WECHAT_PREVIOUS_ENCODING_AES_KEY"]
    response = wechat.post_safe(text(new_openid(), "你好"), key=previous)
    reply = reply_fields(response, channel_env["WECHAT_TOKEN"], channel_env["WECHAT_APP_ID"], previous)
    assert "您好" in reply["Content"]


# ---------------------------------------------------------------- the 5-second rule


def test_the_same_message_delivered_three_times_runs_one_turn(stack: Stack, wechat: WeChatPusher,
                                                              fake_wechat: FakeWeChatApi) -> None:
    openid = new_openid()
    xml = text(openid, "我想申请租房补贴", msg_id=new_msg_id())
    first = ask(wechat, xml)
    assert "姓名" in first, first
    for _ in range(2):  # WeChat's retries: the same answer again (it did not get it), or "success"
        retry = wechat.post_safe(xml)
        assert retry.text == "success" or answer(wechat, retry) == first
    time.sleep(0.5)
    assert user_texts(stack, openid) == ["我想申请租房补贴"]
    assert fake_wechat.attempts_to(openid) == 0


def test_a_slow_turn_answers_success_in_time_and_then_one_customer_service_message(
    stack: Stack, wechat: WeChatPusher, fake_wechat: FakeWeChatApi
) -> None:
    openid = new_openid()
    xml = text(openid, "日本入境有什么管控措施", msg_id=new_msg_id())
    with slow_actions(stack, 6.5):
        started = time.monotonic()
        first = wechat.post_safe(xml)
        assert first.text == "success" and time.monotonic() - started < 5
        retry = wechat.post_safe(xml)  # WeChat retries when it gets nothing in 5 s; here it got "success" anyway
        assert retry.text == "success"
    texts = fake_wechat.wait_for_texts(openid, 1, timeout=30)
    assert len(texts) == 1 and "日本" in texts[0], texts
    time.sleep(1.0)
    assert fake_wechat.texts_to(openid) == texts  # the request format was checked by the fake
    assert user_texts(stack, openid) == ["日本入境有什么管控措施"]


@pytest.mark.parametrize("errcode", [45015, 45047])
def test_customer_service_limits_are_logged_and_the_channel_keeps_serving(
    stack: Stack, wechat: WeChatPusher, fake_wechat: FakeWeChatApi, errcode: int
) -> None:
    openid = new_openid()
    fake_wechat.fail_next(openid, errcode)
    with slow_actions(stack, 6.0):
        assert wechat.post_safe(text(openid, "日本入境有什么管控措施")).text == "success"
    deadline = time.monotonic() + 30
    while fake_wechat.attempts_to(openid) < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.5)
    assert fake_wechat.attempts_to(openid) == 1 and fake_wechat.texts_to(openid) == []  # tried once, not retried
    log = (stack.var_dir / "rasa.log").read_text("utf-8", errors="replace")
    assert f"errcode {errcode}" in log and openid not in log
    assert "您好" in ask(wechat, text(openid, "你好"))


# ---------------------------------------------------------------- messages and events


def test_subscribing_gets_a_welcome_with_what_the_assistant_can_do(stack: Stack, wechat: WeChatPusher) -> None:
    openid = new_openid()
    welcome = ask(wechat, event(openid, "subscribe"))
    assert welcome.startswith(WELCOME_TEXT) and "申请租房补贴" in welcome and "入境" in welcome, welcome
    # utter_greet numbers its own list of services, so its buttons are lettered
    assert welcome.endswith(
        "回复字母选择：\nA. 申请租房补贴\nB. 我的健康码\nC. 企业复工申报\nD. 出入境政策查询\nE. 校园招聘会"
    ), welcome
    assert ask(wechat, text(openid, "1")) == LETTER_HINT_TEXT  # list item or button? asked, not guessed
    asked = ask(wechat, text(openid, "D"))
    assert "哪个国家或地区" in asked, asked
    assert user_texts(stack, openid) == ["/greet", "/entry_control_query"]
    assert "日本" in ask(wechat, text(openid, "日本"))


def test_buttons_become_a_numbered_menu_and_a_number_picks_the_button(stack: Stack, wechat: WeChatPusher) -> None:
    openid = new_openid()
    refused = ask(wechat, text(openid, "给我讲个笑话吧"))
    assert refused.endswith("回复数字选择：\n1. 看看能办什么"), refused
    services = ask(wechat, text(openid, "1"))
    assert last_intent(stack, openid) == "help" and "租房补贴" in services
    assert user_texts(stack, openid) == ["给我讲个笑话吧", "/help"]
    ask(wechat, text(openid, "讲个笑话"))
    ask(wechat, text(openid, "日本入境政策"))  # an answer without buttons: the old menu is gone
    ask(wechat, text(openid, "1"))
    assert user_texts(stack, openid)[-1] == "1"


def test_a_menu_click_runs_the_service_it_names(stack: Stack, wechat: WeChatPusher) -> None:
    openid = new_openid()
    asked = ask(wechat, event(openid, "CLICK", "ENTRY_CONTROL_QUERY"))
    assert "哪个国家或地区" in asked, asked
    assert "日本" in ask(wechat, text(openid, "日本"))


def test_voice_location_media_and_unsubscribe(stack: Stack, wechat: WeChatPusher) -> None:
    openid = new_openid()
    heard = message_xml(openid, "voice", {"MediaId": "m1", "Format": "amr", "Recognition": "日本入境有什么要求。"},
                        msg_id=new_msg_id())
    assert "日本" in ask(wechat, heard)
    unheard = message_xml(openid, "voice", {"MediaId": "m2", "Format": "amr"}, msg_id=new_msg_id())
    assert ask(wechat, unheard) == VOICE_NOT_RECOGNISED_TEXT
    picture = message_xml(openid, "image", {"PicUrl": "http://example.org/a.jpg", "MediaId": "m3"},
                          msg_id=new_msg_id())
    assert ask(wechat, picture) == UNSUPPORTED_TEXT
    location = message_xml(openid, "location", {"Location_X": 30.2741, "Location_Y": 120.1551, "Scale": 15,
                                                "Label": "浙江省杭州市西湖区文三路"}, msg_id=new_msg_id())
    assert "杭州" in ask(wechat, location)
    before = user_texts(stack, openid)
    gone = wechat.post_safe(event(openid, "unsubscribe"))
    assert gone.status_code == 200 and gone.text == "success"
    assert user_texts(stack, openid) == before


def test_a_flooding_user_is_slowed_down_and_others_are_not(stack: Stack, wechat: WeChatPusher) -> None:
    flooder, other = new_openid(), new_openid()
    picture = {"PicUrl": "http://example.org/a.jpg", "MediaId": "m"}
    replies = [ask(wechat, message_xml(flooder, "image", picture, msg_id=new_msg_id())) for _ in range(12)]
    assert replies == [UNSUPPORTED_TEXT] * 12  # CHANNEL_RATE_LIMIT=12/60 in the test stack
    assert ask(wechat, text(flooder, "你好")) == SLOW_DOWN_TEXT
    assert user_texts(stack, flooder) == []  # slowed down before Rasa
    assert "您好" in ask(wechat, text(other, "你好"))
