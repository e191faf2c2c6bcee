"""The console's 进度提醒 page: every recent notification with its status and reason, the undeliverable ones
highlighted, each linked to its conversation."""

from __future__ import annotations

import random
import re
import time

from fastapi import FastAPI
from starlette.testclient import TestClient

from bot.notifier import store
from bot.notifier.models import DELIVERED, DELIVERED_TEMPLATE, OPTED_OUT, UNDELIVERABLE
from console.index import latest_conversation, refresh_index
from tests.console import seed
from tests.console.conftest import login_as

WINDOW_CLOSED = ("微信客服消息未能送达：用户超过48小时未发消息、已取消关注，或接口调用受限。请改用其他方式联系该用户。"
                 "未配置模板消息（WECHAT_NOTIFICATION_TEMPLATE_ID），无法在48小时客服消息窗口外通知该用户；请通过其他方式联系。")


def _notify(app: FastAPI, event_id: str, sender_hash: str, channel: str, status: str, reason: str | None) -> None:
    engine = app.state.engine
    store.accept(engine, store.NewNotification(
        event_id=event_id, service="rent_subsidy", reference="ZF202612345678", state="paid",
        detail="9600元已发放至您的账户6222 **** **** 4567", occurred_at=time.time(), sender_hash=sender_hash,
        channel=channel, sealed_sender="sealed"))
    row_id = store.due(engine, 100)[-1]
    store.claim(engine, row_id, 60)
    store.finish(engine, row_id, status, reason)


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr(?: class=\"undeliverable\")?>.*?</tr>", html, re.S)[1:]  # without the header


def test_operators_see_what_became_of_each_notification(client: TestClient, console_app: FastAPI) -> None:
    citizen = seed.rent_subsidy_completed(random.Random(5), time.time() - 3600, "wechat")
    seed.write_conversations(console_app.state.engine, [citizen])
    with console_app.state.session_factory() as session:
        refresh_index(session)
        conversation_id = latest_conversation(session, citizen.sender_hash).id
    _notify(console_app, "e-window", citizen.sender_hash, "wechat", UNDELIVERABLE, WINDOW_CLOSED)
    _notify(console_app, "e-template", citizen.sender_hash, "wechat", DELIVERED_TEMPLATE, "已改发模板消息。")
    _notify(console_app, "e-web", "u_00000000000000aa", "webchat", DELIVERED, None)
    _notify(console_app, "e-out", "u_00000000000000bb", "rest", OPTED_OUT, "市民已回复“退订”，不再发送进度提醒。")

    assert client.get("/notifications").status_code == 303  # staff only
    login_as(client)
    page = client.get("/notifications")
    assert page.status_code == 200
    assert '<a href="/notifications" class="active" aria-current="page">进度提醒</a>' in page.text
    rows = _rows(page.text)
    assert len(rows) == 4
    highlighted = [row for row in rows if 'class="undeliverable"' in row]
    assert len(highlighted) == 1 and "无法送达" in highlighted[0] and "48小时" in highlighted[0]
    assert f'href="/conversations/{conversation_id}"' in highlighted[0]  # whom to reach another way
    assert "微信公众号" in highlighted[0] and "租房补贴申请" in highlighted[0]
    assert any("已改发模板消息" in row and "undeliverable" not in row for row in rows)
    assert any("网页聊天" in row and "已送达" in row for row in rows)
    assert any("已退订，未发送" in row for row in rows)
    assert "近7天未送达 1" in page.text and "6222 **** **** 4567" in page.text

    problems = client.get("/notifications?problems=1")
    assert len(_rows(problems.text)) == 1 and "仅显示未送达的提醒" in problems.text


def test_the_page_says_when_nothing_was_sent(client: TestClient) -> None:
    login_as(client)
    assert "还没有发送过进度提醒" in client.get("/notifications").text
    assert "没有未送达的提醒" in client.get("/notifications?problems=1").text


def test_a_notification_in_a_conversation_is_no_turn_of_the_citizen(client: TestClient, console_app: FastAPI) -> None:
    citizen = seed.rent_subsidy_completed(random.Random(8), time.time() - 3600, "rest")
    turns = sum(e["event"] == "user" for e in citizen.events)
    citizen.user("EXTERNAL: EXTERNAL_progress_update", "EXTERNAL_progress_update", 1.0)
    citizen.action("action_progress_notification").bot("您的租房补贴已发放。回复“退订”不再接收进度提醒。").listen()
    seed.write_conversations(console_app.state.engine, [citizen])
    with console_app.state.session_factory() as db:
        refresh_index(db)
        db.commit()
        conversation = latest_conversation(db, citizen.sender_hash)
        assert conversation.turns == turns and "EXTERNAL_progress_update" not in conversation.intents
    login_as(client)
    page = client.get(f"/conversations/{conversation.id}")
    assert "后台事件触发（办理进度提醒）" in page.text and "您的租房补贴已发放" in page.text
    assert "EXTERNAL: EXTERNAL_progress_update" not in page.text
