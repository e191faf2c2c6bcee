"""Working days and filing deadlines (申报纳税期限) by China's official holiday calendar.

The holidays and the swapped working days (调休) come from the maintained `chinesecalendar` package, which the
State Council's yearly notice updates; nothing here is a hand-kept list. Years the package does not know yet (or no
longer covers) fall back to "Saturday and Sunday are off", and every answer that relied on the fallback says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar
from chinese_calendar.constants import Holiday

# The package's short names, as a citizen says them (清明 → 清明节); the dates themselves all come from the package.
_SPOKEN_NAMES = {"清明": "清明节", "端午": "端午节", "中秋": "中秋节"}


@cache
def covered_years() -> tuple[int, int]:
    """First and last year with official holiday data in the installed package (e.g. 2004–2026)."""
    years = {day.year for day in chinese_calendar.holidays} | {day.year for day in chinese_calendar.workdays}
    return min(years), max(years)


def covers(year: int) -> bool:
    first, last = covered_years()
    return first <= year <= last


def is_working_day(day: date) -> bool:
    """Official: a 调休 Saturday is a working day, a holiday Monday is not. Outside the data: Monday to Friday."""
    if not covers(day.year):
        return day.weekday() < 5
    return chinese_calendar.is_workday(day)


def holiday_name(day: date) -> str | None:
    """The Chinese name of the official holiday the day is a day off for (国庆节), else None.

    The package also names the swapped working days of a holiday; those are working days, not holidays.
    """
    if not covers(day.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if not on_holiday or name is None:
        return None
    try:
        chinese = Holiday(name).chinese
    except ValueError:  # a name a newer package version added: still a holiday
        return str(name)
    return _SPOKEN_NAMES.get(chinese, chinese)


def next_working_day(day: date) -> date:
    """The day itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class HolidayBlock:
    """A run of consecutive official days off (the whole run, even where it reaches outside the filing window)."""

    names: tuple[str, ...]  # 国庆节, 中秋 (a run can join two holidays)
    start: date
    end: date
    days_in_window: int  # how many of its days fall in the filing window (days 1–15)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def name(self) -> str:
        return "、".join(self.names)


def _holiday_run(day: date) -> tuple[date, date]:
    start, end = day, day
    while holiday_name(start - timedelta(days=1)):
        start -= timedelta(days=1)
    while holiday_name(end + timedelta(days=1)):
        end += timedelta(days=1)
    return start, end


def holiday_blocks(first: date, last: date) -> list[HolidayBlock]:
    """The runs of official days off that touch [first, last], in date order."""
    blocks: list[HolidayBlock] = []
    day = first
    while day <= last:
        if holiday_name(day) is None:
            day += timedelta(days=1)
            continue
        start, end = _holiday_run(day)
        days = (start + timedelta(days=offset) for offset in range((end - start).days + 1))
        names = tuple(dict.fromkeys(holiday_name(each) or "" for each in days))
        inside = (min(end, last) - max(start, first)).days + 1
        blocks.append(HolidayBlock(names, start, end, inside))
        day = end + timedelta(days=1)
    return blocks


@dataclass(frozen=True)
class Deadline:
    """The deadline of one month's filing period and how it was reached."""

    month: date  # the first day of the filing month
    base: date  # the 15th
    extension_days: int  # holiday days of long holidays within days 1–15
    moved_holidays: tuple[HolidayBlock, ...]  # the long holidays that moved it
    extended: date  # base + extension_days
    deadline: date  # extended, or the next working day after it
    calendar_covered: bool  # False: the package has no data for the year, weekends only

    @property
    def moved_to_next_working_day(self) -> bool:
        return self.deadline != self.extended


def filing_deadline(year: int, month: int, filing_day: int, long_holiday_min_days: int) -> Deadline:
    """The last day to file and pay in the month (the simplified rule of services/config/tax.yml):

    the `filing_day` (15th); later by the days of long holidays (runs of at least `long_holiday_min_days` days off)
    that fall within days 1..filing_day; then, if that day is not a working day, the next working day.
    """
    first, base = date(year, month, 1), date(year, month, filing_day)
    long_ones = tuple(block for block in holiday_blocks(first, base) if block.days >= long_holiday_min_days)
    extension = sum(block.days_in_window for block in long_ones)
    extended = base + timedelta(days=extension)
    deadline = next_working_day(extended)
    covered = covers(year) and covers(deadline.year)
    return Deadline(first, base, extension, long_ones, extended, deadline, covered)
