"""Pure validators for what citizens type into forms.

Each returns `Valid(value)` with the normalised value or `Invalid(reason)` with a short,
specific Chinese explanation the form shows to the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＹ",
                          "0123456789XxABCDEFGHJKLMNPQRTUWY")
NAME_PREFIX = re.compile(r"^(我的名字是|我的名字叫|名字是|名字叫|姓名是|姓名[:：]?|我叫|我是|本人)")
NAME_RE = re.compile(r"^[\u4e00-\u9fa5]{2,6}$|^[\u4e00-\u9fa5]{1,10}[·•][\u4e00-\u9fa5]{1,10}$")


@dataclass(frozen=True)
class Valid:
    value: str


@dataclass(frozen=True)
class Invalid:
    reason: str


Result = Valid | Invalid


def _compact(text: str) -> str:
    """Remove spaces, dashes and full-width digits that people type or paste."""
    return re.sub(r"[\s\-－—_]", "", text.translate(FULLWIDTH))


def id_checksum_ok(id_number: str) -> bool:
    total = sum(int(d) * w for d, w in zip(id_number[:17], ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11] == id_number[17]


def validate_id_number(text: str, today: date | None = None) -> Result:
    value = _compact(text).upper()
    found = re.search(r"\d{17}[\dX]|\d{15,20}X?", value)
    value = found.group() if found else value
    if len(value) != 18 or not re.fullmatch(r"\d{17}[\dX]", value):
        return Invalid(f"身份证号码应为18位（最后一位可以是X），您输入的是{len(value)}位")
    try:
        birth = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return Invalid("身份证号码中的出生日期不正确（第7至14位应为有效的出生年月日）")
    if birth > (today or date.today()) or birth.year < 1900:
        return Invalid("身份证号码中的出生日期不正确（第7至14位应为有效的出生年月日）")
    if not id_checksum_ok(value):
        return Invalid("身份证号码校验未通过，可能有数字输错了，请仔细核对后重新输入")
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
            return Invalid("这不是有效的大陆手机号码（应以13至19开头）")
        return Invalid(f"手机号码应为11位数字，您输入的是{len(digits)}位")
    return Valid(value)


def validate_sms_code(text: str) -> Result:
    digits = re.findall(r"(?<!\d)\d{6}(?!\d)", _compact(text) if len(text) < 12 else text)
    if len(digits) != 1:
        return Invalid("验证码为6位数字，请输入短信中的6位数字验证码")
    return Valid(digits[0])


def validate_person_name(text: str) -> Result:
    value = NAME_PREFIX.sub("", re.sub(r"[\s，,。.!！~～]", "", text))
    if not value:
        return Invalid("请输入您的姓名")
    if re.search(r"\d", value):
        return Invalid("姓名中不能包含数字，请输入与身份证一致的中文姓名")
    if not NAME_RE.match(value):
        return Invalid("姓名应为2至6个汉字（少数民族姓名可用“·”分隔），请输入与身份证一致的姓名")
    return Valid(value)


def validate_school(text: str) -> Result:
    value = re.sub(r"^(我是|我在|学校是|毕业于|毕业院校是|我的学校是)", "", text.strip(" 。，,"))
    if not re.search(r"(大学|学院|学校|College|University|Institute|院|校)", value, re.IGNORECASE):
        return Invalid("请填写学校全称，例如：浙江大学、杭州职业技术学院")
    if len(value) > 40:
        return Invalid("学校名称过长，请只填写学校全称")
    return Valid(value)


def validate_graduation_year(text: str, today: date | None = None) -> Result:
    this_year = (today or date.today()).year
    found = re.search(r"(19|20)\d{2}", _compact(text))
    if not found:
        short = re.search(r"(?<!\d)(\d{2})(?:年|届)", text)
        if not short:
            return Invalid("请输入4位数字的毕业年份，例如：2026")
        year = 2000 + int(short.group(1))
    else:
        year = int(found.group())
    if not this_year - 10 <= year <= this_year + 5:
        return Invalid(f"毕业年份应在{this_year - 10}年至{this_year + 5}年之间，请核对后重新输入")
    return Valid(str(year))


CONFIRMED, DECLINED = "confirmed", "declined"
CONFIRM_WORDS = ("确认", "承诺", "同意", "提交")


def validate_confirmation(text: str) -> Result:
    """A yes to a confirmation question; buttons and yes/no intents arrive as CONFIRMED / DECLINED."""
    if text in (CONFIRMED, DECLINED):
        return Valid(text)
    if any(word in text for word in CONFIRM_WORDS):
        return Valid(CONFIRMED)
    return Invalid("请回复“确认”提交，或回复“取消”放弃办理")


def credit_code_checksum_ok(code: str) -> bool:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code[:17], CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31] == code[17]


def validate_credit_code(text: str) -> Result:
    value = _compact(text).upper()
    if len(value) != 18 or any(c not in CREDIT_CHARS for c in value):
        return Invalid("统一社会信用代码应为18位数字或大写字母（不含I、O、Z、S、V）")
    if not credit_code_checksum_ok(value):
        return Invalid("统一社会信用代码校验未通过，请核对营业执照上的代码后重新输入")
    return Valid(value)
