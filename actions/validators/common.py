"""Validators every form shares: the result types, identity, confirmation, credit codes, Chinese numbers and dates.

Each returns `Valid(value)` with the normalised value or `Invalid(response, values)`: the domain response that
explains precisely what is wrong (domain/*.yml, `utter_invalid_…`), with the values it names. The form shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from bot.clock import china_today

# Letters of a unified social credit code (GB 32100): digits and capitals without I, O, Z, S, V.
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＹ",
                          "0123456789XxABCDEFGHJKLMNPQRTUWY")
NAME_PREFIX = re.compile(r"^(我的名字是|我的名字叫|名字是|名字叫|姓名是|姓名[:：]?|我叫|我是|本人)")
NAME_RE = re.compile(r"^[\u4e00-\u9fa5]{2,6}$|^[\u4e00-\u9fa5]{1,10}[·•][\u4e00-\u9fa5]{1,10}$")


@dataclass(frozen=True)
class Valid:
    value: str


@dataclass(frozen=True)
class Invalid:
    response: str  # utter_invalid_…: what is wrong, said in the domain
    values: dict[str, Any] = field(default_factory=dict)


Result = Valid | Invalid


def _compact(text: str) -> str:
    """Remove spaces, dashes and full-width digits that people type or paste."""
    return re.sub(r"[\s\-－—_]", "", text.translate(FULLWIDTH))


def id_checksum_ok(id_number: str) -> bool:
    """GB 11643 check character of an 18-character number whose first 17 are digits (python-stdnum)."""
    return ric.calc_check_digit(id_number) == id_number[17]


def validate_id_number(text: str, today: date | None = None) -> Result:
    value = _compact(text).upper()
    found = re.search(r"\d{17}[\dX]|\d{15,20}X?", value)
    value = found.group() if found else value
    # Old 15-digit numbers are refused like any other length: the services know 18-digit numbers only.
    if len(value) != 18 or not re.fullmatch(r"\d{17}[\dX]", value):
        return Invalid("utter_invalid_id_number_length", {"length": len(value)})
    try:
        birth = ric.get_birth_date(value)
    except ValidationError:
        return Invalid("utter_invalid_id_number_birth_date")
    # stdnum accepts any calendar date; a birth date must also be a past one (China's today, not the host's).
    if birth > (today or china_today()) or birth.year < 1900:
        return Invalid("utter_invalid_id_number_birth_date")
    if not id_checksum_ok(value):
        return Invalid("utter_invalid_id_number_checksum")
    return Valid(value)


def validate_phone(text: str) -> Result:
    value = _compact(text)
    value = re.sub(r"^(\+?86)(?=1\d{10}$)", "", value)
    found = re.search(r"(?<!\d)1\d{10}(?!\d)", value)
    if found:
        value = found.group()
    digits = re.sub(r"\D", "", value)
    if not re.fullmatch(r"1[3-9]\d{9}", value):
        if len(digits) == 11:
            return Invalid("utter_invalid_phone_prefix")
        return Invalid("utter_invalid_phone_length", {"length": len(digits)})
    return Valid(value)


def validate_sms_code(text: str) -> Result:
    digits = re.findall(r"(?<!\d)\d{6}(?!\d)", _compact(text) if len(text) < 12 else text)
    if len(digits) != 1:
        return Invalid("utter_invalid_sms_code")
    return Valid(digits[0])


def validate_person_name(text: str) -> Result:
    value = NAME_PREFIX.sub("", re.sub(r"[\s，,。.!！~～]", "", text))
    if not value:
        return Invalid("utter_invalid_person_name_empty")
    if re.search(r"\d", value):
        return Invalid("utter_invalid_person_name_digits")
    if not NAME_RE.match(value):
        return Invalid("utter_invalid_person_name")
    return Valid(value)


def validate_school(text: str) -> Result:
    value = re.sub(r"^(我是|我在|学校是|毕业于|毕业院校是|我的学校是)", "", text.strip(" 。，,"))
    if not re.search(r"(大学|学院|学校|College|University|Institute|院|校)", value, re.IGNORECASE):
        return Invalid("utter_invalid_school")
    if len(value) > 40:
        return Invalid("utter_invalid_school_too_long")
    return Valid(value)


def validate_graduation_year(text: str, today: date | None = None) -> Result:
    this_year = (today or china_today()).year
    found = re.search(r"(19|20)\d{2}", _compact(text))
    if not found:
        short = re.search(r"(?<!\d)(\d{2})(?:年|届)", text)
        if not short:
            return Invalid("utter_invalid_graduation_year")
        year = 2000 + int(short.group(1))
    else:
        year = int(found.group())
    if not this_year - 10 <= year <= this_year + 5:
        return Invalid("utter_invalid_graduation_year_range", {"earliest": this_year - 10, "latest": this_year + 5})
    return Valid(str(year))


CONFIRMED, DECLINED = "confirmed", "declined"
CONFIRM_WORDS = ("确认", "承诺", "同意", "提交")


# "不提交" / "暂不确认" contain a confirming word: the refusal is read first.
# ("取消" and "算了" are left to the cancel intent, which stops the form.)
REFUSAL = re.compile(r"不(?:提交|确认|同意|承诺|要了)|暂不|先不|放弃")


def validate_confirmation(text: str) -> Result:
    """A yes to a confirmation question; buttons and yes/no intents arrive as CONFIRMED / DECLINED."""
    if text in (CONFIRMED, DECLINED):
        return Valid(text)
    if REFUSAL.search(text):
        return Valid(DECLINED)
    if any(word in text for word in CONFIRM_WORDS):
        return Valid(CONFIRMED)
    return Invalid("utter_invalid_confirmation")


def credit_code_checksum_ok(code: str) -> bool:
    """GB 32100 check character of an 18-character code of CREDIT_CHARS (python-stdnum)."""
    return uscc.calc_check_digit(code) == code[17]


def validate_credit_code(text: str) -> Result:
    value = _compact(text).upper()
    # Our own format check rather than stdnum's validate(): that one also wants 8 leading digits, which refuses
    # codes of registering authorities written with a letter (e.g. Y for "other").
    if len(value) != 18 or any(c not in CREDIT_CHARS for c in value):
        return Invalid("utter_invalid_credit_code_format")
    if not credit_code_checksum_ok(value):
        return Invalid("utter_invalid_credit_code_checksum")
    return Valid(value)




# -- enterprise work-resumption filing (actions/work_resumption.py) ----------------------------------------------

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMBER = "[零〇一二两俩三四五六七八九十百千万]+"
NUMBER = rf"\d+(?:\.\d+)?|{CN_NUMBER}"
WEEKDAY_NAMES = "一二三四五六日"


def chinese_number(text: str) -> int | None:
    """一百二十 → 120, 十五 → 15, 一百零五 → 105, 两千 → 2000, 三万 → 30000, 一百二 → 120; None if not a number."""
    total = section = 0
    digit: int | None = None
    last_unit, zero_seen, seen = 0, False, False
    for char in text:
        if char in CN_DIGITS:
            zero_seen = zero_seen or CN_DIGITS[char] == 0
            if digit is not None and not re.search("[零〇]", text):
                return None  # 三四 ("three or four") is no number; 二〇二六 is
            digit = CN_DIGITS[char] if digit is None else digit * 10 + CN_DIGITS[char]
        elif char in CN_UNITS:
            section += (1 if digit is None else digit) * CN_UNITS[char]
            digit, last_unit, zero_seen = None, CN_UNITS[char], False
        elif char == "万":
            total += (section + (digit or 0)) * 10000
            section, digit, last_unit, zero_seen = 0, None, 10000, False
        else:
            return None
        seen = True
    if not seen or (digit is None and section == 0 and total == 0 and "零" not in text and "〇" not in text):
        return None
    if digit is not None and last_unit >= 100 and not zero_seen and digit < 10:
        digit *= last_unit // 10  # 一百二 is 120, 三千五 is 3500
    return total + section + (digit or 0)


def _number(token: str) -> int | None:
    return int(token) if token.isdigit() else chinese_number(token)


def chinese_date(day: date, weekday: bool = False) -> str:
    """2026年12月5日, with （星期六） when asked."""
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAY_NAMES[day.weekday()]}）" if weekday else text
