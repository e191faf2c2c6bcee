"""Pure validators for what citizens type into forms.

Each returns `Valid(value)` with the normalised value or `Invalid(response, values)`: the domain response that
explains precisely what is wrong (domain/*.yml, `utter_invalid_…`), with the values it names. The form shows it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
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


# -- health declarations and check-ins (actions/health_code.py) --------------------------------------------------

NONE = "none"  # "no symptoms": a slot needs a value, and an empty list would read as "not answered"
SYMPTOM_WORDS = {
    "fever": r"发烧|发热|高烧|低烧|烧",
    "cough": r"咳嗽|咳",
    "fatigue": r"乏力|没力气|没劲|疲劳|无力|疲倦|累",
}
# "不发烧" / "没有咳嗽" name a symptom to deny it: removed before looking for symptoms.
NEGATED_SYMPTOM = re.compile(r"(没有|没|不|无|未)(?:怎么)?(" + "|".join(SYMPTOM_WORDS.values()) + ")")
NO_SYMPTOMS = re.compile(r"没有|没|无|正常|健康|都好|挺好|良好|很好|没事|none", re.IGNORECASE)
# "算了不办了" is no answer to a yes/no or symptoms question: the form must see the cancel, not a "no".
STOP_WORDS = re.compile(r"不办|不弄|不填|取消|算了|退出|不想")
# 36.5 / 36.5℃ / 36度5 / 36点5度: a plausible reading is 34 to 43 degrees Celsius.
TEMPERATURE = re.compile(r"(?<![\d.])(\d{2})(?:(?:[.．。点]|度)(\d))?(?![\d.])")
TEMPERATURE_RANGE = (34.0, 43.0)
UNSURE = re.compile(r"不清楚|不确定|不知道|不记得|记不清|说不好|不太清楚")
NO = re.compile(r"没有|没去|没接触|没|未|否|不是|不曾|无")
YES = re.compile(r"有|是|去过|到过|接触过|对|嗯|yes", re.IGNORECASE)


def validate_symptoms(text: str) -> Result:
    """Symptom codes ("fever,cough") or NONE."""
    if STOP_WORDS.search(text):
        return Invalid("utter_invalid_symptoms")
    rest = NEGATED_SYMPTOM.sub("", text)
    found = [code for code, words in SYMPTOM_WORDS.items() if re.search(words, rest)]
    if found:
        return Valid(",".join(found))
    if rest != text or NO_SYMPTOMS.search(text):
        return Valid(NONE)
    return Invalid("utter_invalid_symptoms")


def symptom_codes(value: str | None) -> list[str]:
    return [] if not value or value == NONE else value.split(",")


def validate_temperature(text: str) -> Result:
    found = TEMPERATURE.search(text.translate(FULLWIDTH))
    if not found:
        return Invalid("utter_invalid_temperature")
    value = float(f"{found.group(1)}.{found.group(2) or 0}")
    low, high = TEMPERATURE_RANGE
    if not low <= value <= high:
        return Invalid("utter_invalid_temperature_range", {"value": f"{value:g}"})
    return Valid(f"{value:.1f}")


def validate_yes_no(text: str) -> Result:
    """A yes or no in words ("没去过", "接触过"); buttons and yes/no intents arrive as CONFIRMED / DECLINED."""
    if text in (CONFIRMED, DECLINED):
        return Valid(text)
    if STOP_WORDS.search(text):
        return Invalid("utter_invalid_yes_no")
    if UNSURE.search(text):
        return Invalid("utter_invalid_yes_no_unsure")
    if NO.search(text):
        return Valid(DECLINED)
    if YES.search(text):
        return Valid(CONFIRMED)
    return Invalid("utter_invalid_yes_no")


def validate_appeal_reason(text: str) -> Result:
    value = text.strip()
    if len(value) < 4:
        return Invalid("utter_invalid_appeal_reason_short")
    if len(value) > 500:
        return Invalid("utter_invalid_appeal_reason_long", {"length": len(value)})
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


# -- the planned date: "2026-12-05", "12月5日", "12.5", "5号", "明天", "三天后", "下周一" -----------------------------

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


# -- vehicle registration transfer (actions/vehicle_transfer.py) --------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# A plate as typed: province, letter, maybe a separator (桂A·12345, 桂A 12345), then 5 characters (6 for new-energy
# plates). Plates never use I or O; such a plate is read, then explained.
PLATE_LIKE = re.compile(rf"[{PLATE_PROVINCES}][A-Z][\s·•.\-]?[A-Z0-9]{{5,6}}(?![0-9A-Z])")
PLATE = re.compile(rf"[{PLATE_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}")
PLATE_SEPARATORS = re.compile(r"[\s·•.\-]")
# Words around a VIN tail ("车架号后六位是123456"): removed before looking for it, so the 6 of 后6位 is not read.
VIN_LABEL = re.compile(
    r"车架号|車架號|车辆识别代号|車輛識別代號|车辆识别码|识别代号|VIN|最?后\s*[6六]\s*位", re.IGNORECASE
)
VIN_FULL = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{17}(?![0-9A-Z])")
VIN_TAIL = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{6}(?![0-9A-Z])")
VIN_CHARACTERS = set("0123456789ABCDEFGHJKLMNPRSTUVWXYZ")  # GB 16735: never I, O or Q
CITY_PREFIX = re.compile(
    r"^(?:我要|我想|想|要|请|帮我)?(?:把车)?(?:转到|迁到|转入|迁入|转去|迁去|转至|迁至|转|迁|去|到|是|在)?"
)
CITY_SUFFIX = re.compile(r"(?:去|吧|呀|啊|了|的)+$")


def validate_plate_number(text: str) -> Result:
    """A plate in an answer ("桂a·12345", "车牌是桂A 12345"), in the registry's form: 桂A12345."""
    found = PLATE_LIKE.search(text.translate(FULLWIDTH).upper())
    if not found:
        return Invalid("utter_invalid_plate_number")
    plate = PLATE_SEPARATORS.sub("", found.group())
    if not PLATE.fullmatch(plate):
        return Invalid("utter_invalid_plate_number_letters")
    return Valid(plate)


def validate_vin_tail(text: str) -> Result:
    """The last 6 characters of the VIN (车架号), alone, in a sentence, or cut from the whole VIN."""
    upper = text.translate(FULLWIDTH).upper()
    upper = VIN_LABEL.sub(" ", PLATE_LIKE.sub(" ", upper))  # a plate in the same message is not the VIN
    whole, tail = VIN_FULL.search(upper), VIN_TAIL.search(upper)
    found = whole.group()[-6:] if whole else tail.group() if tail else None
    if found is None:
        runs = re.findall(r"[0-9A-Z]+", upper)
        if runs:
            return Invalid("utter_invalid_vin_tail_length", {"length": len(max(runs, key=len))})
        return Invalid("utter_invalid_vin_tail")
    if set(found) - VIN_CHARACTERS:
        return Invalid("utter_invalid_vin_tail_letters")
    return Valid(found)


def validate_city_name(text: str) -> Result:
    """A city's name as typed ("青岛", "转到青岛去", "山东省青岛市"); the form checks it against the cities served."""
    value = re.sub(r"[\s。，,.!！?？~～]", "", text)
    value = CITY_SUFFIX.sub("", CITY_PREFIX.sub("", value))
    if not re.fullmatch(r"[\u4e00-\u9fa5]{2,15}", value):
        return Invalid("utter_invalid_vt_city")
    return Valid(value)


# -- e-tax guidance (actions/tax.py): a surcharge's amount and days, a deferral's company, tax, months, reason -------

# Taxes as people name them, longest first (土地增值税 is not 增值税); the service knows some of them (and their
# aliases) and answers the others with the list it knows.
TAX_WORDS = re.compile(
    r"土地增值税|企业所得税|个人所得税|城市维护建设税|城镇土地使用税|车辆购置税|环境保护税|耕地占用税|地方教育附加|"
    r"教育费附加|附加税费|附加税|城建税|增值税|消费税|印花税|房产税|车船税|资源税|烟叶税|所得税|个税|契税|关税|VAT",
    re.IGNORECASE,
)
PERSONAL = "personal"  # tax_credit_code: the verified person's own taxes, not a company's
PERSONAL_WORDS = re.compile(r"本人|我自己|自己的|个人|个税")
AMOUNT_NUMBER = r"\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百千万]+"
AMOUNT = re.compile(
    rf"(?P<num>{AMOUNT_NUMBER})\s*(?P<unit>[万千wk])?\s*(?P<tail>\d(?![\d.]))?\s*(?P<yuan>元|块钱|块|圆)?",
    re.IGNORECASE,
)
AMOUNT_UNITS = {"万": 10000, "w": 10000, "千": 1000, "k": 1000}
# Words before a number that make it the tax owed ("税款5000", "欠了8000"), and what after it makes it something else.
AMOUNT_CONTEXT = re.compile(r"(税款|欠税|欠缴|税额|金额|欠了|补缴|补交|应缴|应纳|税是|交税|缴税|本金)\s*$")
NOT_AMOUNT_AFTER = re.compile(r"^\s*(个|天|日|号|月|年|周|星期|礼拜|次|人|名|位|间|岁|%|％|点|分)")
# Rates and dates say nothing about the amount: removed before looking for it.
RATES_AND_DATES = re.compile(
    r"万分之\s*[\d零一二三四五六七八九十]+|[百千]分之\s*[\d零一二三四五六七八九十.]+|\d+(?:\.\d+)?\s*[%％]|"
    r"\d{4}\s*年\s*\d{1,2}\s*月?(?:\s*\d{1,2}\s*[日号])?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{4}[-/]\d{1,2}|"
    r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]?"
)
VAGUE_MONEY = re.compile(
    r"(?:几|\d+\s*[来多余]|[十百千][来多余]|[一二两三四五六七八九]{2}[十百千]?)\s*(?:[万千百]\s*)?(?:元|块|万|千)|"
    r"[万千][多来余]|\d+(?:\.\d+)?\s*[万千]\s*[多来余]"
)


def _amount_value(match: re.Match[str]) -> Decimal | Invalid | None:
    number, unit, tail = match.group("num"), (match.group("unit") or "").lower(), match.group("tail")
    if number[0].isdigit():
        value = Decimal(number)
    else:
        whole = chinese_number(number)
        if whole is None:
            return None
        value = Decimal(whole)
    if unit:
        value *= AMOUNT_UNITS[unit]
        if tail:  # 3千2 is 3200, 1万5 is 15000
            value += Decimal(tail) * AMOUNT_UNITS[unit] / 10
    if value != value.quantize(Decimal("0.01")):
        return Invalid("utter_invalid_tax_amount_fen")
    return value


def find_tax_amount(text: str, alone: bool = False) -> Decimal | Invalid | None:
    """The tax owed named in a message ("税款5万", "3千2", "五万元", "2,580.50元"); None if none is named.

    In a sentence a number counts only with a unit of money or after words such as 税款/欠了; `alone` (the answer to
    the amount question) also takes a bare number."""
    value = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", text.translate(FULLWIDTH))
    value = RATES_AND_DATES.sub(" ", value)
    if VAGUE_MONEY.search(value):
        return Invalid("utter_invalid_tax_amount_vague")
    for found in AMOUNT.finditer(value):
        after = value[found.end():]
        money_like = bool(found.group("unit") or found.group("yuan"))
        if not money_like and NOT_AMOUNT_AFTER.match(after):
            continue
        if not (money_like or alone or AMOUNT_CONTEXT.search(value[: found.start()])):
            continue
        if re.search(r"[0-9A-Za-z]$", value[: found.start()]):
            continue  # part of a code or a word
        amount = _amount_value(found)
        if amount is None:
            continue
        if isinstance(amount, Decimal) and amount <= 0:
            return Invalid("utter_invalid_tax_amount_zero")
        return amount
    return None


def validate_tax_amount(text: str) -> Result:
    """The tax owed, in yuan with two decimals ("50000.00")."""
    found = find_tax_amount(text, alone=True)
    if found is None:
        return Invalid("utter_invalid_tax_amount")
    if isinstance(found, Invalid):
        return found
    return Valid(f"{found:.2f}")


ESTIMATED = "约"  # tax_days of "晚了一个月": counted as 30 days, and the answer says it is an estimate
DAYS_PER_MONTH = 30
# "每天万分之五", "按日加收": a rate, not a number of days.
PER_DAY = re.compile(r"每\s*[天日]|按\s*[天日]|一\s*[天日](?=\s*(?:的?(?:万分|百分|千分|比例|利率|费率)|\d))")
VAGUE_DAYS = re.compile(
    r"几\s*(?:个)?\s*(?:天|日|周|星期|礼拜|月)|[十二三四五六七八九]来\s*天|\d+\s*[来多余]\s*天|"
    r"[一二两三四五六七八九]{2}\s*(?:天|周|个)|个把月|(?:\d+|[一二两三四五六七八九十])\s*个?多\s*(?:月|星期|礼拜|周)"
)
DAY_SPANS = re.compile(
    rf"(?<![月\d.])(?P<num>{AMOUNT_NUMBER})\s*(?P<half>个半月)|(?P<halfmonth>半个?月)|"
    rf"(?<![月\d.])(?P<n>{AMOUNT_NUMBER})\s*(?:个)?\s*(?P<unit>工作日|天|日|周|星期|礼拜|个月)"
)
DAY_FACTORS = {"天": 1, "日": 1, "工作日": 1, "周": 7, "星期": 7, "礼拜": 7, "个月": DAYS_PER_MONTH}


def _count(token: str) -> int | Invalid | None:
    if "." in token:
        return Invalid("utter_invalid_count_whole")
    return int(token) if token.isdigit() else chinese_number(token)


def find_tax_days(text: str, alone: bool = False) -> tuple[int, bool] | Invalid | None:
    """Days late ("10天", "一周", "晚了半个月", "两个月"): (days, estimated); months count 30 days, an estimate.

    None if no number of days is named; `alone` also takes a bare number."""
    value = RATES_AND_DATES.sub(" ", PER_DAY.sub(" ", text.translate(FULLWIDTH)))
    if VAGUE_DAYS.search(value):
        return Invalid("utter_invalid_tax_days_vague")
    for found in DAY_SPANS.finditer(value):
        if found.group("halfmonth"):
            return DAYS_PER_MONTH // 2, True
        if found.group("half"):
            months = _count(found.group("num"))
            if isinstance(months, int):
                return months * DAYS_PER_MONTH + DAYS_PER_MONTH // 2, True
            continue
        count = _count(found.group("n"))
        if count is None:
            continue
        if isinstance(count, Invalid):
            return count
        unit = found.group("unit")
        return count * DAY_FACTORS[unit], unit == "个月"
    bare = re.sub(r"[\s。，,!！~～]|大约|大概|左右|差不多|逾期|晚了|滞纳|拖了", "", value)
    if alone and re.fullmatch(r"\d+|[零〇一二两三四五六七八九十百千]+", bare):
        count = _count(bare)
        return (count, False) if isinstance(count, int) else None
    if alone and re.fullmatch(r"\d+\.\d+", bare):
        return Invalid("utter_invalid_count_whole")
    return None


def validate_tax_days(text: str) -> Result:
    """Days late as a whole number ("10"), or "约30" when estimated from months."""
    found = find_tax_days(text, alone=True)
    if found is None:
        return Invalid("utter_invalid_tax_days")
    if isinstance(found, Invalid):
        return found
    days, estimated = found
    if days == 0:
        return Invalid("utter_invalid_tax_days_zero")
    if days > LARGEST["days"]:
        return Invalid("utter_invalid_tax_days_too_large", {"largest": LARGEST["days"]})
    return Valid(f"{ESTIMATED if estimated else ''}{days}")


def tax_days(value: str) -> int:
    """The number of days in a tax_days slot ("10" or "约30")."""
    return int(value.removeprefix(ESTIMATED))


MONTH_SPANS = re.compile(
    rf"(?P<n>{AMOUNT_NUMBER})\s*(?P<unit>个月|个季度|季度|年)|(?P<half>半年)|(?P<halfmonth>半个?月)|"
    rf"(?P<days>{AMOUNT_NUMBER})\s*(?:个)?\s*(?:天|日|周|星期)"
)


def find_tax_months(text: str, alone: bool = False) -> int | Invalid | None:
    """The months of a payment deferral ("2个月", "三个月", "半年"); `alone` also takes a bare number ("2")."""
    value = text.translate(FULLWIDTH).replace("俩月", "两个月").replace("仨月", "三个月")
    if re.search(r"几\s*个月|[一二两三四五六七八九]{2}\s*个月|个把月|\d+\s*[到至~～\-]\s*\d+\s*个月", value):
        return Invalid("utter_invalid_tax_months_vague")
    for found in MONTH_SPANS.finditer(value):
        if found.group("half"):
            return 6
        if found.group("halfmonth") or found.group("days"):
            return Invalid("utter_invalid_tax_months_whole")
        count = _count(found.group("n"))
        if isinstance(count, Invalid):
            return Invalid("utter_invalid_tax_months_whole")
        if count is None:
            continue
        return count * {"个月": 1, "个季度": 3, "季度": 3, "年": 12}[found.group("unit")]
    bare = re.sub(r"[\s。，,.!！~～]|延期|延|缓缴|缓|申请|就|吧|个", "", value)
    if alone and re.fullmatch(r"\d+|[一二两三四五六七八九十]+", bare):
        count = _count(bare)
        return count if isinstance(count, int) else None
    return None


def validate_tax_months(text: str) -> Result:
    """Months as a whole number ("2"); more than the law allows is explained by the form (with the rule)."""
    found = find_tax_months(text, alone=True)
    if found is None:
        return Invalid("utter_invalid_tax_months")
    if isinstance(found, Invalid):
        return found
    if found < 1:
        return Invalid("utter_invalid_tax_months_zero")
    if found > 120:
        return Invalid("utter_invalid_tax_months_too_large")
    return Valid(str(found))


def validate_tax_reason(text: str) -> Result:
    value = text.strip()
    if len(value) < 4:
        return Invalid("utter_invalid_tax_reason_short")
    if len(value) > 500:
        return Invalid("utter_invalid_tax_reason_long", {"length": len(value)})
    return Valid(value)


def _tax_company_code(text: str) -> Result:
    result = validate_company_code(text)
    if result == Invalid("utter_invalid_credit_code_name_given"):  # worded for the work-resumption filing
        return Invalid("utter_invalid_tax_credit_code_name_given")
    return result


def validate_tax_taxpayer(text: str) -> Result:
    """Whose obligations: a company's credit code, or PERSONAL ("本人", "查我个人的个税")."""
    if text == PERSONAL:
        return Valid(PERSONAL)
    if PERSONAL_WORDS.search(text) and not CODE_LIKE.search(_compact(text.translate(FULLWIDTH).upper())):
        return Valid(PERSONAL)
    return _tax_company_code(text)


def validate_tax_company(text: str) -> Result:
    """The company a deferral is for: a payment deferral is asked for by a company, never for oneself."""
    if PERSONAL_WORDS.search(text) and not CODE_LIKE.search(_compact(text.translate(FULLWIDTH).upper())):
        return Invalid("utter_invalid_tax_deferral_personal")
    return _tax_company_code(text)


PERIOD_WORDS = re.compile(
    r"\d{4}\s*[年./\-]\s*\d{1,2}|\d{1,2}\s*月|[一二三四五六七八九十]{1,2}\s*月|本期|这期|当期|上期|本月|这个月|上个月"
)


def validate_tax_period_choice(text: str) -> Result:
    """A tax and/or a period named ("增值税 2026年11月", "11月的附加税"); the form matches it against the company's
    obligations."""
    value = text.strip()
    if TAX_WORDS.search(value) or PERIOD_WORDS.search(value):
        return Valid(value)
    return Invalid("utter_invalid_tax_period")
