"""The tracker stores that skip Rasa's per-turn re-reading must store and publish exactly what Rasa's would.

Run on a real SQLite file and the real local Redis (database 14). Each "turn" is what Rasa's processor does:
retrieve (or create), append events, save.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from rasa.core.brokers.broker import EventBroker
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import ROOT
from bot.tracker_stores import FastRedisTrackerStore, FastSQLTrackerStore

REDIS_URL = "redis://127.0.0.1:6379/14"


class CollectingBroker(EventBroker):
    """Keeps what the tracker store publishes, like the conversation log would receive it."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, event: dict[str, Any]) -> None:
        self.published.append(event)

    def is_ready(self) -> bool:
        return True


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


StoreFactory = Callable[[EventBroker | None], Any]


@pytest.fixture(params=["sqlite", "redis"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, domain: Domain) -> StoreFactory:
    """Each call is a new store on the same storage: another process, or another replica."""
    if request.param == "sqlite":
        return lambda broker=None: FastSQLTrackerStore(
            domain=domain, event_broker=broker, dialect="sqlite", db=str(tmp_path / "tracker.db")
        )
    redis.Redis.from_url(REDIS_URL).flushdb()
    return lambda broker=None: FastRedisTrackerStore(
        domain=domain, event_broker=broker, db=14, key_prefix="test", record_exp=3600
    )


def turn_events(text: str, city: str) -> list[Any]:
    return [
        UserUttered(text, {"name": "search_job_fairs", "confidence": 0.99}),
        SlotSet("school", city),
        ActionExecuted("action_search_job_fairs"),
        BotUttered(f"{city}近期的招聘会如下"),
        ActionExecuted("action_listen"),
    ]


async def take_turn(store: Any, sender: str, text: str, city: str) -> DialogueStateTracker:
    tracker = await store.get_or_create_tracker(sender)
    tracker.update_with_events(turn_events(text, city), domain=None)
    await store.save(tracker)
    return tracker


def user_texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


async def test_every_event_is_stored_and_published_once(make_store: StoreFactory) -> None:
    broker = CollectingBroker()
    store = make_store(broker)
    sender = uuid.uuid4().hex
    for index, city in enumerate(["杭州", "上海", "成都"]):
        await take_turn(store, sender, f"第{index + 1}个问题", city)

    reloaded = await make_store().retrieve(sender)  # a new process reads it from storage
    assert [e.as_dict() for e in reloaded.events] == [e.as_dict() for e in (await store.retrieve(sender)).events]
    assert reloaded.get_slot("school") == "成都"
    assert user_texts(broker.published) == ["第1个问题", "第2个问题", "第3个问题"]
    assert len(broker.published) == len(reloaded.events)  # nothing published twice


async def test_a_write_by_another_replica_is_seen(make_store: StoreFactory) -> None:
    broker_a, broker_b = CollectingBroker(), CollectingBroker()
    replica_a, replica_b = make_store(broker_a), make_store(broker_b)
    sender = uuid.uuid4().hex
    await take_turn(replica_a, sender, "问题一", "杭州")
    await take_turn(replica_b, sender, "问题二", "上海")

    tracker = await take_turn(replica_a, sender, "问题三", "成都")
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["问题一", "问题二", "问题三"]
    assert user_texts(broker_a.published) == ["问题一", "问题三"]
    assert user_texts(broker_b.published) == ["问题二"]
    assert len((await make_store().retrieve(sender)).events) == len(tracker.events)


async def test_a_rewrite_by_another_replica_is_seen_even_at_the_same_size(make_store: StoreFactory, request) -> None:
    """Replica B replaces the stored conversation (as Rasa's PUT .../tracker/events does) with one of exactly the same
    size: replica A must not hand out the tracker it kept. (Only Redis replaces; the SQL store only appends.)"""
    if request.node.callspec.params["make_store"] != "redis":
        pytest.skip("the SQL store never replaces stored events")
    replica_a, replica_b = make_store(), make_store()
    sender = uuid.uuid4().hex
    await take_turn(replica_a, sender, "问题一", "杭州")

    kept = await replica_b.retrieve(sender)
    rewritten = [SlotSet("school", "上海", e.timestamp) if isinstance(e, SlotSet) else e for e in kept.events]
    await replica_b.save(DialogueStateTracker.from_events(sender, rewritten, kept.slots.values()))
    stored = redis.Redis.from_url(REDIS_URL)
    assert stored.get(f"test:tracker:{sender}") is not None

    assert (await replica_a.retrieve(sender)).get_slot("school") == "上海"


async def test_a_turn_that_failed_before_saving_leaves_no_trace(make_store: StoreFactory) -> None:
    store = make_store(CollectingBroker())
    sender = uuid.uuid4().hex
    await take_turn(store, sender, "问题一", "杭州")

    broken = await store.retrieve(sender)
    broken.update_with_events(turn_events("没保存的问题", "西安"), domain=None)  # the turn crashed here

    tracker = await store.retrieve(sender)
    assert "没保存的问题" not in [e.text for e in tracker.events if isinstance(e, UserUttered)]
    assert tracker.get_slot("school") == "杭州"


async def test_a_new_session_hides_the_old_one_but_keeps_it_stored(make_store: StoreFactory) -> None:
    broker = CollectingBroker()
    store = make_store(broker)
    sender = uuid.uuid4().hex
    await take_turn(store, sender, "旧会话的问题", "杭州")

    tracker = await store.retrieve(sender)
    tracker.update_with_events(
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")], domain=None
    )
    tracker.update_with_events(turn_events("新会话的问题", "上海"), domain=None)
    await store.save(tracker)

    latest = await store.retrieve(sender)
    assert [e.text for e in latest.events if isinstance(e, UserUttered)] == ["新会话的问题"]
    full = await make_store().retrieve_full_tracker(sender)
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["旧会话的问题", "新会话的问题"]
    assert user_texts(broker.published) == ["旧会话的问题", "新会话的问题"]

    await take_turn(store, sender, "再问一个", "成都")  # and later turns still store exactly once
    full = await make_store().retrieve_full_tracker(sender)
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["旧会话的问题", "新会话的问题", "再问一个"]
    assert user_texts(broker.published) == ["旧会话的问题", "新会话的问题", "再问一个"]


async def test_sql_rows_are_the_ones_rasa_writes(tmp_path: Path, domain: Domain) -> None:
    """The console and Rasa's own tools read these columns: the bulk insert must fill them alike."""
    from rasa.core.tracker_store import SQLTrackerStore

    def rows(store: SQLTrackerStore) -> list[tuple]:
        with store.engine.connect() as connection:
            query = "SELECT sender_id, type_name, intent_name, action_name, data FROM events ORDER BY id"
            return [tuple(row) for row in connection.exec_driver_sql(query)]

    ours = FastSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasas = SQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    for store in (ours, rasas):
        for city in ("杭州", "上海"):
            await take_turn(store, "same-sender", f"{city}的招聘会", city)
    ours_rows, rasa_rows = rows(ours), rows(rasas)
    assert [row[:4] for row in ours_rows] == [row[:4] for row in rasa_rows]
    assert ("same-sender", "user", "search_job_fairs", None) in [row[:4] for row in ours_rows]
    assert [json.loads(row[4])["event"] for row in ours_rows] == [json.loads(row[4])["event"] for row in rasa_rows]


def test_only_the_most_recent_trackers_are_kept_in_memory(domain: Domain) -> None:
    """The reuse cache keeps lengths for many conversations but tracker objects for a bounded few."""
    from bot.tracker_stores import _Seen, _SeenConversations

    seen = _SeenConversations(max_conversations=5, max_trackers=2)
    for index in range(4):
        sender = f"citizen-{index}"
        seen.put(sender, _Seen(DialogueStateTracker(sender, domain.slots), 0, index))
    assert seen.trackers_held() == 2
    assert [seen.get(f"citizen-{i}").tracker is not None for i in range(4)] == [False, False, True, True]
    assert all(seen.get(f"citizen-{i}").length == 0 for i in range(4))  # lengths are still known
    for index in range(4, 8):
        seen.put(f"citizen-{index}", _Seen(None, 3, index))
    assert seen.get("citizen-0") is None and seen.trackers_held() <= 2
