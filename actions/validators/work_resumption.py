"""Validators of the work-resumption filing (actions/work_resumption.py): the planned date, counts, the company."""

from __future__ import annotations

import re
from datetime import date, timedelta

from actions.validators.common import (
    CN_NUMBER,
    FULLWIDTH,
    NUMBER,
    WEEKDAY_NAMES,
    Invalid,
    Result,
    Valid,
    _compact,
    _number,
    chinese_date,
    chinese_number,
    validate_credit_code,
)
from bot.clock import china_today

FULL_DATE = re.compile(
    r"(?<!\d)(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})(?!\d)|(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)"
)
MONTH_DAY = re.compile(r"(?<![\d.])(\d{1,2})\s*(?:月份?\s*(\d{1,2})\s*[日号]?|[./\-]\s*(\d{1,2})(?![\d.]))")
NEAR_DAYS = (("大后天", 3), ("后天", 2), ("明天", 1), ("明日", 1), ("今天", 0), ("今日", 0))
DAYS_LATER = re.compile(rf"({NUMBER})\s*(?:个)?\s*(?:天|日)\s*(?:后|以后|之后)")
WEEKDAY = re.compile(r"(下下个?|下个?|这个?|本)?\s*(?:周|星期|礼拜)\s*([一二三四五六日天1-7])")
DAY_OF_MONTH = re.compile(r"(下个?月|本月|这个月)?\s*(?<![\d.])(\d{1,2})\s*[日号]")
CN_BEFORE_DATE_WORD = re.compile(rf"({CN_NUMBER})(?=\s*(?:年|月|日|号))")


def _dated(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_day(month: int, day: int, today: date) -> date | Invalid:
    """The next such day from today: 1月5日 said in December is next January's."""
    found = _dated(today.year, month, day)
    if found is not None and found < today:
        found = _dated(today.year + 1, month, day)
    return found if found is not None else Invalid("utter_invalid_planned_date_no_such_day")


def _weekday(prefix: str | None, name: str, today: date) -> date:
    index = 6 if name in "日天7" else ("123456".index(name) if name.isdigit() else WEEKDAY_NAMES.index(name))
    monday = today - timedelta(days=today.weekday())
    if prefix and prefix.startswith("下下"):
        return monday + timedelta(days=14 + index)
    if prefix and prefix.startswith("下"):
        return monday + timedelta(days=7 + index)
    if prefix:  # 这周 / 本周: this week's, even if already past
        return monday + timedelta(days=index)
    return today + timedelta(days=(index - today.weekday()) % 7 or 7)  # "周五": the next Friday after today


def _day_of_month(prefix: str | None, day: int, today: date) -> date | Invalid:
    year, month = today.year, today.month
    if (prefix and prefix.startswith("下")) or (not prefix and day < today.day):
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    found = _dated(year, month, day)
    return found if found is not None else Invalid("utter_invalid_planned_date_no_such_day")


def find_date(text: str, today: date) -> date | Invalid | None:
    """The day a citizen names, counted from `today` (the service's date in China); None if no day is named."""
    value = text.translate(FULLWIDTH).replace("．", ".")
    value = CN_BEFORE_DATE_WORD.sub(lambda m: str(chinese_number(m.group(1)) or m.group(1)), value)
    if found := FULL_DATE.search(value):
        year, month, day = (int(g) for g in (found.groups()[:3] if found.group(1) else found.groups()[3:]))
        day_found = _dated(year, month, day)
        return day_found if day_found is not None else Invalid("utter_invalid_planned_date_no_such_day")
    if found := MONTH_DAY.search(value):
        return _month_day(int(found.group(1)), int(found.group(2) or found.group(3)), today)
    for word, days in NEAR_DAYS:
        if word in value:
            return today + timedelta(days=days)
    if (found := DAYS_LATER.search(value)) and (days := _number(found.group(1))) is not None:
        return today + timedelta(days=days)
    if found := WEEKDAY.search(value):
        return _weekday(found.group(1), found.group(2), today)
    if found := DAY_OF_MONTH.search(value):
        return _day_of_month(found.group(1), int(found.group(2)), today)
    return None


def recognise_planned_date(text: str) -> Result:
    """Does the answer name a day at all? The form resolves it against the service's date (validate_planned_date):
    "明天" depends on which day it is there, and the sandbox's clock may run ahead of the real one."""
    found = find_date(text, china_today())
    if found is None:
        return Invalid("utter_invalid_planned_date")
    if isinstance(found, Invalid):
        return found
    return Valid(text.strip())


def validate_planned_date(text: str, today: date, earliest: date) -> Result:
    """The planned day as YYYY-MM-DD, no earlier than `earliest` (both from the service's rules)."""
    found = find_date(text, today)
    if found is None:
        return Invalid("utter_invalid_planned_date")
    if isinstance(found, Invalid):
        return found
    if found < earliest:
        return Invalid(
            "utter_invalid_planned_date_too_early",
            {
                "planned_date": chinese_date(found),
                "days": (earliest - today).days,
                "earliest_date": chinese_date(earliest, weekday=True),
            },
        )
    return Valid(found.isoformat())


# -- counts: staff, days of supplies, isolation rooms ---------------------------------------------------------------

HEADCOUNT_UNITS = {"人": 1, "名": 1, "位": 1, "个": 1}
ROOM_UNITS = {"间": 1, "个": 1, "处": 1}
DAY_UNITS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30}
HALF_MONTH = re.compile(r"半个?月")
NUMBER_RANGE = re.compile(rf"(?:{NUMBER})\s*(?:[到至~～\-—]|或者?)\s*(?:{NUMBER})")
ONE_EITHER = re.compile(r"一\s*[个间人名位]?\s*[都也]\s*(?:没|无|不)")  # 一个都没有, 一间也没有
# "没有" as the answer itself, not inside a sentence ("没数过" is no zero).
NONE_WORDS = re.compile(
    r"^(?:没有|没人|无|零|暂无|暂时没有|都没有)(?!数|算|统计|确定|想好|法)|都是本地|全是本地|不涉及|^none$",
    re.IGNORECASE,
)
LARGEST = {"staff": 1_000_000, "days": 3650, "rooms": 100_000}


def parse_count(text: str, units: dict[str, int], allow_none_words: bool = True) -> int | Invalid:
    """One whole number in an answer ("120人", "一百二十", "两间", "一个礼拜" with DAY_UNITS → 7); "没有" is 0."""
    value = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", text.translate(FULLWIDTH)).strip()
    if allow_none_words and ONE_EITHER.search(value):
        return 0
    if NUMBER_RANGE.search(value):
        return Invalid("utter_invalid_count_range")
    if "天" in units and HALF_MONTH.search(value) and not re.search(NUMBER, HALF_MONTH.sub("", value)):
        return 15
    unit_words = "|".join(sorted(units, key=len, reverse=True))
    bare = re.sub(r"[\s，,。.！!~～、]|大约|大概|左右|差不多|估计|约", "", value)
    for found in re.finditer(rf"({NUMBER})\s*(?:来|多|余)?\s*(个)?\s*({unit_words})?", value):
        token, unit = found.group(1), found.group(3) or found.group(2)
        is_digits = token[0].isdigit()
        # A number in characters counts only with its unit or alone ("一下", "一些" are not counts).
        if not is_digits and not unit and bare != token:
            continue
        if "." in token:
            return Invalid("utter_invalid_count_whole")
        number = _number(token)
        if number is None and re.fullmatch(r"[一二两三四五六七八九]{2}[十百千万]?", token):
            return Invalid("utter_invalid_count_range")  # 三四天, 二三十人
        if number is None:
            continue
        return number * units.get(found.group(3) or "", 1)
    if allow_none_words and NONE_WORDS.search(value):
        return 0
    return Invalid("utter_invalid_count_missing")


def _count_result(count: int | Invalid, largest: int, least: int = 0) -> Result:
    if isinstance(count, Invalid):
        return count
    if count > largest:
        return Invalid("utter_invalid_count_too_large", {"largest": largest})
    if count < least:
        return Invalid("utter_invalid_returning_staff_zero")
    return Valid(str(count))


def validate_returning_staff(text: str) -> Result:
    return _count_result(parse_count(text, HEADCOUNT_UNITS), LARGEST["staff"], least=1)


def validate_key_area_staff(text: str) -> Result:
    return _count_result(parse_count(text, HEADCOUNT_UNITS), LARGEST["staff"])


def validate_supplies_days(text: str) -> Result:
    return _count_result(parse_count(text, DAY_UNITS), LARGEST["days"])


def validate_isolation_rooms(text: str) -> Result:
    return _count_result(parse_count(text, ROOM_UNITS), LARGEST["rooms"])


# -- the company: its credit code, typed alone or in a sentence --------------------------------------------------

CODE_ALONE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{18}(?![0-9A-Z])")
CODE_LIKE = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{15,20}(?![0-9A-Z])")
NAMES_A_COMPANY = re.compile(r"公司|企业|集团|工厂|厂|店|合作社|事务所|中心")


def validate_company_code(text: str) -> Result:
    """A unified social credit code in an answer ("代码是91330110MA2K8L6R2R", "9133 0110 MA2K 8L6R 2R")."""
    upper = text.translate(FULLWIDTH).upper()
    found = CODE_ALONE.search(upper) or CODE_LIKE.search(_compact(upper))
    if found:
        return validate_credit_code(found.group())
    if NAMES_A_COMPANY.search(text):
        return Invalid("utter_invalid_credit_code_name_given")
    return validate_credit_code(text)


def validate_company_name(text: str) -> Result:
    """A company's name as the citizen wrote it (only ever shown back, never looked up)."""
    value = text.strip(" 。，,")
    if not 2 <= len(value) <= 60:
        return Invalid("utter_invalid_company_name")
    return Valid(value)
