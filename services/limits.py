"""Rate limits as fixed-window counters in the database, taken atomically before the work they limit.

Counting the rows of the last minutes and then acting is not a limit: parallel requests all see the same count and
all pass. Here a request takes one unit with a single conditional UPDATE (`count < limit`); the database serialises
updates of one row, on SQLite and on PostgreSQL alike, so at most `limit` requests ever pass in a window.

Windows are aligned to midnight China time: a daily window is the citizen's calendar day ("请明天再试").
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from services.keyed_hash import keyed_hash
from services.models import RateCounter

logger = logging.getLogger("services.limits")

DAY = 24 * 3600
_EPOCH = datetime(1970, 1, 1)
_CHINA_OFFSET = 8 * 3600
_SWEEP_EVERY = 600.0  # seconds between deletions of counters whose window is over (per process)
_next_sweep = 0.0


@dataclass(frozen=True)
class Charge:
    """One unit of one budget: `limit` per `window_seconds` for `subject` (a phone, an ID number, …) in `scope`."""

    scope: str
    subject: str
    limit: int
    window_seconds: int


@dataclass(frozen=True)
class Taken:
    """Where a unit was taken, so that it can be given back."""

    scope: str
    subject_hash: str
    window_start: datetime


class LimitReached(Exception):
    """The budget of `charge` is used up until its window ends, `retry_after` seconds from now."""

    def __init__(self, charge: Charge, retry_after: int) -> None:
        super().__init__(charge.scope)
        self.charge = charge
        self.retry_after = retry_after


def window_start(now: datetime, window_seconds: int) -> datetime:
    seconds = int((now - _EPOCH).total_seconds()) + _CHINA_OFFSET
    return _EPOCH + timedelta(seconds=seconds - seconds % window_seconds - _CHINA_OFFSET)


def seconds_left(now: datetime, window_seconds: int) -> int:
    end = window_start(now, window_seconds) + timedelta(seconds=window_seconds)
    return max(1, math.ceil((end - now).total_seconds()))


def take(session: Session, secret: str, charges: Sequence[Charge], now: datetime) -> list[Taken]:
    """Take one unit of every budget, or of none: the first exhausted one rolls back and raises LimitReached.

    The caller commits right after, so the row locks are held only for these few statements. Charges are always
    taken in the same order of scopes, so two requests can never wait for each other's rows (no deadlock).
    """
    _sweep(session, now)
    taken = []
    for charge in charges:
        subject_hash = keyed_hash(secret, charge.scope, charge.subject)
        where = Taken(charge.scope, subject_hash, window_start(now, charge.window_seconds))
        if not _take_one(session, where, charge, now):
            session.rollback()
            raise LimitReached(charge, seconds_left(now, charge.window_seconds))
        taken.append(where)
    return taken


def give_back(session: Session, taken: Sequence[Taken]) -> None:
    """Return units that turned out not to count (e.g. the failure budget of a check that succeeded)."""
    for where in taken:
        session.execute(
            update(RateCounter)
            .where(*_is(where), RateCounter.count > 0)
            .values(count=RateCounter.count - 1)
            .execution_options(synchronize_session=False)
        )


def _is(where: Taken) -> tuple:  # type: ignore[type-arg]
    return (
        RateCounter.scope == where.scope,
        RateCounter.subject_hash == where.subject_hash,
        RateCounter.window_start == where.window_start,
    )


def _take_one(session: Session, where: Taken, charge: Charge, now: datetime) -> bool:
    # Make sure the row exists (a parallel insert of the same row is simply ignored), then take a unit only if
    # one is left: the WHERE is evaluated on the row as it is after any concurrent update has committed.
    expires_at = where.window_start + timedelta(seconds=charge.window_seconds)
    values = {
        "scope": where.scope,
        "subject_hash": where.subject_hash,
        "window_start": where.window_start,
        "count": 0,
        "expires_at": expires_at,
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(RateCounter).values(**values).on_conflict_do_nothing())
    result = session.execute(
        update(RateCounter)
        .where(*_is(where), RateCounter.count < charge.limit)
        .values(count=RateCounter.count + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _sweep(session: Session, now: datetime) -> None:
    """Now and then delete the counters of windows that are over, in a transaction of its own."""
    global _next_sweep
    if time.monotonic() < _next_sweep:
        return
    _next_sweep = time.monotonic() + _SWEEP_EVERY
    try:
        session.execute(delete(RateCounter).where(RateCounter.expires_at < now))
        session.commit()
    except DBAPIError as error:  # e.g. a lock timeout: the rows are deleted next time
        session.rollback()
        logger.warning("could not delete old rate counters: %s", type(error).__name__)
