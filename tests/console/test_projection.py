"""The one reader of the conversation log (console/projection.py): one cursor, one late-commit rule, feeding the
conversation index and the takeover queue together."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation_log import ConversationEvent
from bot.log_migrations import upgrade
from bot.sqlite import create_engine
from console.index import Conversation, latest_conversation, refresh_index
from console.projection import LogCursor, refresh
from console.takeover import WAITING, Handoff, sync_handoffs
from tests.console import seed
from tests.postgres import postgres_or_skip

EVENTS = ConversationEvent.__table__


@pytest.fixture
def factory(tmp_path) -> Iterator[sessionmaker]:
    engine = create_engine(f"sqlite:///{tmp_path / 'log.db'}")
    upgrade(engine)
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()


def _state(db: Session, conversation: seed.Conversation) -> tuple[int | None, list[str]]:
    """What an operator sees of one citizen: the indexed conversation's turns, and the handoffs queued."""
    db.expire_all()
    indexed = latest_conversation(db, conversation.sender_hash)
    handoffs = [h.status for h in db.query(Handoff).filter_by(sender_hash=conversation.sender_hash)]
    return (indexed.turns if indexed else None), handoffs


def _turns(conversation: seed.Conversation) -> int:
    return sum(event["event"] == "user" for event in conversation.events)


def test_one_read_feeds_the_index_and_the_queue(factory: sessionmaker) -> None:
    citizen = seed.handoff(random.Random(1), time.time() - 300, "wechat")
    with factory() as db:
        seed.write_conversations(db.get_bind(), [citizen])
        assert refresh_index(db) == len(citizen.events)  # the index's refresh ...
        assert _state(db, citizen) == (2, [WAITING])  # ... queued the request too
        assert sync_handoffs(db) == 0  # and the queue's finds nothing left to read
        assert [c.key for c in db.query(LogCursor)] == ["conversation_log"]  # one cursor


def test_a_citizen_committed_late_reaches_the_index_and_the_queue_once(factory: sessionmaker) -> None:
    """Several Rasa replicas: one replica's rows (lower ids) commit after another's (higher ids) were read."""
    rng, now = random.Random(2), time.time()
    early, late = seed.entry_control_query(rng, now - 400, "rest"), seed.handoff(rng, now - 300, "telegram")
    early_rows, late_rows = seed.masked_rows([early]), seed.masked_rows([late])
    ids = iter(range(1, 10_000))
    first = [{**row, "id": next(ids)} for row in early_rows[:3]]
    held = [{**row, "id": next(ids)} for row in late_rows]  # given ids, not yet committed
    rest = [{**row, "id": next(ids)} for row in early_rows[3:]]
    with factory() as db:
        engine = db.get_bind()
        for rows in (first, rest):
            with engine.begin() as connection:
                connection.execute(EVENTS.insert(), rows)
            refresh(db)
        assert _state(db, late) == (None, [])
        assert _state(db, early)[0] == 1

        with engine.begin() as connection:
            connection.execute(EVENTS.insert(), held)
        assert refresh(db).handoffs == 1
        assert _state(db, late) == (2, [WAITING])
        events = db.query(Conversation).filter_by(sender_id=late.sender_hash).one().events
        assert events == len(late_rows)
        assert refresh(db).rows == 0  # read once: nothing counted twice
        assert _state(db, late) == (2, [WAITING])


@pytest.mark.postgres
def test_a_late_commit_on_postgresql_is_read_once() -> None:
    """The real thing: two writers on PostgreSQL, the one with the lower ids commits last."""
    rng, now = random.Random(3), time.time()
    slow, fast = seed.handoff(rng, now - 300, "webchat"), seed.small_talk(rng, now - 200, "rest")
    with postgres_or_skip("govbot_projection_test") as url:
        engine = create_engine(url)
        try:
            upgrade(engine)
            with Session(engine) as db, engine.connect() as slow_writer:
                transaction = slow_writer.begin()
                slow_writer.execute(EVENTS.insert(), seed.masked_rows([slow]))  # ids taken, not committed
                seed.write_conversations(engine, [fast])  # higher ids, committed first
                refresh(db)
                assert _state(db, fast)[0] == _turns(fast) and _state(db, slow) == (None, [])
                transaction.commit()
                assert refresh(db).handoffs == 1
                assert _state(db, slow) == (_turns(slow), [WAITING])
                assert refresh(db).rows == 0
        finally:
            engine.dispose()
