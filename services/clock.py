"""Time helpers: the database stores naive UTC; citizens see China Standard Time (no DST)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), name="CST")


def utcnow() -> datetime:
    """Naive UTC, because SQLite drops time zones and both back ends must behave alike."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def china_today() -> date:
    return datetime.now(CHINA_TZ).date()


def to_china_iso(value: datetime | None) -> str | None:
    """ISO 8601 with +08:00, e.g. 2026-11-26T17:30:05+08:00."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).isoformat(timespec="seconds")
