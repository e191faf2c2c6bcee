"""Progress notifications end to end, every process running: a citizen completes a transaction over REST, the back end
changes its state, and the citizen's outbox receives exactly one notification, however the event travels (delivered
twice, the notifier down and restarted); not after "退订"; in the middle of a form, which goes on; and on WeChat
outside the 48-hour window, as a template message or recorded as undeliverable for operators.

WeChat's servers are a local fake (tests/channels/fake_wechat.py, with the template endpoint added here) answering in
WeChat's own JSON format.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import sqlalchemy as sa

from bot.notifier.signing import SIGNATURE_HEADER, sign
from bot.sealing import seal
from tests.channels.fake_telegram import FakeTelegram
from tests.channels.fake_wechat import OK, FakeWeChatApi
from tests.conftest import UNLIMITED_SMS
from tests.e2e.stack import ROOT, Chat, Stack, free_port, verify

pytestmark = pytest.mark.e2e

SECRET = "e2e-notify-webhook-secret-" + secrets.token_hex(12)
TELEGRAM_TOKEN = "123456789:TEST-notify-telegram-token"
TEMPLATE_ID = "tmpl-progress-0001"
CHEN = ("陈晓", "330106199503140023", "13800000001")
WANG = ("王芳", "330102199001010039", "13800000011")
SUN = ("孙丽", "310115199901010083", "13800000010")
ZHOU = ("周杰", "110105199109200078", "13800000009")


@dataclass
class FakeWeChatWithTemplates(FakeWeChatApi):
    """The fake WeChat API plus message/template/send, checked like WeChat checks it."""

    templates: list[dict[str, Any]] = field(default_factory=list)

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(handler.path)
        if (method, url.path) != ("POST", "/cgi-bin/message/template/send"):
            return super()._dispatch(handler, method)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._json(handler.rfile.read(int(handler.headers.get("Content-Length") or 0)))
        if not self._authorised(query):
            result = {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
        elif not isinstance(body, dict) or not {"touser", "template_id", "data"} <= set(body):
            result = {"errcode": 47001, "errmsg": "data format error"}
        elif body["template_id"] != TEMPLATE_ID:
            result = {"errcode": 40037, "errmsg": "invalid template_id"}
        else:
            with self._lock:
                self.templates.append(body)
            result = {**OK, "msgid": 200228332}
        payload = json.dumps(result).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)


@pytest.fixture(scope="module")
def wechat() -> Iterator[FakeWeChatWithTemplates]:
    fake = FakeWeChatWithTemplates(app_id="wxnotify00000001", app_secret="notify-app-secret", port=free_port())
    yield fake.start()
    fake.stop()


@pytest.fixture(scope="module")
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram(free_port(), TELEGRAM_TOKEN)
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, wechat: FakeWeChatWithTemplates,
          telegram: FakeTelegram) -> Iterator[Stack]:
    """A stack of this module's own: WeChat and Telegram configured against the fakes, a template for notifications,
    and the sandbox trying again within a second when the notifier is away."""
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    env = {
        **UNLIMITED_SMS, "NOTIFY_WEBHOOK_SECRET": SECRET, "SERVICES_NOTIFY_RETRY_MAX": "1",
        "WECHAT_TOKEN": "notifytoken", "WECHAT_APP_ID": wechat.app_id, "WECHAT_APP_SECRET": wechat.app_secret,
        "WECHAT_API_BASE_URL": wechat.base_url, "WECHAT_NOTIFICATION_TEMPLATE_ID": TEMPLATE_ID,
        "NOTIFIER_RETRY_BACKOFF": "0.5", "NOTIFIER_RETRY_MAX": "2",
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_SECRET_TOKEN": "notify-telegram-secret-" + "t" * 16,
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{telegram.server.server_address[1]}/bot",
    }
    running = Stack(tmp_path_factory.mktemp("notifications"), extra_env=env)
    try:
        yield running.start()
    finally:
        running.stop_all()


# --- helpers ---------------------------------------------------------------------------------------------------------




def collect(stack: Stack, chat: Chat, count: int, timeout: float = 30.0, settle: float = 2.0) -> list[dict]:
    """The messages that reached the client's outbox: waits for `count`, then `settle` seconds for any extra."""
    found: list[dict] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(found) < count:
        found += chat.outbox()
        time.sleep(0.2)
    time.sleep(settle)
    return found + chat.outbox()


def notifications_in(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages if "【办理进度提醒】" in (m.get("text") or "")]


def apply_for_rent_subsidy(stack: Stack, person: tuple[str, str, str]) -> tuple[Chat, str]:
    chat = stack.chat()
    chat.say("我想申请租房补贴")
    if "您是想" in chat.text:
        chat.click("申请租房补贴")
    verify(chat, stack, person)
    chat.say("确认")
    assert "申请编号：ZF" in chat.text, chat.text
    return chat, chat.text.split("申请编号：")[1][:14]


def pay(stack: Stack, number: str) -> None:
    response = httpx.post(f"{stack.services_url}/dev/rent-subsidy/applications/{number}/payout")
    assert response.status_code == 200, response.text


def sandbox_events(stack: Stack, reference: str) -> list[dict]:
    events = httpx.get(f"{stack.services_url}/dev/notifications/outbox").json()
    return [event for event in events if event["reference"] == reference]


def notifier_rows(stack: Stack, reference: str) -> list[dict]:
    engine = sa.create_engine(f"sqlite:///{stack.var_dir / 'conversation_log.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT event_id, channel, status, reason, attempts FROM notifications WHERE reference = :r "
                "ORDER BY id"), {"r": reference})
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def wait_for_rows(stack: Stack, reference: str, done: int, timeout: float = 30.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = notifier_rows(stack, reference)
        if len([row for row in rows if row["status"] not in ("queued", "sending")]) >= done:
            return rows
        time.sleep(0.2)
    return notifier_rows(stack, reference)


def post_event(stack: Stack, event: dict[str, Any]) -> httpx.Response:
    """What the sandbox's dispatcher does: the event, signed with the shared secret."""
    payload = {key: event[key] for key in ("event_id", "service", "reference", "state", "detail", "occurred_at")}
    body = json.dumps({**payload, "subscriber": event["subscriber"]}, ensure_ascii=False).encode()
    return httpx.post(f"{stack.notifier_url}/events", content=body,
                      headers={SIGNATURE_HEADER: sign(SECRET, body), "Content-Type": "application/json"})


def subscriber_of(stack: Stack, event_id: str) -> str:
    engine = sa.create_engine(f"sqlite:///{stack.var_dir / 'services.db'}")
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT subscriber FROM notification_events WHERE event_id = :e"),
                                      {"e": event_id}).scalar_one()
    finally:
        engine.dispose()


# --- REST: once, whatever happens to the event -----------------------------------------------------------------------


def test_a_payout_reaches_the_citizen_once_even_when_delivered_twice_or_across_a_restart(stack: Stack) -> None:
    chat, number = apply_for_rent_subsidy(stack, CHEN)
    assert chat.slot("progress_watch") == {"service": "rent_subsidy", "reference": number}
    pay(stack, number)
    [told] = notifications_in(collect(stack, chat, 1))
    assert number in told and "已发放至您的账户6222 **** **** 4567" in told and "回复“退订”不再接收进度提醒" in told

    [event] = sandbox_events(stack, number)
    assert event["status"] == "delivered"
    event["subscriber"] = subscriber_of(stack, event["event_id"])
    assert post_event(stack, event).json() == {"status": "duplicate"}  # the back end sends it again

    stack.stop("notifier")  # down: a second payout waits in the sandbox's outbox
    pay(stack, number)
    time.sleep(2.5)
    assert chat.outbox() == []
    assert [e["status"] for e in sandbox_events(stack, number)] == ["pending", "delivered"]
    stack.start_notifier()
    assert post_event(stack, event).json() == {"status": "duplicate"}  # remembered across the restart
    assert len(notifications_in(collect(stack, chat, 1))) == 1  # the second payout, once
    assert [row["status"] for row in wait_for_rows(stack, number, 2)] == ["delivered", "delivered"]


def test_an_opted_out_citizen_gets_none_until_she_subscribes_again(stack: Stack) -> None:
    chat, number = apply_for_rent_subsidy(stack, WANG)
    chat.say("退订")
    assert "已为您退订办理进度提醒" in chat.text, chat.text
    pay(stack, number)
    [row] = wait_for_rows(stack, number, 1)
    assert row["status"] == "opted_out" and "退订" in row["reason"]
    assert notifications_in(collect(stack, chat, 1, timeout=3)) == []

    chat.say("我还是想接收进度提醒")
    assert "已为您恢复办理进度提醒" in chat.text, chat.text
    pay(stack, number)
    assert len(notifications_in(collect(stack, chat, 1))) == 1


def test_a_notification_in_the_middle_of_a_form_lets_the_form_go_on(stack: Stack) -> None:
    chat, number = apply_for_rent_subsidy(stack, SUN)
    chat.say("出国入境现在还要隔离吗")
    assert "哪个国家或地区" in chat.text, chat.text
    pay(stack, number)
    arrived = collect(stack, chat, 2)
    assert len(notifications_in(arrived)) == 1
    assert "哪个国家或地区" in arrived[-1]["text"]  # told, then asked again
    chat.say("日本")
    assert "日本" in chat.text and "入境政策" in chat.text, chat.text


# --- WeChat: the 48-hour window ---------------------------------------------------------------------------------------


def watched_from(stack: Stack, person: tuple[str, str, str], chat_user: str) -> str:
    """A rent subsidy application, watched from the conversation `chat_user` of another channel (made through the
    sandbox's API, as the assistant does at the end of the transaction)."""
    name, id_number, phone = person
    sent = httpx.post(f"{stack.services_url}/api/v1/identity/sms-codes",
                      json={"name": name, "id_number": id_number, "phone": phone, "chat_user": chat_user}).json()
    token = httpx.post(f"{stack.services_url}/api/v1/identity/verifications",
                       json={"verification_id": sent["verification_id"], "code": stack.sms_code(phone)}).json()["token"]
    headers = {"Authorization": f"Bearer {token}", "X-Chat-User": chat_user}
    number = httpx.post(f"{stack.services_url}/api/v1/rent-subsidy/applications", json={"commitment": True},
                        headers={**headers, "Idempotency-Key": chat_user}).json()["application_no"]
    watched = httpx.post(f"{stack.services_url}/api/v1/notifications/subscriptions", headers=headers,
                         json={"service": "rent_subsidy", "reference": number, "subscriber": seal(chat_user)})
    assert watched.status_code == 201, watched.text
    return number


def test_wechat_outside_the_window_gets_a_template_or_is_recorded_undeliverable(
    stack: Stack, wechat: FakeWeChatWithTemplates
) -> None:
    inside = "oNotifyInsideWindow000000001"
    number = watched_from(stack, ZHOU, f"wechat:{inside}")
    pay(stack, number)
    [text] = wechat.wait_for_texts(inside, 1)
    assert "【办理进度提醒】" in text and number in text  # a customer-service message within the window
    assert wait_for_rows(stack, number, 1)[0]["status"] == "delivered"

    wechat.fail_next(inside, 45015)  # 48 hours later: WeChat refuses customer-service messages
    pay(stack, number)
    rows = wait_for_rows(stack, number, 2)
    assert rows[1]["status"] == "delivered_template" and "已改发模板消息" in rows[1]["reason"], rows
    [template] = [t for t in wechat.templates if t["touser"] == inside]
    assert template["template_id"] == TEMPLATE_ID and template["data"]["keyword2"]["value"] == number
    assert template["data"]["keyword1"]["value"] == "租房补贴申请" and "已发放" in template["data"]["keyword3"]["value"]

    stack.stop("notifier")
    stack.start_notifier(WECHAT_NOTIFICATION_TEMPLATE_ID="")  # an Official Account without a template
    wechat.fail_next(inside, 45015)
    pay(stack, number)
    rows = wait_for_rows(stack, number, 3)
    assert rows[2]["status"] == "undeliverable", rows
    assert "48小时" in rows[2]["reason"] and "WECHAT_NOTIFICATION_TEMPLATE_ID" in rows[2]["reason"]
    assert len(wechat.templates) == 1 and len(wechat.texts_to(inside)) == 1
    stack.stop("notifier")
    stack.start_notifier()


# --- Telegram ---------------------------------------------------------------------------------------------------------


def test_telegram_gets_a_message_and_a_blocked_bot_is_recorded_undeliverable(
    stack: Stack, telegram: FakeTelegram
) -> None:
    reachable, blocked = 555000111, 555000222
    # 陈晓 again (the sandbox has four eligible people): her existing application, now watched from Telegram too.
    number = watched_from(stack, CHEN, f"tg:{reachable}")
    also = httpx.post(f"{stack.services_url}/api/v1/notifications/subscriptions", json={
        "service": "rent_subsidy", "reference": number, "subscriber": seal(f"tg:{blocked}")},
        headers=_headers_for(stack, CHEN, f"tg:{blocked}"))
    assert also.status_code == 201, also.text
    telegram.blocked_chats.add(blocked)
    before = len(notifier_rows(stack, number))
    pay(stack, number)
    [sent] = telegram.wait_for_messages(reachable, 1)
    assert "【办理进度提醒】" in sent.params["text"] and number in sent.params["text"]
    rows = wait_for_rows(stack, number, before + 3)[before:]  # and 陈晓's REST conversation, told again
    told = {(row["channel"], row["status"]): row for row in rows}
    assert set(told) == {("rest", "delivered"), ("telegram", "delivered"), ("telegram", "undeliverable")}, rows
    assert "屏蔽" in told["telegram", "undeliverable"]["reason"]


def _headers_for(stack: Stack, person: tuple[str, str, str], chat_user: str) -> dict[str, str]:
    name, id_number, phone = person
    sent = httpx.post(f"{stack.services_url}/api/v1/identity/sms-codes",
                      json={"name": name, "id_number": id_number, "phone": phone, "chat_user": chat_user}).json()
    token = httpx.post(f"{stack.services_url}/api/v1/identity/verifications",
                       json={"verification_id": sent["verification_id"], "code": stack.sms_code(phone)}).json()["token"]
    return {"Authorization": f"Bearer {token}", "X-Chat-User": chat_user}
