"""The conversation log for operators: Rasa's SQL event broker, masking every event before it is stored.

``endpoints.yml`` names ``bot.stores.ConfiguredEventBroker``, which hands back this broker unless ``RABBITMQ_URL``
is set (then Rasa's Pika broker, and bot/log_consumer.py writes the log with this module's ConversationLogWriter).
Configured directly::

    event_broker:
      type: bot.conversation_log.MaskingSQLEventBroker
      url: sqlite:///var/conversation_log.db   # optional; env DATABASE_URL wins

Database: env ``DATABASE_URL`` (an SQLAlchemy URL, e.g. ``postgresql://postgres@127.0.0.1:5432/govbot``),
else the YAML's ``url:``, else ``sqlite:///var/conversation_log.db``.

Rows go to the table ``conversation_events`` (not Rasa's ``events``, which the SQL tracker store also uses):
the masked event as JSON plus a few columns the console filters on (hashed sender, type, time, intent,
confidence, action), and ``event_key``, a keyed hash of the raw event with a unique index: the same event written
twice (a RabbitMQ redelivery) is one row. The schema is versioned (bot/log_migrations, ``python -m bot migrate``).

Once per sender, the table ``conversation_senders`` gets the real channel user id, sealed (bot/sealing.py: encrypted
under ``PII_SEAL_KEY``), so an operator's takeover reply can reach the citizen; the events themselves never hold it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import time
from asyncio import AbstractEventLoop
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rasa.core.brokers.sql import SQLEventBroker
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.log_migrations import ensure_schema
from bot.masking import (
    PERSONAL_FIELDS,
    asks_for_code,
    expected_reply_values,
    hash_sender_id,
    install_log_masking,
    mask_event,
    personal_values,
    withheld_event,
)
from bot.rasa_compat import check_rasa_version
from bot.sealing import seal
from bot.settings import Settings, secret_from_env
from bot.sqlite import create_engine

logger = logging.getLogger(__name__)
check_rasa_version()  # subclasses of Rasa internals (bot/rasa_compat.py)

BATCH_SIZE = 200
TABLE_NAME = "conversation_events"
SENDERS_TABLE_NAME = "conversation_senders"
KNOWN_SENDERS_IN_MEMORY = 100_000  # forgetting one only costs an insert that finds the row already there
ECHO_VALUES_PER_CONVERSATION = 200  # the most recent ones; bounds the memory a chatty (or hostile) user can fill

Base = declarative_base()


class ConversationEvent(Base):
    """One masked Rasa event. `data` is the whole masked event; the other columns are copies for filtering."""

    __tablename__ = TABLE_NAME
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    sender_id = sa.Column(sa.String(64), index=True)  # keyed hash, never the channel's user id
    type_name = sa.Column(sa.String(64), index=True)
    timestamp = sa.Column(sa.Float, index=True)
    intent_name = sa.Column(sa.String(255), index=True)
    intent_confidence = sa.Column(sa.Float)
    action_name = sa.Column(sa.String(255))
    data = sa.Column(sa.Text)
    # Keyed hash of the raw event (event_key below): a redelivered event finds its row and is not stored twice.
    event_key = sa.Column(sa.String(64), index=True, unique=True)


sa.Index("ix_conversation_events_sender_time", ConversationEvent.sender_id, ConversationEvent.timestamp)


class ConversationSender(Base):
    """The real channel user id behind one hashed sender, sealed (encrypted), for takeover replies and unmasking."""

    __tablename__ = SENDERS_TABLE_NAME
    sender_hash = sa.Column(sa.String(64), primary_key=True)
    sealed_sender_id = sa.Column(sa.Text, nullable=False)
    channel = sa.Column(sa.String(64))  # input_channel of the first user message seen
    first_seen = sa.Column(sa.Float)


@dataclass(frozen=True)
class _NewSender:
    """Found beside a user event on the writer thread: sealed there, stored if absent."""

    sender_hash: str
    sender_id: str
    channel: str | None
    timestamp: float | None


def resolve_database_url(config_url: str | URL | None = None) -> str | URL:
    """DATABASE_URL, else the endpoint's `url:`, else the embedded SQLite file under the var directory."""
    settings = Settings.from_env()
    return settings.database_url or config_url or settings.conversation_log_url


def prepare_database(url: str | URL) -> None:
    """Make the database reachable: the SQLite file's folder, or the PostgreSQL database itself."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        return
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return
    # Like Rasa's SQL tracker store: create the database on first start instead of failing.
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}
            ).scalar()
            if not exists:
                quoted = admin.dialect.identifier_preparer.quote(parsed.database)
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
                logger.info("Created database %s for the conversation log.", parsed.database)
    except sa.exc.SQLAlchemyError as error:  # no rights on "postgres": the real connect below will tell
        logger.debug("Could not check/create the conversation log database: %s", error)
    finally:
        admin.dispose()


@dataclass
class _Conversation:
    values: dict[str, str] = field(default_factory=dict)  # raw personal value → field name
    expected: str | None = None  # personal field the bot has just asked for
    seen: float = 0.0


class _ConversationMemory:
    """What each conversation revealed recently, so later echoes are masked too: a bot reply "张三您好",
    a bare "482913" after "请输入验证码". In memory only, bounded and short-lived, like the live tracker."""

    def __init__(self, ttl_seconds: float, max_conversations: int) -> None:
        self.ttl = ttl_seconds
        self.max_conversations = max_conversations
        self._items: OrderedDict[str, _Conversation] = OrderedDict()

    def get(self, key: str) -> _Conversation:
        item = self._items.get(key)
        if item is None or time.monotonic() - item.seen > self.ttl:
            item = _Conversation()
        item.seen = time.monotonic()
        if self.ttl > 0:
            self._items[key] = item
            self._items.move_to_end(key)
            while len(self._items) > self.max_conversations:
                self._items.popitem(last=False)
        return item


@dataclass
class PreparedBatch:
    """Masked rows ready to store: what both writers (in-process broker, RabbitMQ consumer) insert."""

    events: list[dict[str, Any]]
    senders: list[dict[str, Any]]

    @property
    def sender_hashes(self) -> list[str]:
        return [row["sender_hash"] for row in self.senders]


class ConversationLogWriter:
    """The write path of the conversation log: mask each raw event (with the conversation's memory), note new
    senders, store masked rows and sealed sender ids. One writer per process, fed in order by one thread or task:
    MaskingSQLEventBroker's writer thread, or the log consumer (bot/log_consumer.py)."""

    def __init__(
        self,
        engine: sa.engine.Engine,
        *,
        echo_memory_seconds: float = 3600,
        echo_memory_conversations: int = 10_000,
    ) -> None:
        self.engine = engine
        self._memory = _ConversationMemory(echo_memory_seconds, echo_memory_conversations)
        # Senders whose sealed id is stored (or about to be): one row per sender, nothing to do on later turns.
        # Like the echo memory, only the writing thread touches it.
        self._known_senders: OrderedDict[str, None] = OrderedDict()

    def mask(self, event: dict[str, Any]) -> dict[str, Any]:
        """Mask one event, using (and updating) what this conversation revealed before."""
        state = self._memory.get(hash_sender_id(event.get("sender_id")) or "")
        kind = event.get("event")
        found = personal_values(event)
        if kind == "user" and state.expected:
            found.update(expected_reply_values(state.expected, event.get("text")))
        masked = mask_event(event, {**state.values, **found})
        _remember(state.values, found)
        if kind == "slot" and event.get("name") == REQUESTED_SLOT:
            value = event.get("value")
            state.expected = value if isinstance(value, str) and value in PERSONAL_FIELDS else None
        elif kind == "bot" and asks_for_code(event.get("text")):
            state.expected = "sms_code"
        elif kind == "user" or (kind == "active_loop" and not event.get("name")):
            state.expected = None  # answered (a re-ask sets it again), or the form ended
        return masked

    def _note_sender(self, event: dict[str, Any], masked: dict[str, Any]) -> _NewSender | None:
        """The sender to seal and store, the first time one of their user events is seen (writer thread)."""
        sender_id, sender_hash = event.get("sender_id"), masked.get("sender_id")
        if event.get("event") != "user" or sender_id is None or not sender_hash or sender_hash == sender_id:
            return None  # nothing to seal (no id, or it was already a hash)
        if sender_hash in self._known_senders:
            self._known_senders.move_to_end(sender_hash)
            return None
        self._known_senders[sender_hash] = None
        while len(self._known_senders) > KNOWN_SENDERS_IN_MEMORY:
            self._known_senders.popitem(last=False)
        return _NewSender(sender_hash, str(sender_id), event.get("input_channel"), event.get("timestamp"))

    def prepare(self, batch: list[dict[str, Any] | None]) -> PreparedBatch:
        """Mask a batch of raw events, in order: the rows to insert and the new senders' sealed ids."""
        events: list[dict[str, Any]] = []
        senders: list[_NewSender] = []
        for event in batch:
            if event is None:
                continue
            masked = self._mask_safely(event)
            events.append({**_row_values(masked), "event_key": event_key(event)})
            sender = self._note_sender(event, masked)
            if sender is not None:
                senders.append(sender)
        return PreparedBatch(events, _sender_rows(senders))

    def _mask_safely(self, event: dict[str, Any]) -> dict[str, Any]:
        """The masked event; if masking fails, only its kind, time and hashed sender (never the raw event)."""
        try:
            return self.mask(event)
        except Exception as error:  # the message names no value: the error's text might
            kind, reason = event.get("event"), type(error).__name__
            logger.error("Could not mask a %s event (%s): stored without its content.", kind, reason)
            return withheld_event(event)

    def store(self, prepared: PreparedBatch) -> None:
        """Events and senders in one transaction, each row inserted only if absent (redeliveries); raises on a
        database error, and the caller retries the same batch (the log consumer, which acks only after this)."""
        with self.engine.begin() as connection:
            if prepared.events:
                connection.execute(_insert_if_absent(self.engine, ConversationEvent, ["event_key"]), prepared.events)
            if prepared.senders:
                connection.execute(_insert_if_absent(self.engine, ConversationSender, ["sender_hash"]),
                                   prepared.senders)

    def forget_senders(self, prepared: PreparedBatch) -> None:
        """After a batch was given up: its senders are sealed again the next time they speak."""
        for sender_hash in prepared.sender_hashes:
            self._known_senders.pop(sender_hash, None)

    def write_or_log(self, batch: list[dict[str, Any] | None]) -> None:
        """The in-process writer: events, then senders, each logged and dropped on a database error (the
        conversation goes on; a sender is sealed again on their next message)."""
        prepared = self.prepare(batch)
        if prepared.events:
            self._store(prepared.events)
        if prepared.senders:
            self._store_senders(prepared)

    def _store(self, rows: list[dict[str, Any]]) -> None:
        """One bulk insert per batch (no ORM objects: this thread shares the GIL with the Rasa server)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(_insert_if_absent(self.engine, ConversationEvent, ["event_key"]), rows)
        except sa.exc.SQLAlchemyError:
            logger.exception("Could not store %d event(s) in the conversation log.", len(rows))

    def _store_senders(self, prepared: PreparedBatch) -> None:
        """Insert-if-absent, one row per sender; the log line names hashes only."""
        try:
            with self.engine.begin() as connection:
                connection.execute(_insert_if_absent(self.engine, ConversationSender, ["sender_hash"]),
                                   prepared.senders)
        except sa.exc.SQLAlchemyError:
            logger.exception("Could not store the sealed ids of %s.", ", ".join(prepared.sender_hashes))
            self.forget_senders(prepared)


class MaskingSQLEventBroker(ConversationLogWriter, SQLEventBroker):
    """Rasa `SQLEventBroker` that stores each event masked (bot.masking.mask_event) with a hashed sender."""

    Base = Base
    SQLBrokerEvent = ConversationEvent

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        echo_memory_seconds: float = 3600,
        echo_memory_conversations: int = 10_000,
        **engine_kwargs: Any,
    ) -> None:
        # The parent's __init__ builds its URL from dialect/host/db pieces; we take one URL instead.
        self.url = url or resolve_database_url()
        engine = open_log_database(self.url, **engine_kwargs)
        ConversationLogWriter.__init__(
            self, engine, echo_memory_seconds=echo_memory_seconds, echo_memory_conversations=echo_memory_conversations
        )
        self.sessionmaker = sessionmaker(bind=self.engine)
        # Masking and writing happen on one background thread, in order and in batches, so neither a long
        # message nor a database commit ever blocks the Rasa server's event loop.
        self._pending: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._writer = threading.Thread(target=self._write_forever, name="conversation-log", daemon=True)
        self._writer.start()

    @classmethod
    async def from_endpoint_config(
        cls,
        broker_config: EndpointConfig,
        event_loop: AbstractEventLoop | None = None,
    ) -> MaskingSQLEventBroker:
        """Called by Rasa for `event_broker: {type: bot.conversation_log.MaskingSQLEventBroker, ...}`."""
        install_log_masking()  # the Rasa server process logs user messages too: mask them from here on
        options = dict(broker_config.kwargs)
        url = broker_config.url
        if not url and options.get("dialect"):  # Rasa's SQL broker style: dialect/host/port/db/username/…
            from rasa.core.tracker_store import SQLTrackerStore

            url = SQLTrackerStore.get_db_url(
                options.pop("dialect"),
                options.pop("host", None),
                options.pop("port", None),
                options.pop("db", "events.db"),
                options.pop("username", None),
                options.pop("password", None),
            )
        memory_keys = ("echo_memory_seconds", "echo_memory_conversations")
        memory_options = {key: options.pop(key) for key in memory_keys if key in options}
        if options:
            logger.warning("MaskingSQLEventBroker ignores unknown options: %s", ", ".join(sorted(options)))
        return cls(resolve_database_url(url), **memory_options)

    def publish(self, event: dict[str, Any]) -> None:
        """Queue the raw event: Rasa calls this on its event loop, so it must stay cheap whatever the event.
        The writer thread masks it (in order, with the conversation's memory) and stores only the masked copy;
        the raw event lives nowhere but in this in-memory queue."""
        self._pending.put(dict(event))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until every published event is masked and stored (tests and shutdown)."""
        with self._pending.all_tasks_done:
            self._pending.all_tasks_done.wait_for(lambda: not self._pending.unfinished_tasks, timeout)

    def _write_forever(self) -> None:
        while True:
            batch = [self._pending.get()]
            while len(batch) < BATCH_SIZE and not self._pending.empty():
                batch.append(self._pending.get_nowait())
            try:
                self.write_or_log(batch)
            except Exception:  # the thread must live on, or every later event is lost
                logger.exception("Could not write %d queued event(s) to the conversation log.", len(batch))
            finally:
                for _ in batch:
                    self._pending.task_done()
            stop = None in batch
            del batch  # raw events must not outlive their turn in the queue
            if stop:
                return

    def iter_events(self, sender_hash: str | None = None, **filters: Any) -> list[dict[str, Any]]:
        """All stored (masked) events, oldest first; see `iter_events` below."""
        self.flush()
        with self.session_scope() as session:
            return list(iter_events(session, sender_hash, **filters))

    async def close(self) -> None:
        self._pending.put(None)
        self._writer.join(timeout=10)
        self.engine.dispose()


def open_log_database(url: str | URL, **engine_kwargs: Any) -> sa.engine.Engine:
    """An engine on the conversation log's database, created if needed and at the newest schema (development)
    or checked to be (production: SchemaNotReady until `python -m bot migrate` ran)."""
    prepare_database(url)
    safe_url = make_url(url).render_as_string(hide_password=True)
    logger.debug("Conversation log: connecting to %s", safe_url)
    engine = create_engine(url, **engine_kwargs)
    ensure_schema(engine)
    return engine


def event_key(event: dict[str, Any]) -> str:
    """The stable id of one raw event: a keyed hash (HMAC-SHA256 under PII_HASH_SECRET, like the sender hashes) of
    its canonical JSON, which holds the sender id and Rasa's creation timestamp. The same event delivered twice
    gives the same key; two events differ at least in their timestamps. Keyed, so the column is no oracle for
    guessing the personal data the raw event held."""
    canonical = json.dumps(event, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    secret = secret_from_env("PII_HASH_SECRET", "user ids are hashed").encode("utf-8")
    return hmac.new(secret, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _sender_rows(senders: list[_NewSender]) -> list[dict[str, Any]]:
    return [
        {
            "sender_hash": s.sender_hash,
            "sealed_sender_id": seal(s.sender_id),
            "channel": s.channel,
            "first_seen": s.timestamp if s.timestamp is not None else time.time(),
        }
        for s in {s.sender_hash: s for s in senders}.values()
    ]


def _remember(values: dict[str, str], found: dict[str, str]) -> None:
    """Add what this event revealed to the conversation's memory, keeping only the most recent values."""
    for value, field_name in found.items():
        values.pop(value, None)
        values[value] = field_name
    while len(values) > ECHO_VALUES_PER_CONVERSATION:
        del values[next(iter(values))]


def _insert_if_absent(engine: sa.engine.Engine, model: Any, keys: list[str]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL), for executemany: another replica may have stored
    the sender, a redelivered event is already there."""
    table = model.__table__
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif engine.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # other databases: plain inserts (a duplicate fails the batch)
        return table.insert()
    return insert(table).on_conflict_do_nothing(index_elements=keys)


def _row_values(event: dict[str, Any]) -> dict[str, Any]:
    intent = (event.get("parse_data") or {}).get("intent") or {}
    is_action = event.get("event") == "action"
    return {
        "sender_id": event.get("sender_id"),
        "type_name": event.get("event"),
        "timestamp": event.get("timestamp"),
        "intent_name": intent.get("name") if isinstance(intent, dict) else None,
        "intent_confidence": intent.get("confidence") if isinstance(intent, dict) else None,
        "action_name": event.get("name") if is_action else None,
        # real characters, not \\u escapes: the console searches Chinese text in this column
        "data": json.dumps(event, ensure_ascii=False),
    }


# ----------------------------------------------------------------------------------------------------
# Read helpers (tests, operator console)


def iter_event_rows(
    session: Session,
    sender_hash: str | None = None,
    *,
    since: float | None = None,
    until: float | None = None,
    event_types: list[str] | None = None,
    limit: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row id, masked event dict) in storage order, optionally for one hashed sender, a time range
    [since, until) and some event types ("user", "bot", "action", "slot", …)."""
    query = session.query(ConversationEvent)
    if sender_hash is not None:
        query = query.filter(ConversationEvent.sender_id == sender_hash)
    if since is not None:
        query = query.filter(ConversationEvent.timestamp >= since)
    if until is not None:
        query = query.filter(ConversationEvent.timestamp < until)
    if event_types:
        query = query.filter(ConversationEvent.type_name.in_(event_types))
    query = query.order_by(ConversationEvent.id)
    if limit is not None:
        query = query.limit(limit)
    for row in query.yield_per(500):
        yield row.id, json.loads(row.data)


def iter_events(session: Session, sender_hash: str | None = None, **filters: Any) -> Iterator[dict[str, Any]]:
    """The stored (masked) events as dicts, as Rasa published them but masked; filters as iter_event_rows."""
    for _, event in iter_event_rows(session, sender_hash, **filters):
        yield event


def sender_hashes(session: Session) -> list[str]:
    """Hashed ids of every conversation in the log."""
    rows = session.query(ConversationEvent.sender_id).distinct().order_by(ConversationEvent.sender_id)
    return [sender for (sender,) in rows if sender is not None]


def purge_older_than(session: Session, days: float = 180, *, now: float | None = None) -> int:
    """Delete events older than `days` (retention, default 180 days); returns how many were deleted."""
    cutoff = (now if now is not None else time.time()) - days * 86400
    deleted = (
        session.query(ConversationEvent)
        .filter(ConversationEvent.timestamp < cutoff)
        .delete(synchronize_session=False)
    )
    purge_unused_senders(session)
    session.commit()
    return deleted


def purge_unused_senders(session: Session) -> int:
    """Delete the sealed ids of senders with no event left in the log (retention; the caller commits)."""
    has_events = sa.exists().where(ConversationEvent.sender_id == ConversationSender.sender_hash)
    return session.query(ConversationSender).filter(~has_events).delete(synchronize_session=False)


def sealed_sender(session: Session, sender_hash: str) -> tuple[str, str | None] | None:
    """(sealed id, channel) stored for one hashed sender, or None; bot.sealing.unseal opens the id."""
    row = session.get(ConversationSender, sender_hash)
    return None if row is None else (row.sealed_sender_id, row.channel)
