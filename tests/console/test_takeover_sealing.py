"""Sealed sender ids: what lets an operator's reply reach the citizen without the log ever holding the real id."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot.conversation_log import ConversationSender, MaskingSQLEventBroker, purge_older_than
from bot.masking import hash_sender_id
from bot.sealing import InvalidSeal, seal, unseal
from console.takeover import real_sender_id, sync_handoffs
from tests.console.conftest import login_as
from tests.console.seed import handoff, seed_via_broker
from tests.postgres import postgres_or_skip

OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


@pytest.fixture(autouse=True)
def seal_key(monkeypatch: pytest.MonkeyPatch) -> str:
    key = "test-seal-key-0123456789"
    monkeypatch.setenv("PII_SEAL_KEY", key)
    return key


def test_round_trip_and_every_seal_differs() -> None:
    first, second = seal(OPENID), seal(OPENID)
    assert first != second  # a random IV: equal ids cannot be spotted in the table
    assert OPENID not in first
    assert unseal(first) == unseal(second) == OPENID
    assert unseal(seal("微信用户-陈晓")) == "微信用户-陈晓"


def test_another_key_or_a_tampered_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    token = seal(OPENID)
    tampered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    with pytest.raises(InvalidSeal):
        unseal(tampered)
    with pytest.raises(InvalidSeal):
        unseal("not a token")
    monkeypatch.setenv("PII_SEAL_KEY", "another-key")
    with pytest.raises(InvalidSeal):
        unseal(token)


def _user_event(sender: str, text: str, channel: str = "wechat") -> dict:
    return {"event": "user", "sender_id": sender, "text": text, "timestamp": time.time(), "input_channel": channel,
            "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}}


def test_the_broker_stores_one_sealed_id_per_sender(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    broker = MaskingSQLEventBroker(url)
    try:
        for text in ("你好", "我想申请租房补贴", "转人工"):
            broker.publish(_user_event(OPENID, text))
        broker.publish(_user_event("1234567890", "/start", "telegram"))
        broker.publish({"event": "bot", "sender_id": "bot-only-sender", "text": "您好", "timestamp": time.time()})
        broker.flush()
        with broker.engine.connect() as connection:
            rows = connection.execute(sa.select(ConversationSender.__table__)).mappings().all()
            everything = " ".join(str(dict(r)) for r in rows)
        assert {(r["sender_hash"], r["channel"]) for r in rows} == {
            (hash_sender_id(OPENID), "wechat"),
            (hash_sender_id("1234567890"), "telegram"),
        }
        assert OPENID not in everything and "1234567890" not in everything
        with broker.session_scope() as session:
            assert real_sender_id(session, hash_sender_id(OPENID)) == OPENID
            assert real_sender_id(session, hash_sender_id("someone-else")) is None
            monkeypatch.setenv("PII_SEAL_KEY", "a-new-key-nobody-told-us-about")
            assert real_sender_id(session, hash_sender_id(OPENID)) is None  # refused, not garbage
    finally:
        broker.engine.dispose()


def test_a_sealed_id_copied_to_another_sender_is_not_used(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    broker = MaskingSQLEventBroker(url)
    try:
        broker.publish(_user_event(OPENID, "你好"))
        broker.flush()
        with broker.session_scope() as session:
            row = session.get(ConversationSender, hash_sender_id(OPENID))
            session.add(ConversationSender(sender_hash="u_0000000000000000", sealed_sender_id=row.sealed_sender_id))
        with broker.session_scope() as session:
            assert real_sender_id(session, "u_0000000000000000") is None
    finally:
        broker.engine.dispose()


def test_retention_removes_sealed_ids_without_events(tmp_path) -> None:
    broker = MaskingSQLEventBroker(f"sqlite:///{tmp_path / 'log.db'}")
    try:
        old = {**_user_event("old-user", "旧消息"), "timestamp": 1_000.0}
        broker.publish(old)
        broker.publish(_user_event(OPENID, "新消息"))
        broker.flush()
        with broker.session_scope() as session:
            assert purge_older_than(session, days=1) == 1
            assert real_sender_id(session, hash_sender_id("old-user")) is None
            assert real_sender_id(session, hash_sender_id(OPENID)) == OPENID
    finally:
        broker.engine.dispose()


def test_no_page_shows_the_sealed_or_the_real_id(client, console_app, console_db_url: str) -> None:
    conversation = handoff(random.Random(3), time.time() - 300, "wechat")
    seed_via_broker(console_db_url, [conversation])
    with console_app.state.session_factory() as db:
        sync_handoffs(db)
        db.commit()
        sealed = db.get(ConversationSender, conversation.sender_hash).sealed_sender_id
    login_as(client, "admin")
    pages = [client.get("/takeover"), client.get("/takeover/1"), client.get("/api/takeover/1/messages")]
    pages += [client.get("/admin/audit")]
    for page in pages:
        assert page.status_code == 200, page.text
        assert sealed not in page.text and sealed[:40] not in page.text
        assert conversation.sender not in page.text
    assert conversation.sender_hash in pages[1].text  # the hash is what operators see


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def log_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.db'}"
        return
    with postgres_or_skip("govbot_seal_test") as url:
        yield url


def test_two_replicas_store_one_row_per_sender(log_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """Two Rasa replicas see the same citizen: insert-if-absent keeps one row and logs no error."""
    brokers = [MaskingSQLEventBroker(log_url), MaskingSQLEventBroker(log_url)]
    try:
        with caplog.at_level(logging.ERROR, logger="bot.conversation_log"):
            for broker in brokers:
                broker.publish(_user_event(OPENID, "你好"))
                broker.publish(_user_event("webchat-3f2a9c1e-aaaa-bbbb-cccc-123456789abc", "你好", "webchat"))
                broker.flush()
        assert "Could not store" not in caplog.text
        with brokers[0].engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(ConversationSender.__table__)).scalar()
        assert count == 2
        with brokers[1].session_scope() as session:
            assert real_sender_id(session, hash_sender_id(OPENID)) == OPENID
    finally:
        for broker in brokers:
            broker.engine.dispose()
