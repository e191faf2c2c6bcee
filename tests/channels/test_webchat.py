"""The web chat channel through the real running stack: page, static files, the JSON endpoint and its limits."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import httpx
import pytest

from integrations.channels.common import SLOW_DOWN_TEXT
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

HAN = re.compile(r"[\u4e00-\u9fff]")


def new_sender() -> str:
    return uuid.uuid4().hex


def base(stack: Stack) -> str:
    return f"{stack.rasa_url}/webhooks/webchat/"


def post(stack: Stack, body: object, **kwargs: object) -> httpx.Response:
    content = body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False)
    return httpx.post(f"{base(stack)}webhook", content=content, timeout=30, **kwargs)


def say(stack: Stack, sender: str, message: str) -> list[dict]:
    response = post(stack, {"sender": sender, "message": message})
    assert response.status_code == 200, response.text
    return response.json()


def texts(messages: list[dict]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def user_turns(stack: Stack, sender: str) -> list[str]:
    tracker = stack.api("GET", f"/conversations/web:{sender}/tracker").json()
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


# -- the page -------------------------------------------------------------------------------


def test_page_is_served_with_a_strict_content_security_policy(channel_stack: Stack) -> None:
    page = httpx.get(base(channel_stack))
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>政务服务助手</title>" in page.text and "新对话" in page.text and "placeholder=" in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    # Everything the page loads comes from this server: no inline script, no CDN, no external font.
    assert not re.search(r"<script(?![^>]*\bsrc=)", page.text)
    assert not re.search(r"\son[a-z]+=", page.text)
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("webchat.js", "text/javascript; charset=utf-8"),
        ("webchat.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ],
)
def test_static_files_have_their_content_types(channel_stack: Stack, name: str, content_type: str) -> None:
    response = httpx.get(f"{base(channel_stack)}static/{name}")
    assert response.status_code == 200 and response.content
    assert response.headers["content-type"] == content_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'self'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("path", ["static/missing.js", "static/..%2F..%2Fcredentials.yml", "static/..%2Fwebchat.py"])
def test_only_the_page_files_are_served(channel_stack: Stack, path: str) -> None:
    response = httpx.get(base(channel_stack) + path)
    assert response.status_code == 404
    assert HAN.search(response.json()["error"])


def test_the_address_without_a_trailing_slash_leads_to_the_page(channel_stack: Stack) -> None:
    response = httpx.get(base(channel_stack).rstrip("/"), follow_redirects=True)
    assert response.status_code == 200 and "<title>政务服务助手</title>" in response.text
    assert str(response.url).endswith("/webhooks/webchat/")


# -- the endpoint ---------------------------------------------------------------------------


def test_a_question_is_answered(channel_stack: Stack) -> None:
    answer = say(channel_stack, new_sender(), "去日本回来要隔离吗")
    assert "日本" in texts(answer) and "隔离要求" in texts(answer), answer
    assert all(set(m) <= {"text", "buttons"} for m in answer), answer  # nothing internal reaches the browser


def test_buttons_come_with_titles_and_payloads_that_work(channel_stack: Stack) -> None:
    sender = new_sender()
    answer = say(channel_stack, sender, "最近有哪些校园招聘会")
    buttons = {b["title"]: b["payload"] for m in answer for b in m.get("buttons", [])}
    assert buttons.get("查看更多") == "/show_more", answer
    assert "第6-" in texts(say(channel_stack, sender, buttons["查看更多"]))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("{not json", 400),
        (b"\xff\xfe\x00", 400),
        ("[]", 400),
        ({"sender": "SENDER"}, 400),
        ({"sender": "SENDER", "message": None}, 400),
        ({"sender": "SENDER", "message": "   "}, 400),
        ({"sender": "SENDER", "message": 42}, 400),
        ({"sender": "SENDER", "message": ["你好"]}, 400),
        ({"sender": "SENDER", "message": {"text": "你好"}}, 400),
        ({"sender": "SENDER", "message": "办" * 2001}, 400),
        ({"message": "你好"}, 400),
        ({"sender": 12345678901234567890, "message": "你好"}, 400),
        ({"sender": "me", "message": "你好"}, 400),
        ({"sender": "../../etc/passwd-xxxxxxxx", "message": "你好"}, 400),
        ({"sender": "SENDER", "message": "你" * 200_000}, 413),
    ],
)
def test_bad_input_gets_a_chinese_error_and_the_server_keeps_serving(
    channel_stack: Stack, body: object, status: int
) -> None:
    sender = new_sender()
    if isinstance(body, dict) and body.get("sender") == "SENDER":
        body = {**body, "sender": sender}
    response = post(channel_stack, body)
    assert response.status_code == status, response.text
    assert HAN.search(response.json()["error"]), response.text
    assert "韩国" in texts(say(channel_stack, sender, "去韩国要做核酸吗"))


def test_a_message_of_exactly_2000_characters_is_accepted(channel_stack: Stack) -> None:
    sender = new_sender()
    message = ("我想问一下租房补贴的政策" * 200)[:2000]
    assert say(channel_stack, sender, message)
    assert user_turns(channel_stack, sender) == [message]


def test_control_characters_are_dropped_not_stored(channel_stack: Stack) -> None:
    sender = new_sender()
    assert "日本" in texts(say(channel_stack, sender, "去日本\x00回来\x07要隔离吗"))
    assert user_turns(channel_stack, sender) == ["去日本回来要隔离吗"]


def test_web_visitors_have_their_own_sender_namespace(channel_stack: Stack) -> None:
    # A visitor choosing someone's REST/WeChat/Telegram sender id still talks on a separate tracker.
    sender = new_sender()
    channel_stack.chat(sender).say("我想申请租房补贴")
    say(channel_stack, sender, "去日本回来要隔离吗")
    assert user_turns(channel_stack, sender) == ["去日本回来要隔离吗"]


def test_a_flooding_visitor_is_asked_to_slow_down_and_others_are_served(channel_stack: Stack) -> None:
    # CHANNEL_RATE_LIMIT is 12/60 in the channel stack: 25 at once overflow even if they straddle two windows.
    sender = new_sender()

    async def flood() -> list[list[dict]]:
        async with httpx.AsyncClient(timeout=120) as client:
            requests = [
                client.post(f"{base(channel_stack)}webhook", json={"sender": sender, "message": "你好"})
                for _ in range(25)
            ]
            return [r.json() for r in await asyncio.gather(*requests)]

    answers = [texts(a) for a in asyncio.run(flood())]
    slowed = [a for a in answers if a == SLOW_DOWN_TEXT]
    served = [a for a in answers if a != SLOW_DOWN_TEXT]
    assert 1 <= len(slowed) <= 13 and all("您好" in a for a in served), answers
    assert len(user_turns(channel_stack, sender)) == len(served)  # a slowed message never runs a turn
    assert "日本" in texts(say(channel_stack, new_sender(), "去日本回来要隔离吗"))


def test_one_visitor_sending_five_messages_at_once_gets_five_matching_answers(channel_stack: Stack) -> None:
    sender = new_sender()
    countries = ["日本", "韩国", "泰国", "德国", "新加坡"]

    async def ask_all() -> list[list[dict]]:
        async with httpx.AsyncClient(timeout=60) as client:
            requests = [
                client.post(f"{base(channel_stack)}webhook", json={"sender": sender, "message": f"去{c}要隔离吗"})
                for c in countries
            ]
            responses = await asyncio.gather(*requests)
        assert all(r.status_code == 200 for r in responses)
        return [r.json() for r in responses]

    for country, answer in zip(countries, asyncio.run(ask_all()), strict=True):
        text = texts(answer)
        assert f"{country}（" in text and "入境管控措施" in text, (country, text)
        assert not any(f"{other}（" in text for other in countries if other != country), (country, text)
    assert sorted(user_turns(channel_stack, sender)) == sorted(f"去{c}要隔离吗" for c in countries)
