"""Takeover end to end through the REST channel, with every process running (sandbox, action server, Rasa server):
a citizen asks for a human → the request waits in the queue → an operator takes it (the assistant goes silent) →
the operator's reply reaches the citizen (REST outbox) → hand back → the assistant answers again.

The console runs in this process against the stack's conversation log database and its Rasa HTTP API, first through
its Python functions, then through its pages with logged-in operators.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from bot.masking import hash_sender_id
from console.rasa_client import RasaClient
from console.takeover import (
    ACTIVE,
    CLOSED,
    HANDBACK_TEXT,
    TAKEN_TEXT,
    WAITING,
    Handoff,
    hand_back,
    messages,
    reply,
    sync_handoffs,
    take,
)
from console.users import AuditEntry, User, create_user
from tests.console.conftest import login_as
from tests.e2e.stack import Chat, Stack

pytestmark = pytest.mark.e2e

T = TypeVar("T")


def wait_for(check: Callable[[], T], what: str, timeout: float = 20.0) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")




def ask_for_a_human(stack: Stack) -> Chat:
    chat = stack.chat()
    chat.say("你好")
    assert chat.text, "the assistant should greet"
    chat.say("转人工")
    assert "转人工服务请求" in chat.text
    return chat


def queued(app: FastAPI, chat: Chat) -> int:
    """The id of the citizen's waiting handoff, once the log has the request and the periodic job has run."""

    def find() -> int | None:
        with app.state.session_factory() as db:
            sync_handoffs(db)
            db.commit()
            sender_hash = hash_sender_id(chat.conversation_id)  # Rasa's namespaced id (rest:<sender>)
            found = db.query(Handoff).filter_by(sender_hash=sender_hash, status=WAITING).first()
            return found.id if found else None

    return wait_for(find, "the handoff request in the queue")


def logged(app: FastAPI, handoff_id: int, kind: str, text: str) -> bool:
    with app.state.session_factory() as db:
        return any(m.kind == kind and text in m.text for m in messages(db, db.get(Handoff, handoff_id)))


def test_takeover_through_the_rest_channel(stack: Stack, console_app: FastAPI) -> None:
    chat = ask_for_a_human(stack)
    handoff_id = queued(console_app, chat)
    client = RasaClient(stack.rasa_url, stack.api_token)
    db: Session = console_app.state.session_factory()
    try:
        operator = create_user(db, "wangfang", "correct horse battery staple", "operator")
        db.commit()
        handoff = db.get(Handoff, handoff_id)
        assert handoff.channel == "rest"

        assert take(db, handoff, operator, client) is None
        db.commit()
        assert handoff.status == ACTIVE and handoff.operator == "wangfang"
        assert chat.tracker()["paused"] is True
        assert [(m["text"], m["from"]) for m in chat.outbox()] == [(TAKEN_TEXT, "operator")]

        assert chat.say("我的补贴申请为什么被驳回了？") == []  # the assistant stays silent
        wait_for(lambda: logged(console_app, handoff_id, "user", "为什么被驳回"), "the citizen's message in the log")

        text = "您好，我是工作人员王芳。您的申请因社保缴纳月数不足被驳回，补缴后可重新申请。"
        reply(db, handoff, operator, client, text)
        db.commit()
        delivered = chat.outbox()
        assert [(m["text"], m["from"]) for m in delivered] == [(text, "operator")]
        assert chat.outbox() == []  # each message is fetched once
        wait_for(lambda: logged(console_app, handoff_id, "operator", "社保缴纳月数不足"), "the reply in the log")

        assert chat.say("好的，谢谢") == []
        assert hand_back(db, handoff, operator, client) is None
        db.commit()
        assert handoff.status == CLOSED and handoff.closed_reason == "handed_back"
        assert [(m["text"], m["from"]) for m in chat.outbox()] == [(HANDBACK_TEXT, "assistant")]
        tracker = chat.tracker()
        assert tracker["paused"] is False and tracker["slots"]["handoff_requested"] is False

        chat.say("租房补贴的申请条件是什么")
        assert chat.text, "the assistant answers again after the hand-back"
    finally:
        db.close()


def post(client: TestClient, path: str, csrf: str, **fields: str) -> httpx.Response:
    return client.post(path, data={"csrf_token": csrf, **fields})


def test_takeover_through_the_console_pages(stack: Stack, console_app: FastAPI, client: TestClient) -> None:
    chat = ask_for_a_human(stack)
    handoff_id = queued(console_app, chat)
    csrf = login_as(client, "operator", "lina")

    queue_page = client.get("/takeover")
    assert queue_page.status_code == 200
    assert f"#{handoff_id}" in queue_page.text and "转人工" in queue_page.text and "REST 接口" in queue_page.text
    assert chat.sender not in queue_page.text

    taken = post(client, f"/takeover/{handoff_id}/take", csrf)
    assert taken.status_code == 303 and taken.headers["location"] == f"/takeover/{handoff_id}?ok=taken"
    page = client.get(taken.headers["location"])
    assert "已接管" in page.text and 'name="text"' in page.text and "交还智能助手" in page.text
    assert chat.outbox()[0]["text"] == TAKEN_TEXT

    # The citizen types personal data while a human has the conversation: the console shows it masked.
    assert chat.say("我的手机号是13800000001，申请一直没通过") == []
    after = int(page.text.split('data-after="')[1].split('"')[0])

    def new_user_message() -> dict | None:
        found = client.get(f"/api/takeover/{handoff_id}/messages", params={"after": after}).json()["messages"]
        return next((m for m in found if m["kind"] == "user"), None)

    message = wait_for(new_user_message, "the citizen's message on the open page")
    assert "138****0001" in message["text"] and "13800000001" not in message["text"]

    # A second operator can neither reply nor hand back someone else's conversation.
    with TestClient(console_app, follow_redirects=False) as other:
        other_csrf = login_as(other, "operator", "zhaolei")
        refused = post(other, f"/takeover/{handoff_id}/reply", other_csrf, text="我来回答")
        assert refused.status_code == 409 and "正在由 lina 处理" in refused.text
        assert "改由我接管" in other.get(f"/takeover/{handoff_id}").text
        refused = post(other, f"/takeover/{handoff_id}/handback", other_csrf)
        assert refused.status_code == 409
    assert chat.outbox() == []  # nothing of that reached the citizen

    empty = post(client, f"/takeover/{handoff_id}/reply", csrf, text="   ")
    assert empty.status_code == 400 and "请输入要发送给市民的内容" in empty.text

    sent = post(client, f"/takeover/{handoff_id}/reply", csrf, text="您好，请提供您的申请编号，我帮您查询。")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?ok=sent")
    assert [m["text"] for m in chat.outbox()] == ["您好，请提供您的申请编号，我帮您查询。"]

    back = post(client, f"/takeover/{handoff_id}/handback", csrf)
    assert back.status_code == 303 and back.headers["location"].endswith("?ok=handed_back")
    assert [m["text"] for m in chat.outbox()] == [HANDBACK_TEXT]
    assert "已结束" in client.get(f"/takeover/{handoff_id}").text
    chat.say("租房补贴政策是什么")
    assert chat.text

    with console_app.state.session_factory() as db:
        actions = [a for (a,) in db.query(AuditEntry.action).filter(AuditEntry.username == "lina")]
        assert {"view_conversation", "takeover", "takeover_reply", "handback"} <= set(actions)
        assert db.query(User).filter_by(username="lina").one().role == "operator"


def test_a_channel_without_replies_is_refused_clearly(stack: Stack, console_app: FastAPI, client: TestClient) -> None:
    chat = ask_for_a_human(stack)
    handoff_id = queued(console_app, chat)
    # The citizen's latest message came through a channel without an output channel (the REST channel no longer
    # takes an input_channel from the request: the message is written into the tracker directly).
    latest = {"event": "user", "text": "还在吗", "timestamp": time.time(), "input_channel": "cmdline",
              "parse_data": {"intent": {"name": "greet", "confidence": 0.9}, "entities": []}}
    assert stack.api("POST", f"/conversations/{chat.conversation_id}/tracker/events", json=[latest]).status_code == 200
    csrf = login_as(client, "operator")
    refused = post(client, f"/takeover/{handoff_id}/take", csrf)
    assert refused.status_code == 409
    assert "“cmdline”渠道，控制台无法通过它回复市民" in refused.text
    assert "Traceback" not in refused.text
    assert chat.tracker()["paused"] is False  # nothing changed: the assistant still answers
    with console_app.state.session_factory() as db:
        assert db.get(Handoff, handoff_id).status == WAITING


def test_a_request_taken_after_the_session_expiry_stays_silent(stack: Stack, console_app: FastAPI) -> None:
    """Rasa starts a new session (which un-pauses) when a citizen writes after the session expiry (60 minutes here):
    taking over a request that waited longer starts the new session itself, before pausing."""
    chat = ask_for_a_human(stack)
    handoff_id = queued(console_app, chat)
    # Two hours pass: the citizen's last message is stamped as written then.
    old = {"event": "user", "text": "有人吗", "timestamp": time.time() - 7200, "input_channel": "rest",
           "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}, "entities": []}}
    appended = stack.api("POST", f"/conversations/{chat.conversation_id}/tracker/events", json=[old])
    assert appended.status_code == 200
    client = RasaClient(stack.rasa_url, stack.api_token)
    with console_app.state.session_factory() as db:
        operator = db.query(User).filter_by(username="wangfang").first() or create_user(
            db, "wangfang", "correct horse battery staple", "operator")
        handoff = db.get(Handoff, handoff_id)
        take(db, handoff, operator, client)
        db.commit()
        assert chat.say("我等了好久了") == []  # without the new session Rasa would restart it and answer
        assert chat.tracker()["paused"] is True
        reply(db, handoff, operator, client, "抱歉让您久等了，请问有什么可以帮您？")
        assert [m["text"] for m in chat.outbox()] == [TAKEN_TEXT, "抱歉让您久等了，请问有什么可以帮您？"]
        hand_back(db, handoff, operator, client)
        db.commit()
    chat.outbox()
    chat.say("租房补贴政策是什么")
    assert chat.text


def test_an_admin_unmasks_one_conversation_with_a_reason_and_it_is_audited(
    stack: Stack, console_app: FastAPI, client: TestClient
) -> None:
    from console.index import latest_conversation, refresh_index

    chat = stack.chat()
    chat.say("我叫陈晓，电话13800000001，想申请租房补贴")
    with console_app.state.session_factory() as db:
        conversation_id = wait_for(lambda: _indexed(db, chat.conversation_id, refresh_index, latest_conversation),
                                   "indexed")
    page = f"/conversations/{conversation_id}"

    csrf = login_as(client, "operator")
    assert "13800000001" not in client.get(page).text  # masked by default
    assert post(client, f"{page}/unmask", csrf, reason="市民来电投诉，核实办理记录").status_code == 403

    csrf = login_as(client, "admin")
    assert post(client, f"{page}/unmask", csrf, reason="").status_code == 400  # a reason is required
    shown = post(client, f"{page}/unmask", csrf, reason="市民来电投诉，核实办理记录")
    assert shown.status_code == 200 and "13800000001" in shown.text and "陈晓" in shown.text
    assert "市民来电投诉" in shown.text
    with console_app.state.session_factory() as db:
        entry = db.query(AuditEntry).filter_by(action="unmask").order_by(AuditEntry.id.desc()).first()
        assert entry.target == str(conversation_id) and "市民来电投诉" in entry.detail


def _indexed(db: Session, sender: str, refresh: Callable, latest: Callable) -> int | None:
    refresh(db)
    db.commit()
    found = latest(db, hash_sender_id(sender))
    return found.id if found else None
