"""Validators of e-tax guidance (actions/tax.py): a surcharge's amount and days, a deferral's company, tax,
months and reason."""

from __future__ import annotations

import re
from decimal import Decimal

from actions.validators.common import (
    FULLWIDTH,
    Invalid,
    Result,
    Valid,
    _compact,
    chinese_number,
)
from actions.validators.work_resumption import (
    CODE_LIKE,
    LARGEST,
    validate_company_code,
)

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
