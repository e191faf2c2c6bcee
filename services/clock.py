"""Time helpers: the database stores naive UTC; citizens see China Standard Time (no DST).

China's time zone and "today" come from the product's one clock (bot/clock.py); the helpers here are the sandbox's
own (how it stores and shows times).
"""

from __future__ import annotations

from datetime import datetime, timezone

from bot.clock import CHINA_TZ, china_today

__all__ = ["CHINA_TZ", "china_today", "to_china_iso", "utcnow"]


def utcnow() -> datetime:
    """Naive UTC, because SQLite drops time zones and both back ends must behave alike."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_china_iso(value: datetime | None) -> str | None:
    """ISO 8601 with +08:00, e.g. 2026-11-26T17:30:05+08:00."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc).astimezone(CHINA_TZ).isoformat(timespec="seconds")
