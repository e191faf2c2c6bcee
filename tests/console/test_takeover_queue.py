"""The takeover queue from a seeded conversation log (no Rasa needed): which requests wait, which are closed, and
what an operator sees when the Rasa server cannot be reached."""

from __future__ import annotations

import json
import random
import time
from dataclasses import replace

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from bot.conversation_log import ConversationEvent
from bot.settings import ConsoleSettings
from console.takeover import ACTIVE, CLOSED, WAITING, Handoff, queue, sync_handoffs
from tests.console.conftest import login_as
from tests.console.seed import entry_control_query, handoff, seed_via_broker, write_conversations
from tests.e2e.stack import free_port

HOUR = 3600.0


@pytest.fixture
def console_settings(console_settings: ConsoleSettings) -> ConsoleSettings:
    # Nothing listens there: every Rasa call fails the way it does when the Rasa server is down.
    return replace(console_settings, rasa_url=f"http://127.0.0.1:{free_port()}")


def handoffs(app: FastAPI) -> list[Handoff]:
    with app.state.session_factory() as db:
        sync_handoffs(db)
        db.commit()
        return db.query(Handoff).order_by(Handoff.id).all()


def test_each_request_waits_once_and_old_ones_are_closed(console_app: FastAPI) -> None:
    rng, now = random.Random(11), time.time()
    recent = handoff(rng, now - 600, "wechat")  # asks twice ("转人工" again): one handoff
    other = handoff(rng, now - 300, "telegram")
    stale = handoff(rng, now - 5 * 24 * HOUR, "webchat")  # found late: nobody will answer it any more
    plain = entry_control_query(rng, now - 200, "rest")
    write_conversations(console_app.state.engine, [stale, recent, other, plain])
    found = handoffs(console_app)
    assert [(h.sender_hash, h.status) for h in found] == [
        (stale.sender_hash, CLOSED), (recent.sender_hash, WAITING), (other.sender_hash, WAITING)
    ]
    assert found[0].closed_reason == "expired"
    assert len(handoffs(console_app)) == 3  # a second run adds nothing
    with console_app.state.session_factory() as db:
        assert [h.sender_hash for h in queue(db)] == [recent.sender_hash, other.sender_hash]  # longest wait first

    # The same citizen asks again after the first request was closed: a new request.
    with console_app.state.session_factory() as db:
        db.query(Handoff).filter_by(sender_hash=recent.sender_hash).update({"status": CLOSED})
        db.commit()
    again = handoff(random.Random(5), now - 60, "wechat")
    again.sender = recent.sender
    for event in again.events:
        event["sender_id"] = recent.sender
    write_conversations(console_app.state.engine, [again])
    statuses = [h.status for h in handoffs(console_app) if h.sender_hash == recent.sender_hash]
    assert statuses == [CLOSED, WAITING]


def _row(sender: str, kind: str, at: float, **data) -> dict:
    return {"sender_id": sender, "type_name": kind, "timestamp": at, "data": json.dumps({"event": kind, **data})}


def test_a_takeover_ends_when_rasa_starts_answering_again(console_app: FastAPI) -> None:
    now = time.time()
    rows = [
        _row("u_00000000000000aa", "action", now - 900, name="action_request_human"),
        _row("u_00000000000000bb", "action", now - 900, name="action_request_human"),
    ]
    with console_app.state.engine.begin() as connection:
        for row in rows:
            connection.execute(sa.insert(ConversationEvent).values(
                action_name="action_request_human", **row))
    handoffs(console_app)
    with console_app.state.session_factory() as db:
        db.query(Handoff).update({"status": ACTIVE, "operator": "lina", "taken_at": now - 600})
        db.commit()
    later = [
        _row("u_00000000000000aa", "pause", now - 599),
        _row("u_00000000000000bb", "pause", now - 599),
        _row("u_00000000000000bb", "user", now - 500, text="有人吗"),  # paused: only logged
        _row("u_00000000000000aa", "session_started", now - 60),  # an hour of silence, then a new session
        _row("u_00000000000000aa", "user", now - 59, text="还在吗"),
    ]
    with console_app.state.engine.begin() as connection:
        connection.execute(sa.insert(ConversationEvent), later)
    found = {h.sender_hash: h for h in handoffs(console_app)}
    assert found["u_00000000000000bb"].status == ACTIVE
    assert found["u_00000000000000aa"].status == CLOSED
    assert found["u_00000000000000aa"].closed_reason == "session_restarted"


def test_rasa_down_gives_a_clear_message_and_changes_nothing(console_app: FastAPI, client: TestClient,
                                                             console_db_url: str) -> None:
    seed_via_broker(console_db_url, [handoff(random.Random(2), time.time() - 120, "webchat")])
    (request,) = handoffs(console_app)
    csrf = login_as(client, "operator")
    page = client.get(f"/takeover/{request.id}")
    assert page.status_code == 200 and "接管" in page.text and "网页聊天" in page.text
    refused = client.post(f"/takeover/{request.id}/take", data={"csrf_token": csrf})
    assert refused.status_code == 502
    assert "无法连接智能助手服务" in refused.text and "Traceback" not in refused.text
    with console_app.state.session_factory() as db:
        assert db.get(Handoff, request.id).status == WAITING

    closed = client.post(f"/takeover/{request.id}/dismiss", data={"csrf_token": csrf})
    assert closed.status_code == 303
    assert "未接管，已关闭" in client.get(f"/takeover/{request.id}").text
    assert "目前没有等待人工服务的市民" in client.get("/takeover").text


def test_takeover_needs_a_login_and_a_csrf_token(console_app: FastAPI, client: TestClient,
                                                 console_db_url: str) -> None:
    seed_via_broker(console_db_url, [handoff(random.Random(4), time.time() - 120, "rest")])
    (request,) = handoffs(console_app)
    assert client.get("/takeover").status_code == 303
    assert client.get(f"/api/takeover/{request.id}/messages").status_code == 401
    assert client.post(f"/takeover/{request.id}/dismiss").status_code == 401
    login_as(client, "operator")
    assert client.post(f"/takeover/{request.id}/dismiss", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/takeover/999999").status_code == 404
    with console_app.state.session_factory() as db:
        assert db.get(Handoff, request.id).status == WAITING


def test_a_request_committed_late_is_still_queued_once(console_app: FastAPI) -> None:
    """Several Rasa replicas on PostgreSQL: a row can commit after rows with higher ids."""
    now = time.time()

    def request(event_id: int, sender: str) -> dict:
        return {"id": event_id, "action_name": "action_request_human",
                **_row(sender, "action", now - 30, name="action_request_human")}

    with console_app.state.engine.begin() as connection:
        connection.execute(sa.insert(ConversationEvent), [request(105, "u_00000000000000c1")])
    assert [h.sender_hash for h in handoffs(console_app)] == ["u_00000000000000c1"]
    with console_app.state.engine.begin() as connection:  # the late one
        connection.execute(sa.insert(ConversationEvent), [request(103, "u_00000000000000c2")])
    assert [h.sender_hash for h in handoffs(console_app)] == ["u_00000000000000c1", "u_00000000000000c2"]
    assert len(handoffs(console_app)) == 2
