"""The sandbox clock: the real China date plus a day offset that development and tests can advance.

Rules that count calendar days (the health code's consecutive check-ins) must be testable end to end without
waiting a week, so the sandbox reads "today" from here. The offset is one row in the database (id 1, created by
migration 0003), so several sandbox processes on the same database agree on the date.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.clock import CHINA_TZ, china_now
from services.clock import utcnow
from services.models import SandboxClock

CLOCK_ID = 1
MAX_ADVANCE_DAYS = 366


def offset_days(session: Session) -> int:
    row = session.get(SandboxClock, CLOCK_ID, populate_existing=True)
    return row.offset_days if row is not None else 0


def sandbox_now(session: Session) -> datetime:
    """Now in China time (aware), moved by the offset."""
    return china_now() + timedelta(days=offset_days(session))


def sandbox_today(session: Session) -> date:
    return sandbox_now(session).date()


def sandbox_utcnow(session: Session) -> datetime:
    """Naive UTC (how the database stores times), moved by the offset."""
    return utcnow() + timedelta(days=offset_days(session))


MAX_OFFSET_DAYS = 3660  # ten years: far enough for any demo, and dates stay far from the calendar's end


def advance(session: Session, days: int) -> None:
    """Move the clock forward; one atomic UPDATE, so parallel calls add up instead of overwriting each other."""
    result = session.execute(
        update(SandboxClock)
        .where(SandboxClock.id == CLOCK_ID, SandboxClock.offset_days + days <= MAX_OFFSET_DAYS)
        .values(offset_days=SandboxClock.offset_days + days, updated_at=utcnow())
    )
    if result.rowcount == 0:  # a database migrated without the row: create it
        session.add(SandboxClock(id=CLOCK_ID, offset_days=days, updated_at=utcnow()))
    session.commit()


def clock_dict(session: Session) -> dict[str, Any]:
    now = sandbox_now(session)
    return {
        "today": now.date().isoformat(),
        "now": now.astimezone(CHINA_TZ).isoformat(timespec="seconds"),
        "offset_days": offset_days(session),
        "real_today": china_now().date().isoformat(),
    }
