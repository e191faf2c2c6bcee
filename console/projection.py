"""The one reader of the conversation log: new rows, read once, feed the conversation index and the takeover queue.

`refresh(session)` (a periodic job of the console) takes the cursor row of `console_index_state` with a write
lock, so one process at a time reads; reads the rows with id > the cursor in batches; hands each batch, in id order,
to console.index (conversations, flags, search tokens), console.ratings (好差评) and console.takeover (handoff
requests); moves the cursor and commits, so the views and the cursor change together or not at all.

Late commits: with several Rasa replicas writing to PostgreSQL, a row may commit after rows with higher ids, so the
cursor can pass an id that is not visible yet. Every id the reader skips over is remembered in `console_index_gaps`;
a later refresh reads the remembered ids that have appeared since, feeds them like new rows and forgets them. A gap
still empty after GAP_SECONDS was a rolled-back insert (or a purged row), not a late commit, and is forgotten too.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.conversation_log import ConversationEvent
from bot.names import TRANSACTION_RESULT_SLOT
from console import index, ratings, takeover
from console.db import Base, insert_ignore

STATE_KEY = "conversation_log"
# Left by migration 0002 when the takeover queue's old cursor lagged: requests above this id are read once more.
CATCH_UP_KEY = "handoff_catch_up"
BATCH_EVENTS = 20_000
GAP_SECONDS = 600  # an id gap older than this is a rolled-back insert, not a late commit
MAX_GAP_IDS = 1000  # a longer jump between neighbouring ids is a purge or a sequence jump, not writes in flight
MAX_GAPS_READ = 5000
# Kinds whose JSON the index reads (texts, form changes); the rest are used through their columns only.
PARSED_TYPES = ("active_loop", "bot", "user")


class LogCursor(Base):
    """How far the reader has read the log (row STATE_KEY), and the one-time catch-up of 0002 (CATCH_UP_KEY)."""

    __tablename__ = "console_index_state"
    key = sa.Column(sa.String(64), primary_key=True)
    last_event_id = sa.Column(sa.Integer, nullable=False, default=0)
    updated_at = sa.Column(sa.Float)


class LogGap(Base):
    """An event id the reader skipped over that may still be committed (see the module docstring)."""

    __tablename__ = "console_index_gaps"
    event_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    seen_at = sa.Column(sa.Float, nullable=False)


@dataclass(slots=True)
class LogRow:
    """One conversation_events row as the consumers need it; `data` only for the kinds whose JSON they read."""

    id: int
    sender_id: str
    type_name: str | None
    timestamp: float
    intent_name: str | None
    intent_confidence: float | None
    action_name: str | None
    data: str | None

    def event(self) -> dict[str, Any]:
        try:
            value = json.loads(self.data or "{}")
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Refreshed:
    rows: int = 0  # log rows read (new and late ones)
    handoffs: int = 0  # handoffs the takeover queue opened from them

    def __add__(self, other: Refreshed) -> Refreshed:
        return Refreshed(self.rows + other.rows, self.handoffs + other.handoffs)


def refresh(session: Session, *, batch_size: int = BATCH_EVENTS, max_batches: int | None = None,
            now: float | None = None) -> Refreshed:
    """Read the log's new rows into the index and the takeover queue; commits after every batch."""
    now = time.time() if now is None else now
    total, batches = Refreshed(), 0
    while max_batches is None or batches < max_batches:
        done = _refresh_batch(session, batch_size, now)
        session.commit()
        total, batches = total + done, batches + 1
        if done.rows < batch_size:
            return total
    return total


def _refresh_batch(session: Session, batch_size: int, now: float) -> Refreshed:
    if _nothing_new(session):
        return Refreshed()
    cursor = _lock_cursor(session)
    last = cursor.last_event_id
    rows = read_rows(session, ConversationEvent.id > last, batch_size)
    late = _late_rows(session)
    missed_requests = _catch_up(session, last)
    if not rows and not late and not missed_requests:
        return Refreshed()
    _remember_gaps(session, last, [row.id for row in rows])
    batch = sorted(late + rows, key=lambda row: row.id)
    index.apply_rows(session, [row for row in batch if row.sender_id])
    ratings.apply_rows(session, batch)
    # a late row may also be one of the missed requests: each row once
    requests = sorted({row.id: row for row in missed_requests + batch}.values(), key=lambda row: row.id)
    created = takeover.apply_rows(session, requests, now)
    cursor.last_event_id = rows[-1].id if rows else last
    cursor.updated_at = time.time()
    return Refreshed(len(batch), created)


def _nothing_new(session: Session) -> bool:
    """A cheap read first, so an idle console does not take the write lock every few seconds."""
    keys = dict(session.execute(sa.select(LogCursor.key, LogCursor.last_event_id)).all())
    newest = session.execute(sa.select(sa.func.max(ConversationEvent.id))).scalar()
    gaps = session.execute(sa.select(LogGap.event_id).limit(1)).first()
    last = keys.get(STATE_KEY)
    if CATCH_UP_KEY in keys or gaps is not None:
        return False
    return newest is None or (last is not None and newest <= last)


def _lock_cursor(session: Session) -> LogCursor:
    query = session.query(LogCursor).filter(LogCursor.key == STATE_KEY)
    if session.get_bind().dialect.name == "sqlite":
        # Take SQLite's write lock now: a second refresh waits here instead of reading the same rows.
        session.execute(sa.update(LogCursor).where(LogCursor.key == STATE_KEY).values(key=STATE_KEY))
    cursor = query.with_for_update().one_or_none()
    if cursor is None:
        session.execute(insert_ignore(session, LogCursor.__table__, ["key"]), [{"key": STATE_KEY, "last_event_id": 0}])
        cursor = query.with_for_update().one()
    return cursor


_COLUMNS = [
    ConversationEvent.id, ConversationEvent.sender_id, ConversationEvent.type_name, ConversationEvent.timestamp,
    ConversationEvent.intent_name, ConversationEvent.intent_confidence, ConversationEvent.action_name,
]


def read_rows(session: Session, condition: Any, limit: int | None = None) -> list[LogRow]:
    """The rows matching `condition`, in id order, with the JSON only where a consumer reads it."""
    result_slot = sa.and_(ConversationEvent.type_name == "slot",
                          sa.or_(ConversationEvent.data.like(f'%"{TRANSACTION_RESULT_SLOT}"%'),
                                 ConversationEvent.data.like(f'%"{ratings.RATING_SLOT}"%')))
    data = sa.case(
        (ConversationEvent.type_name.in_(PARSED_TYPES), ConversationEvent.data),
        (result_slot, ConversationEvent.data),
        else_=sa.null(),
    )
    query = sa.select(*_COLUMNS, data).where(condition).order_by(ConversationEvent.id)
    if limit:
        query = query.limit(limit)
    # Straight through the driver's cursor: SQLAlchemy's per-row result processing cost more than the
    # query itself on a backlog of millions of rows.
    connection = session.connection()
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    args = [params[name] for name in compiled.positiontup] if compiled.positional else params
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, args)
        return [LogRow(*row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _remember_gaps(session: Session, last: int, ids: list[int]) -> None:
    """The ids skipped between the cursor and the rows just read (the first read included: it can be late too)."""
    previous, gaps = last, []
    for event_id in ids:
        if event_id - previous <= MAX_GAP_IDS:
            gaps += range(previous + 1, event_id)
        previous = event_id
    if gaps:
        seen = time.time()
        session.execute(insert_ignore(session, LogGap.__table__, ["event_id"]),
                        [{"event_id": gap, "seen_at": seen} for gap in gaps])


def _late_rows(session: Session) -> list[LogRow]:
    """Rows committed after the cursor moved past their id; gaps older than GAP_SECONDS are forgotten."""
    session.execute(sa.delete(LogGap).where(LogGap.seen_at < time.time() - GAP_SECONDS))
    gaps = [gap for (gap,) in session.execute(sa.select(LogGap.event_id).limit(MAX_GAPS_READ))]
    if not gaps:
        return []
    rows = read_rows(session, ConversationEvent.id.in_(gaps))
    if rows:
        session.execute(sa.delete(LogGap).where(LogGap.event_id.in_([row.id for row in rows])))
    return rows


def _catch_up(session: Session, last: int) -> list[LogRow]:
    """Once after migration 0002: the requests the old takeover cursor may have missed, up to the cursor."""
    start = session.execute(sa.select(LogCursor.last_event_id).where(LogCursor.key == CATCH_UP_KEY)).scalar()
    if start is None:
        return []
    session.execute(sa.delete(LogCursor).where(LogCursor.key == CATCH_UP_KEY))
    requests = sa.and_(
        ConversationEvent.id > start,
        ConversationEvent.id <= last,
        ConversationEvent.type_name == "action",
        ConversationEvent.action_name == takeover.REQUEST_ACTION,
    )
    return read_rows(session, requests)
