"""The Telegram channel on the real stack (Rasa server, action server, sandbox, Redis), with the fake Bot API.

Updates are posted to /webhooks/telegram/webhook as Telegram would; the replies are what the channel sent to the
fake's sendMessage. To know a chat is finished without sleeping, a test often sends a last "sentinel" message:
the channel handles a chat's updates in update_id order, so once the sentinel's reply is there, every earlier
update of that chat has been handled.
"""

from __future__ import annotations

import concurrent.futures
import json
import random
import time
from typing import Any

import httpx
import pytest

from integrations.channels.common import SLOW_DOWN_TEXT, UNSUPPORTED_TEXT
from integrations.channels.telegram.handler import EXPIRED_BUTTON_TEXT, UNKNOWN_COMMAND_TEXT
from integrations.channels.telegram.inbound import SECRET_HEADER
from tests.channels.fake_telegram import (
    Call,
    FakeTelegram,
    callback_update,
    fake_telegram_for,
    group_text_update,
    next_update_id,
    sticker_update,
    text_update,
    voice_update,
)
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

THANKS = "不客气"  # utter_thank
USED_USER_IDS: list[int] = []


@pytest.fixture(scope="session")
def fake(channel_env: dict[str, str]) -> FakeTelegram:
    return fake_telegram_for(channel_env["TELEGRAM_API_BASE_URL"], channel_env["TELEGRAM_BOT_TOKEN"])


@pytest.fixture(scope="session")
def stack(fake: FakeTelegram, channel_stack: Stack) -> Stack:
    return channel_stack  # the fake is up before the Rasa server starts and calls getMe


@pytest.fixture(scope="session")
def secret(channel_env: dict[str, str]) -> str:
    return channel_env["TELEGRAM_SECRET_TOKEN"]


def new_user() -> int:
    user_id = random.randint(1_000_000_000, 1_999_999_999)
    USED_USER_IDS.append(user_id)
    return user_id


def post(stack: Stack, update: Any, secret: str | None, **kwargs: Any) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    if isinstance(update, dict):
        kwargs["json"] = update
    else:
        kwargs["content"] = update
    return httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", headers=headers, timeout=10, **kwargs)


def post_concurrently(stack: Stack, updates: list[dict], secret: str) -> list[httpx.Response]:
    with concurrent.futures.ThreadPoolExecutor(len(updates)) as pool:
        return list(pool.map(lambda u: post(stack, u, secret), updates))


def tracker(stack: Stack, user_id: int) -> dict:
    """The conversation of a Telegram user: Rasa knows it as tg:<user id> (integrations/channels/senders.py)."""
    return stack.api("GET", f"/conversations/tg:{user_id}/tracker").json()


def user_turns(stack: Stack, user_id: int) -> list[dict]:
    return [e for e in tracker(stack, user_id).get("events") or [] if e["event"] == "user"]


def intents(stack: Stack, user_id: int) -> list[str]:
    return [e["parse_data"]["intent"]["name"] for e in user_turns(stack, user_id)]


def wait_for_text(fake: FakeTelegram, chat_id: int, part: str, timeout: float = 30) -> Call:
    """The first sendMessage to the chat containing `part`."""
    return fake.wait_for(lambda: next((c for c in fake.calls_of("sendMessage", chat_id)
                                       if part in c.params["text"]), None), timeout)


def keyboard(call: Call) -> dict[str, str]:
    """Button title → callback_data of a sent message."""
    rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


def press(stack: Stack, secret: str, user_id: int, message: Call, title_part: str) -> dict:
    data = next(d for title, d in keyboard(message).items() if title_part in title)
    update = callback_update(user_id, data, message.result)
    assert post(stack, update, secret).status_code == 200
    return update


# -- authenticity, de-duplication ---------------------------------------------------------------------


def test_only_updates_with_the_secret_token_run_a_turn(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    accepted, unsigned, forged = new_user(), new_user(), new_user()
    assert post(stack, text_update(accepted, "你好"), secret).status_code == 200
    assert post(stack, text_update(unsigned, "你好"), None).status_code == 403
    wrong_last = secret[:-1] + ("x" if secret[-1] != "x" else "y")
    assert post(stack, text_update(forged, "你好"), wrong_last).status_code == 403
    assert post(stack, text_update(forged, "你好"), "").status_code == 403
    wait_for_text(fake, accepted, "政务服务助手")
    for user_id in (unsigned, forged):  # a signed sentinel: once it is answered, the chat is done
        assert post(stack, text_update(user_id, "谢谢"), secret).status_code == 200
        wait_for_text(fake, user_id, THANKS)
        assert intents(stack, user_id) == ["thank"], "the rejected updates ran no turn"
        assert len(fake.calls_of("sendMessage", user_id)) == 1


def test_a_redelivered_update_runs_once(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    user_id = new_user()
    update = text_update(user_id, "你好")
    answers = post_concurrently(stack, [update, update], secret) + [post(stack, update, secret)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    post(stack, text_update(user_id, "谢谢"), secret)
    wait_for_text(fake, user_id, THANKS)
    assert intents(stack, user_id) == ["greet", "thank"]
    assert len([t for t in fake.sent_texts(user_id) if "政务服务助手" in t]) == 1


# -- buttons --------------------------------------------------------------------------------------------


def test_buttons_lead_through_a_job_fair_registration(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    user_id = new_user()
    post(stack, text_update(user_id, "/start"), secret)
    welcome = wait_for_text(fake, user_id, "政务服务助手")
    assert set(keyboard(welcome)) == {"申请租房补贴", "我的健康码", "企业复工申报", "出入境政策查询", "校园招聘会"}

    press_fairs = press(stack, secret, user_id, welcome, "校园招聘会")
    fairs = wait_for_text(fake, user_id, "场招聘会")
    assert [c.params["callback_query_id"] for c in fake.calls_of("answerCallbackQuery")
            if c.params["callback_query_id"] == press_fairs["callback_query"]["id"]]
    assert any(title.startswith("报名第") for title in keyboard(fairs))
    assert all(len(data.encode()) <= 64 for data in keyboard(fairs).values())

    press(stack, secret, user_id, fairs, "报名第")
    wait_for_text(fake, user_id, "姓名")
    registering = wait_for_text(fake, user_id, "为您报名")
    assert intents(stack, user_id) == ["greet", "job_fair_search", "job_fair_register"]
    slots = tracker(stack, user_id)["slots"]
    assert slots["job_fair_id"].startswith("JF") and slots["requested_slot"] == "person_name"
    assert slots["job_fair_id"] not in json.dumps(fairs.params["reply_markup"]), "payloads stay on the server"
    title = registering.params["text"].split("“", 1)[1].split("”", 1)[0]
    assert title in fairs.params["text"], "the pressed fair is one of the list shown"

    expired = callback_update(user_id, "p:expiredShort")
    post(stack, expired, secret)
    wait_for_text(fake, user_id, EXPIRED_BUTTON_TEXT)
    answered = [c.params["callback_query_id"] for c in fake.calls_of("answerCallbackQuery")]
    assert expired["callback_query"]["id"] in answered
    assert len(user_turns(stack, user_id)) == 3, "an expired button runs no turn"


# -- commands, other kinds of messages ------------------------------------------------------------------


def test_commands_map_to_their_intents(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    user_id = new_user()
    for text in ("/help", "/cancel", "/human", "/weather"):
        post(stack, text_update(user_id, text), secret)
    wait_for_text(fake, user_id, UNKNOWN_COMMAND_TEXT)
    assert intents(stack, user_id) == ["help", "cancel", "request_human"]
    texts = fake.sent_texts(user_id)
    assert "我可以在对话中帮您办理以下业务" in texts[0]
    assert any("人工" in t for t in texts[1:-1])


def test_stickers_and_voice_get_a_polite_please_type(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    user_id = new_user()
    post(stack, sticker_update(user_id), secret)
    post(stack, voice_update(user_id), secret)
    post(stack, text_update(user_id, "谢谢"), secret)
    wait_for_text(fake, user_id, THANKS)
    assert fake.sent_texts(user_id)[:2] == [UNSUPPORTED_TEXT, UNSUPPORTED_TEXT]
    assert intents(stack, user_id) == ["thank"]


def test_group_messages_are_asked_to_move_to_a_private_chat(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    user_id, group_id = new_user(), -1_000_000_000_000 - random.randint(1, 10**9)
    post(stack, group_text_update(user_id, group_id, "租房补贴怎么申请"), secret)
    post(stack, group_text_update(user_id, group_id, "有人在吗"), secret)
    notice = wait_for_text(fake, group_id, "私聊")
    assert "https://t.me/GovServiceTestBot" in notice.params["text"]
    time.sleep(1.0)  # nothing else is expected: give a wrong second notice the time to show up
    assert len(fake.calls_of("sendMessage", group_id)) == 1, "one notice per group, not one per message"
    assert user_turns(stack, user_id) == [] and fake.calls_of("sendMessage", user_id) == []


def test_bad_requests_get_4xx_and_the_server_keeps_serving(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    assert post(stack, b"{not json", secret).status_code == 400
    assert post(stack, b"[1, 2]", secret).status_code == 400
    assert post(stack, {"update_id": next_update_id(), "message": {"text": "你好"}}, secret).status_code == 400
    assert post(stack, b"\x80\x81 not UTF-8", secret).status_code == 400
    assert post(stack, b"{" + b" " * 400_000 + b"}", secret).status_code == 413
    user_id = new_user()
    assert post(stack, text_update(user_id, "你好"), secret).status_code == 200
    wait_for_text(fake, user_id, "政务服务助手")


# -- order and load ---------------------------------------------------------------------------------------


def test_messages_sent_at_once_are_answered_in_order(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    user_id = new_user()
    questions = {"你好": "政务服务助手", "能办什么业务": "我可以在对话中帮您办理", "你是机器人吗": "不是真人",
                 "谢谢": THANKS, "拜拜": "再见"}
    updates = [text_update(user_id, q, next_update_id()) for q in questions]
    assert all(a.status_code == 200 for a in post_concurrently(stack, updates, secret))
    wait_for_text(fake, user_id, "再见")
    markers = list(questions.values())
    answered = [next(i for i, m in enumerate(markers) if m in t) for t in fake.sent_texts(user_id)
                if any(m in t for m in markers)]
    assert answered == [0, 1, 2, 3, 4]


def test_a_flooding_user_is_slowed_down_and_others_are_not(stack: Stack, fake: FakeTelegram, secret: str) -> None:
    # CHANNEL_RATE_LIMIT=12/60 counts the last 60 s, whenever the flood starts: 12 of the 16 go through.
    flooder, other = new_user(), new_user()
    flood = [text_update(flooder, "谢谢") for _ in range(16)]
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        flooding = pool.submit(post_concurrently, stack, flood, secret)
        assert post(stack, text_update(other, "你好"), secret).status_code == 200
        assert all(a.status_code == 200 for a in flooding.result())
    greeting = wait_for_text(fake, other, "政务服务助手")
    slow_down = wait_for_text(fake, flooder, SLOW_DOWN_TEXT)
    assert greeting.at < slow_down.at, "the other user did not wait for the flood"
    time.sleep(1.0)  # the last four messages are over the limit: no more replies may follow
    texts = fake.sent_texts(flooder)
    assert texts.count(SLOW_DOWN_TEXT) == 1 and len([t for t in texts if THANKS in t]) == 12
    assert len(texts) == 13 and len(user_turns(stack, flooder)) == 12


def test_the_log_holds_neither_the_bot_token_nor_user_ids(stack: Stack, channel_env: dict[str, str]) -> None:
    log = (stack.var_dir / "rasa.log").read_text("utf-8", errors="replace")
    assert "Telegram channel ready" in log
    assert channel_env["TELEGRAM_BOT_TOKEN"].split(":", 1)[1] not in log
    assert not [u for u in USED_USER_IDS if str(u) in log]
