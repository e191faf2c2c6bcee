"""The notifier's durable state (bot/notifier/models.py): accepting an event once, claiming it for delivery, its
outcome, and who opted out. Plain synchronous SQLAlchemy: the notifier calls it from worker threads, the action
server (opt-out) likewise, the console from its routes.

Claims are single UPDATE statements with the expected old state in their WHERE clause, so two notifier replicas on
one database never deliver the same notification at once: whichever changes the row first has it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.notifier.models import (
    FINISHED,
    PROBLEMS,
    QUEUED,
    SENDING,
    Notification,
    NotificationOptOut,
)


@dataclass(frozen=True)
class NewNotification:
    event_id: str
    service: str
    reference: str
    state: str
    detail: str
    occurred_at: float | None
    sender_hash: str
    channel: str | None
    sealed_sender: str
    status: str = QUEUED
    reason: str | None = None


@cache
def _factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_for(engine: Engine) -> Iterator[Session]:
    session = _factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def accept(engine: Engine, new: NewNotification, now: float | None = None) -> bool:
    """Store the event; False when its event_id is already there (a repeated delivery: nothing to do)."""
    moment = time.time() if now is None else now
    finished = moment if new.status in FINISHED else None
    try:
        with session_for(engine) as session:
            session.add(Notification(
                event_id=new.event_id, service=new.service, reference=new.reference, state=new.state,
                detail=new.detail, occurred_at=new.occurred_at, sender_hash=new.sender_hash, channel=new.channel,
                sealed_sender=new.sealed_sender, status=new.status, reason=new.reason, attempts=0,
                received_at=moment, next_attempt_at=moment, finished_at=finished,
            ))
    except IntegrityError:
        return False
    return True


def _claimable(now: float) -> sa.ColumnElement[bool]:
    queued = sa.and_(Notification.status == QUEUED, Notification.next_attempt_at <= now)
    abandoned = sa.and_(Notification.status == SENDING, Notification.lease_until < now)  # its worker died
    return sa.or_(queued, abandoned)


def due(engine: Engine, limit: int, now: float | None = None) -> list[int]:
    moment = time.time() if now is None else now
    with session_for(engine) as session:
        return list(session.execute(
            sa.select(Notification.id).where(_claimable(moment)).order_by(Notification.id).limit(limit)
        ).scalars())


def next_due_at(engine: Engine) -> float | None:
    """When the earliest queued notification falls due (None when nothing waits)."""
    with session_for(engine) as session:
        return session.execute(
            sa.select(sa.func.min(Notification.next_attempt_at)).where(Notification.status == QUEUED)
        ).scalar_one_or_none()


def claim(engine: Engine, row_id: int, lease_seconds: float, now: float | None = None) -> Notification | None:
    """The row, now ours for `lease_seconds`; None when another worker has it or it is done."""
    moment = time.time() if now is None else now
    with session_for(engine) as session:
        taken = session.execute(
            sa.update(Notification)
            .where(Notification.id == row_id, _claimable(moment))
            .values(status=SENDING, lease_until=moment + lease_seconds, attempts=Notification.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        return session.get(Notification, row_id) if taken else None


def finish(engine: Engine, row_id: int, status: str, reason: str | None = None, now: float | None = None) -> None:
    moment = time.time() if now is None else now
    with session_for(engine) as session:
        session.execute(
            sa.update(Notification).where(Notification.id == row_id, Notification.status == SENDING)
            .values(status=status, reason=reason, finished_at=moment, lease_until=None)
            .execution_options(synchronize_session=False)
        )


def retry_later(engine: Engine, row_id: int, at: float, reason: str) -> None:
    with session_for(engine) as session:
        session.execute(
            sa.update(Notification).where(Notification.id == row_id, Notification.status == SENDING)
            .values(status=QUEUED, reason=reason, next_attempt_at=at, lease_until=None)
            .execution_options(synchronize_session=False)
        )


# --- opting out ------------------------------------------------------------------------------------------------------


def opted_out(engine: Engine, sender_hash: str) -> bool:
    with session_for(engine) as session:
        return session.get(NotificationOptOut, sender_hash) is not None


def set_opted_out(engine: Engine, sender_hash: str, out: bool, now: float | None = None) -> None:
    """Record "退订" (out) or "订阅" (not out); saying the same twice changes nothing."""
    try:
        with session_for(engine) as session:
            if not out:
                session.execute(sa.delete(NotificationOptOut).where(NotificationOptOut.sender_hash == sender_hash))
            elif session.get(NotificationOptOut, sender_hash) is None:
                moment = time.time() if now is None else now
                session.add(NotificationOptOut(sender_hash=sender_hash, opted_out_at=moment))
    except IntegrityError:  # two replies at once: the other insert won, and the citizen is out either way
        pass


# --- for operators ---------------------------------------------------------------------------------------------------


def recent(session: Session, limit: int = 200, problems_only: bool = False) -> list[Notification]:
    query = sa.select(Notification).order_by(Notification.received_at.desc(), Notification.id.desc()).limit(limit)
    if problems_only:
        query = query.where(Notification.status.in_(PROBLEMS))
    return list(session.execute(query).scalars())


def counts(session: Session, since: float) -> dict[str, int]:
    rows = session.execute(
        sa.select(Notification.status, sa.func.count()).where(Notification.received_at >= since)
        .group_by(Notification.status)
    ).all()
    return {status: count for status, count in rows}


def purge_finished_before(engine: Engine, before: float) -> int:
    """Retention: finished notifications older than `before` go (opt-outs stay: they are the citizen's wish)."""
    with session_for(engine) as session:
        return session.execute(
            sa.delete(Notification).where(Notification.status.in_(FINISHED), Notification.received_at < before)
        ).rowcount
