"""One clock for the whole product: citizens live in China Standard Time (UTC+8, no daylight saving).

"Today" for a citizen (an ID number's birth date, a graduation year, a job fair's date, a daily limit) is the date
in Asia/Shanghai, whatever time zone the host runs in.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA_TZ = timezone(timedelta(hours=8), name="CST")


def china_now() -> datetime:
    return datetime.now(CHINA_TZ)


def china_today() -> date:
    return china_now().date()
