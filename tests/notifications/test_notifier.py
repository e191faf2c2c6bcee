"""The notifier's webhook and its durable state, on SQLite and PostgreSQL: signatures, size, fields, one row per
event however often (or to however many replicas) it is delivered, one worker per notification, opt-outs."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from bot.log_migrations import migrate_database
from bot.masking import hash_sender_id
from bot.notifier import store
from bot.notifier.app import create_app
from bot.notifier.delivery import NOTIFIED_SLOT, _judge
from bot.notifier.models import QUEUED, SENDING, UNDELIVERABLE, Notification
from bot.notifier.signing import SIGNATURE_HEADER, sign
from bot.sealing import seal
from bot.settings import NotifierSettings
from bot.sqlite import create_engine
from tests.notifications.conftest import SECRET
from tests.postgres import postgres_or_skip


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def log_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'log.db'}"
        migrate_database(url)
        yield url
        return
    with postgres_or_skip("govbot_notifier_test") as url:
        migrate_database(url)
        yield url


@pytest.fixture
def engine(log_url: str) -> Iterator[sa.engine.Engine]:
    made = create_engine(log_url)
    yield made
    made.dispose()


def settings(**changes: object) -> NotifierSettings:
    return NotifierSettings.from_env({}, **changes)


@pytest.fixture
def webhook(engine: sa.engine.Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings(max_body_bytes=4096, timestamp_window=300), engine, SECRET, None)) as client:
        yield client


def event(conversation: str = "rest:citizen-1", **changes: object) -> dict:
    body = {
        "event_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0", "service": "rent_subsidy", "reference": "ZF202612345678",
        "state": "paid", "detail": "9600元已发放至您的账户6222021202001234567", "subscriber": seal(conversation),
        "occurred_at": "2026-12-01T10:00:00+08:00",
    }
    return body | changes


def post(client: TestClient, body: dict | bytes, secret: str = SECRET, at: int | None = None,
         headers: dict | None = None) -> httpx.Response:
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    signed = {SIGNATURE_HEADER: sign(secret, raw, at), "Content-Type": "application/json"}
    return client.post("/events", content=raw, headers={**signed, **(headers or {})})


def rows(engine: sa.engine.Engine) -> list[Notification]:
    with store.session_for(engine) as session:
        return list(session.execute(sa.select(Notification).order_by(Notification.id)).scalars())


# --- the webhook -----------------------------------------------------------------------------------------------------


def test_an_event_is_stored_once_however_often_it_arrives(webhook: TestClient, engine: sa.engine.Engine) -> None:
    first = post(webhook, event())
    assert first.status_code == 202 and first.json() == {"status": "accepted"}
    assert [post(webhook, event()).json() for _ in range(3)] == [{"status": "duplicate"}] * 3
    [row] = rows(engine)
    assert (row.service, row.reference, row.state, row.status, row.channel) == (
        "rent_subsidy", "ZF202612345678", "paid", QUEUED, "rest")
    assert row.sender_hash == hash_sender_id("rest:citizen-1") and "citizen-1" not in row.sealed_sender
    assert "6222021202001234567" not in row.detail  # masked like everything operators read


def test_a_wrong_missing_or_stale_signature_is_refused(webhook: TestClient, engine: sa.engine.Engine) -> None:
    refused = [
        post(webhook, event(), secret="another-secret-of-at-least-32-characters"),
        post(webhook, event(), at=int(time.time()) - 3600),  # a captured request replayed an hour later
        post(webhook, event(), headers={SIGNATURE_HEADER: ""}),
        post(webhook, event(), headers={SIGNATURE_HEADER: "t=abc,v1=00"}),
    ]
    assert [response.status_code for response in refused] == [403] * 4
    assert "NOTIFY_WEBHOOK_SECRET" in refused[0].json()["error"]
    raw = json.dumps(event()).encode()
    tampered = webhook.post("/events", content=raw.replace(b"paid", b"gone"),
                            headers={SIGNATURE_HEADER: sign(SECRET, raw)})
    assert tampered.status_code == 403 and rows(engine) == []


def test_a_body_too_large_is_refused_before_it_is_read(webhook: TestClient, engine: sa.engine.Engine) -> None:
    huge = post(webhook, event(detail="很长" * 3000))
    assert huge.status_code == 413 and huge.json() == {"error": "事件内容过大。"}
    announced = webhook.post("/events", content=b"{}", headers={"Content-Length": "999999999"})
    assert announced.status_code == 413 and rows(engine) == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"event_id": "../etc"}, "event_id"), ({"event_id": ""}, "event_id"), ({"service": ""}, "service"),
    ({"reference": "x" * 65}, "reference"), ({"subscriber": None}, "subscriber"), ({"state": 3}, "state"),
    ({"occurred_at": "yesterday"}, "occurred_at"), ({"occurred_at": "2026-12-01T10:00:00"}, "occurred_at"),
])
def test_a_malformed_event_is_refused_naming_the_field(webhook: TestClient, changes: dict, field: str) -> None:
    response = post(webhook, event(**changes))
    assert response.status_code == 422 and response.json()["error"] == f"事件字段 {field} 缺失或格式不正确。"
    assert post(webhook, b"[1, 2]").json()["error"] == "事件格式不正确：请发送 JSON 对象。"


def test_an_unopenable_subscriber_is_kept_as_undeliverable(webhook: TestClient, engine: sa.engine.Engine) -> None:
    assert post(webhook, event(subscriber="gAAAAABnot-sealed-with-this-key")).status_code == 202
    assert post(webhook, event(conversation="nochannel-42", event_id="e2")).status_code == 202
    unopened, foreign = rows(engine)
    assert (unopened.status, unopened.sender_hash) == (UNDELIVERABLE, "") and "PII_SEAL_KEY" in unopened.reason
    assert foreign.status == UNDELIVERABLE and "不是任何渠道的会话" in foreign.reason


def test_two_replicas_receiving_one_event_at_once_keep_one_row(log_url: str) -> None:
    engines = [create_engine(log_url) for _ in range(2)]
    replicas = [TestClient(create_app(settings(), made, SECRET, None)) for made in engines]
    try:
        body = event(event_id="racing-event")
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: post(replicas[i % 2], body).status_code, range(16)))
        assert sorted(answers) == [200] * 15 + [202]
        assert len(rows(engines[0])) == 1
    finally:
        for made in engines:
            made.dispose()


# --- claiming, retrying, opting out ----------------------------------------------------------------------------------


def _queue(engine: sa.engine.Engine, count: int) -> list[int]:
    for number in range(count):
        store.accept(engine, store.NewNotification(
            event_id=f"event-{number}", service="rent_subsidy", reference="ZF1", state="paid", detail="",
            occurred_at=None, sender_hash=f"u_{number:016x}", channel="rest", sealed_sender="sealed"))
    return [row.id for row in rows(engine)]


def test_each_notification_is_claimed_by_one_worker_until_its_lease_ends(log_url: str) -> None:
    engines = [create_engine(log_url) for _ in range(2)]
    try:
        ids = _queue(engines[0], 10)
        claimed: list[int] = []
        lock = threading.Lock()

        def claim_all(made: sa.engine.Engine) -> None:
            for row_id in ids:
                row = store.claim(made, row_id, lease_seconds=60)
                if row is not None:
                    with lock:
                        claimed.append(row.id)

        threads = [threading.Thread(target=claim_all, args=(engines[i % 2],)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(claimed) == ids  # each once, across two "replicas" and four workers
        assert store.due(engines[0], 100) == []
        later = time.time() + 61  # a worker that died: its lease ends and another takes over
        assert store.due(engines[1], 100, now=later) == ids
        taken = store.claim(engines[1], ids[0], 60, now=later)
        assert taken is not None and taken.status == SENDING and taken.attempts == 2
    finally:
        for made in engines:
            made.dispose()


def test_a_retried_notification_waits_for_its_time(engine: sa.engine.Engine) -> None:
    [row_id] = _queue(engine, 1)
    assert store.claim(engine, row_id, 60) is not None
    store.retry_later(engine, row_id, time.time() + 30, "无法连接智能助手服务（Rasa），稍后重试。")
    assert store.due(engine, 10) == [] and store.due(engine, 10, now=time.time() + 31) == [row_id]
    assert store.next_due_at(engine) > time.time() + 25


def test_an_opt_out_is_kept_until_the_citizen_subscribes_again(engine: sa.engine.Engine) -> None:
    who = hash_sender_id("wechat:oCitizen")
    assert not store.opted_out(engine, who)
    store.set_opted_out(engine, who, True)
    store.set_opted_out(engine, who, True)  # said twice: still one wish
    assert store.opted_out(engine, who) and not store.opted_out(engine, hash_sender_id("wechat:oOther"))
    store.set_opted_out(engine, who, False)
    assert not store.opted_out(engine, who)


# --- what Rasa's answers mean ----------------------------------------------------------------------------------------


def _row() -> Notification:
    return Notification(event_id="e1", service="rent_subsidy", reference="ZF1", state="paid")


def _answer(status: int, body: dict) -> httpx.Response:
    return httpx.Response(status, json=body)


def test_rasas_answers_are_read_as_delivered_refused_or_try_again() -> None:
    said = _answer(200, {"tracker": {"slots": {NOTIFIED_SLOT: "e1"}, "paused": False}})
    assert _judge(said, "rest:a", _row()).delivered
    paused = _judge(_answer(200, {"tracker": {"slots": {NOTIFIED_SLOT: None}, "paused": True}}), "rest:a", _row())
    assert not paused.delivered and not paused.refused and "人工接管" in paused.reason
    silent = _judge(_answer(200, {"tracker": {"slots": {}, "paused": False}}), "rest:a", _row())
    assert not silent.delivered and not silent.refused  # the action server was away: Rasa said nothing
    # A channel's DeliveryFailed, as Rasa's server reports it (rasa/server.py ConversationError).
    window = {"version": "3.6.21", "status": "failure", "reason": "ConversationError", "code": 500,
              "message": "An unexpected error occurred. Error: 微信客服消息未能送达：用户超过48小时未发消息、"
                         "已取消关注，或接口调用受限。请改用其他方式联系该用户。"}
    refused = _judge(_answer(500, window), "wechat:o1", _row())
    assert refused.refused and refused.reason.startswith("微信客服消息未能送达")
    crashed = _judge(_answer(500, {"message": "An unexpected error occurred. Error: KeyError('x')"}), "rest:a", _row())
    assert not crashed.refused and "HTTP 500" in crashed.reason
    assert "RASA_API_TOKEN" in _judge(_answer(401, {}), "rest:a", _row()).reason
