"""Rasa's SQL and Redis tracker stores with the per-turn re-reading taken out.

Profiling the Rasa server under load showed the tracker store as the largest cost of a turn: every turn
retrieves the conversation (query + JSON + replay of every event), and `save` retrieves it all over again to
find the new events for the event broker (the SQL store then counts the stored events once more; the Redis
store also re-reads the key to merge older sessions). Here:

- the store remembers, per conversation, how many events of the latest session it holds, so `save` streams and
  stores only the events added since without re-reading;
- the tracker object saved last is kept and handed out again by the next `retrieve`, if nobody wrote the
  conversation since (a cheap fingerprint: the newest event id in SQL; in Redis a random version written with
  every save, so a turn another replica processed is always seen) and the object was not changed without being
  saved (a turn that failed half way): otherwise it is loaded as before.

A turn retrieves its tracker first and saves it last while holding the conversation's lock (Redis lock store
across replicas), so what the store remembers between the two is still true when it saves.

Trackers hold what citizens typed, raw: they expire. Redis drops a conversation's key `record_exp` seconds after
its last save; the SQL store does the same by the time of the newest event: an expired conversation is deleted
when it is next retrieved, and all expired ones by a sweep at most once an hour (and by `python -m console purge`,
through `purge_expired_trackers`). The SQL store's queries run on a worker thread, not on the server's event loop.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted
from rasa.shared.core.trackers import DialogueStateTracker, get_trackers_for_conversation_sessions
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.orm import sessionmaker

from bot.rasa_compat import check_rasa_version
from bot.settings import Settings
from bot.sqlite import create_engine

logger = logging.getLogger(__name__)
check_rasa_version()  # subclasses of Rasa internals (bot/rasa_compat.py)

SWEEP_INTERVAL_SECONDS = 3600
TRACKER_DB_NAME = "tracker.db"


@dataclass
class _Seen:
    tracker: DialogueStateTracker | None  # the object last handed out or saved
    length: int  # events of the latest session held by the store
    stamp: Any  # fingerprint of the stored conversation
    single_session: bool = True  # the store holds no older session under this conversation (Redis)

    def reusable(self) -> bool:
        return self.tracker is not None and self.single_session and len(self.tracker.events) == self.length


def _single_session(tracker: DialogueStateTracker) -> bool:
    """No older session before the latest one: Rasa splits sessions at `action_session_start`.

    A session that started during this turn leaves the older one in the object, which `retrieve` must not
    hand out again (it returns the latest session only)."""
    return not any(
        isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME
        for event in itertools.islice(tracker.events, 1, None)
    )


class _SeenConversations:
    """Bounded memory: lengths for many conversations, tracker objects for the most recently used ones."""

    def __init__(self, max_conversations: int = 50_000, max_trackers: int = 1_000) -> None:
        self._seen: OrderedDict[str, _Seen] = OrderedDict()
        self._holding: OrderedDict[str, None] = OrderedDict()  # senders whose entry keeps a tracker object
        self._max_conversations = max_conversations
        self._max_trackers = max_trackers

    def get(self, sender_id: str) -> _Seen | None:
        return self._seen.get(sender_id)

    def forget(self, sender_id: str) -> None:
        self._seen.pop(sender_id, None)
        self._holding.pop(sender_id, None)

    def put(self, sender_id: str, seen: _Seen) -> None:
        self._seen[sender_id] = seen
        self._seen.move_to_end(sender_id)
        if len(self._seen) > self._max_conversations:
            forgotten, _ = self._seen.popitem(last=False)
            self._holding.pop(forgotten, None)
        if seen.tracker is None:
            self._holding.pop(sender_id, None)
            return
        self._holding[sender_id] = None
        self._holding.move_to_end(sender_id)
        while len(self._holding) > self._max_trackers:
            # Drop the tracker object (not the length) of the conversation idle longest.
            idle, _ = self._holding.popitem(last=False)
            self._seen[idle].tracker = None

    def trackers_held(self) -> int:
        return len(self._holding)


class _RememberingStore:
    _seen: _SeenConversations

    async def _stamp(self, sender_id: str) -> Any:
        raise NotImplementedError

    async def _load(self, sender_id: str, stamp: Any) -> _Seen:
        raise NotImplementedError

    async def _expire_if_stale(self, sender_id: str, stamp: Any) -> bool:
        """Delete the conversation when it has expired (True); Redis expires keys itself."""
        return False

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        stamp = await self._stamp(sender_id)
        if await self._expire_if_stale(sender_id, stamp):
            self._seen.forget(sender_id)
            return None
        seen = self._seen.get(sender_id)
        if seen is not None and seen.reusable() and stamp is not None and stamp == seen.stamp:
            return seen.tracker
        seen = await self._load(sender_id, stamp)
        self._seen.put(sender_id, seen)
        return seen.tracker

    def _new_events(self, tracker: DialogueStateTracker) -> list[Any] | None:
        seen = self._seen.get(tracker.sender_id)
        return None if seen is None else list(itertools.islice(tracker.events, seen.length, None))

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        new_events = self._new_events(tracker)
        if self.event_broker is None or new_events is None:  # type: ignore[attr-defined]
            await super().stream_events(tracker)  # type: ignore[misc]
            return
        await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)  # type: ignore[attr-defined]


class FastSQLTrackerStore(_RememberingStore, SQLTrackerStore):
    def __init__(self, *args: Any, record_exp: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.record_exp = record_exp  # seconds a conversation is kept after its newest event; None: forever
        self._seen = _SeenConversations()
        self._last_sweep = time.monotonic()
        # Rasa's engine opens a new SQLite connection per session: use a pooled, tuned one (bot/sqlite.py).
        self.engine.dispose()
        self.engine = create_engine(self.engine.url)
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _query_stamp(self, sender_id: str) -> tuple[Any, Any]:
        newest = sa.select(sa.func.max(self.SQLEvent.id), sa.func.max(self.SQLEvent.timestamp)).where(
            self.SQLEvent.sender_id == sender_id
        )
        with self.engine.connect() as connection:
            return tuple(connection.execute(newest).one())

    async def _stamp(self, sender_id: str) -> Any:
        """(newest event id, its time): the id tells whether anyone wrote, the time whether it expired."""
        return await asyncio.to_thread(self._query_stamp, sender_id)

    def _cutoff(self) -> float | None:
        return None if not self.record_exp else time.time() - self.record_exp

    async def _expire_if_stale(self, sender_id: str, stamp: Any) -> bool:
        cutoff, newest = self._cutoff(), stamp[1]
        if cutoff is None or newest is None or newest >= cutoff:
            return False
        await asyncio.to_thread(self._delete, sender_id)
        return True

    def _delete(self, sender_id: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(sa.delete(self.SQLEvent.__table__).where(self.SQLEvent.sender_id == sender_id))

    def _query_events(self, sender_id: str, all_sessions: bool) -> list[dict[str, Any]]:
        with self.session_scope() as session:
            rows = self._event_query(session, sender_id, fetch_events_from_all_sessions=all_sessions).all()
            return [json.loads(row.data) for row in rows]

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        events = await asyncio.to_thread(self._query_events, sender_id, fetch_events_from_all_sessions)
        if not self.domain or not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def retrieve_full_tracker(self, conversation_id: str) -> DialogueStateTracker | None:
        if await self._expire_if_stale(conversation_id, await self._stamp(conversation_id)):
            self._seen.forget(conversation_id)
            return None
        return await self._retrieve(conversation_id, fetch_events_from_all_sessions=True)

    async def _load(self, sender_id: str, stamp: Any) -> _Seen:
        tracker = await self._retrieve(sender_id, fetch_events_from_all_sessions=False)
        return _Seen(tracker, len(tracker.events) if tracker else 0, stamp)

    async def save(self, tracker: DialogueStateTracker) -> None:
        new_events = self._new_events(tracker)
        if new_events is None:
            await super().save(tracker)
        else:
            await self.stream_events(tracker)
            await asyncio.to_thread(self._insert, tracker.sender_id, new_events)
        stamp = await self._stamp(tracker.sender_id)
        self._seen.put(tracker.sender_id, _Seen(tracker, len(tracker.events), stamp, _single_session(tracker)))
        self._maybe_sweep()

    def _maybe_sweep(self) -> None:
        """Now and then, delete every expired conversation (in the background: a turn never waits for it)."""
        cutoff = self._cutoff()
        if cutoff is None or time.monotonic() - self._last_sweep < SWEEP_INTERVAL_SECONDS:
            return
        self._last_sweep = time.monotonic()
        asyncio.get_running_loop().run_in_executor(None, delete_expired, self.engine, self.SQLEvent.__table__, cutoff)

    def _insert(self, sender_id: str, events: list[Any]) -> None:
        """The same rows as Rasa's `save`, in one bulk insert instead of one ORM object per event."""
        if not events:
            return
        rows = []
        for event in events:
            data = event.as_dict()
            rows.append(
                {
                    "sender_id": sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                }
            )
        with self.engine.begin() as connection:
            connection.execute(self.SQLEvent.__table__.insert(), rows)


class FastRedisTrackerStore(_RememberingStore, RedisTrackerStore):
    """Rasa's Redis store keeps all sessions under one key and `retrieve` returns only the latest one, so its
    `save` re-reads the key to merge the older sessions back in; conversations with one session skip that.

    Every save also writes a random version beside the conversation (same expiry). Replicas share the store: a
    replica hands out its kept tracker only while the version is the one it wrote itself; any other replica's save
    changes it. (The stored size, used before, could stay the same after another writer's save.)"""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen = _SeenConversations()
        # Not under key_prefix: Rasa lists conversations by that prefix (`keys()`).
        self._version_prefix = self.key_prefix.rstrip(":") + "-version:"

    async def _stamp(self, sender_id: str) -> Any:
        return self.red.get(self._version_prefix + sender_id)

    async def _load(self, sender_id: str, stamp: Any) -> _Seen:
        stored = self.red.get(self.key_prefix + sender_id)
        tracker = self.deserialise_tracker(sender_id, stored) if stored is not None else None
        if tracker is None:
            return _Seen(None, 0, None)
        sessions = get_trackers_for_conversation_sessions(tracker)
        latest = sessions[-1] if len(sessions) > 1 else tracker
        # A save after `stamp` was read leaves a newer version: the next retrieve loads again (never the reverse).
        return _Seen(latest, len(latest.events), stamp, single_session=len(sessions) <= 1)

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        seen = self._seen.get(tracker.sender_id)
        expiry = timeout or self.record_exp
        version = secrets.token_hex(8).encode()
        if seen is None or not seen.single_session:
            await super().save(tracker, timeout)
            self.red.set(self._version_prefix + tracker.sender_id, version, ex=expiry)
            self._seen.put(tracker.sender_id, _Seen(None, len(tracker.events), None, single_session=False))
            return
        await self.stream_events(tracker)
        pipe = self.red.pipeline(transaction=True)
        pipe.set(self.key_prefix + tracker.sender_id, self.serialise_tracker(tracker), ex=expiry)
        pipe.set(self._version_prefix + tracker.sender_id, version, ex=expiry)
        pipe.execute()
        self._seen.put(tracker.sender_id, _Seen(tracker, len(tracker.events), version, _single_session(tracker)))


def delete_expired(engine: sa.engine.Engine, events: sa.Table, cutoff: float) -> int:
    """Delete the conversations whose newest event is older than `cutoff`; how many were deleted."""
    expired = (
        sa.select(events.c.sender_id).group_by(events.c.sender_id).having(sa.func.max(events.c.timestamp) < cutoff)
    )
    try:
        with engine.begin() as connection:
            senders = [row[0] for row in connection.execute(expired)]
            for start in range(0, len(senders), 500):
                connection.execute(sa.delete(events).where(events.c.sender_id.in_(senders[start : start + 500])))
    except sa.exc.SQLAlchemyError:
        logger.exception("Could not delete expired conversations from the tracker store.")
        return 0
    if senders:
        logger.info("Deleted %d expired conversation(s) from the tracker store.", len(senders))
    return len(senders)


def purge_expired_trackers(settings: Settings | None = None) -> int:
    """Delete expired conversations from the embedded SQLite tracker store (Redis expires its keys itself)."""
    settings = settings or Settings.from_env()
    path = settings.var_dir / TRACKER_DB_NAME
    if settings.redis_url or not path.exists():
        return 0
    engine = create_engine(f"sqlite:///{path}")
    try:
        table = sa.Table("events", sa.MetaData(), autoload_with=engine)
        return delete_expired(engine, table, time.time() - settings.tracker_ttl_seconds)
    except sa.exc.NoSuchTableError:
        return 0
    finally:
        engine.dispose()
