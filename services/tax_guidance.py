"""E-tax guidance (电子税务) that needs no identity: filing deadlines and the late-payment surcharge, worked out.

Inputs arrive as typed by a citizen ("2026年10月", "1,000元", "10天"), so they are parsed here with specific Chinese
messages rather than by the framework's generic validation.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from services import tax_calendar
from services.errors import ApiError
from services.tax_rules import QUARTER_FILING_MONTHS, TaxKind, TaxRules, shift_month

WEEKDAYS = "一二三四五六日"
DEFAULT_TAX = "增值税"
MAX_INPUT_CHARS = 40
_MONTH = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")
_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_AMOUNT = re.compile(r"\d+(\.\d{1,2})?")  # yuan, at most to the fen
_DAYS = re.compile(r"\d+")
YEARS = (2000, 2099)  # accepted months; the holiday data covers fewer years (see tax_calendar.covered_years)


# --- wording ------------------------------------------------------------------------------------------------------


def chinese_date(day: date, weekday: bool = False) -> str:
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAYS[day.weekday()]}）" if weekday else text


def month_day(day: date, year: int) -> str:
    """10月23日, with the year only when it is not `year` (2022年12月31日 in a January answer)."""
    return f"{day.month}月{day.day}日" if day.year == year else chinese_date(day)


def money(amount: Decimal) -> str:
    """For sentences: 10,000.00元."""
    return f"{amount:,.2f}元"


def plain(amount: Decimal) -> str:
    """For JSON: "10000.00" (a string, so no float ever rounds a fen away)."""
    return f"{amount:.2f}"


def month_text(year: int, month: int) -> str:
    return f"{year}年{month}月"


# --- parsing what a citizen typed -------------------------------------------------------------------------------


def _invalid(code: str, field: str, message: str, **details: Any) -> ApiError:
    return ApiError(422, code, message, {"field": field, "fields": [field], **details})


def parse_month(raw: str | None, today: date) -> tuple[int, int]:
    """ "2026-10", "2026/10", "2026年10月"; empty: the sandbox's current month."""
    text = (raw or "").strip()
    if not text:
        return today.year, today.month
    match = _MONTH.fullmatch(text[:MAX_INPUT_CHARS])
    year, month = (int(match[1]), int(match[2])) if match else (0, 0)
    if not (YEARS[0] <= year <= YEARS[1] and 1 <= month <= 12):
        raise _invalid("invalid_field", "month", "月份请按“年-月”填写，例如 2026-10 或 2026年10月，请核对后重新查询。")
    return year, month


def parse_date(raw: str, field: str) -> date:
    match = _DATE.fullmatch(raw.strip()[:MAX_INPUT_CHARS])
    try:
        if match is None:
            raise ValueError(raw)
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        label = "缴款期限" if field == "due_date" else "实际缴款日期"
        raise _invalid(
            "invalid_field", field, f"{label}请填写有效的日期，例如 2026-10-23 或 2026年10月23日，请核对后重新输入。"
        ) from None
    if not YEARS[0] <= day.year <= YEARS[1]:
        raise _invalid("invalid_field", field, f"日期须在{YEARS[0]}年至{YEARS[1]}年之间，请核对后重新输入。")
    return day


def parse_amount(raw: str, rules: TaxRules) -> Decimal:
    """ "10000", "1,000.50", "2580.5元"; more than zero and at most the configured maximum."""
    text = re.sub(r"[,，\s]", "", raw or "").removesuffix("元")
    amount = Decimal(text) if len(text) <= MAX_INPUT_CHARS and _AMOUNT.fullmatch(text) else None
    if amount is None or amount <= 0:
        raise _invalid(
            "invalid_amount",
            "amount",
            "欠缴税款金额请填写大于0的数字（单位：元，最多两位小数），例如 10000 或 2580.50，请核对后重新输入。",
            max_amount=plain(rules.max_amount),
        )
    if amount > rules.max_amount:
        raise _invalid(
            "invalid_amount",
            "amount",
            f"欠缴税款金额超出可以测算的范围（最多{money(rules.max_amount)}），请核对金额是否多输了位数。",
            max_amount=plain(rules.max_amount),
        )
    return amount


def _days_error(rules: TaxRules) -> ApiError:
    return _invalid(
        "invalid_days",
        "days",
        f"滞纳天数请填写0至{rules.max_days}之间的整数，例如 10，请核对后重新输入。",
        max_days=rules.max_days,
    )


def parse_days(raw: str, rules: TaxRules) -> int:
    text = re.sub(r"\s", "", raw or "").removesuffix("天")
    if len(text) > 6 or not _DAYS.fullmatch(text) or int(text) > rules.max_days:
        raise _days_error(rules)
    return int(text)


def clean_tax(rules: TaxRules, raw: str | None) -> TaxKind:
    tax = rules.tax(raw)
    if tax is None:
        names = [tax.name for tax in rules.taxes]
        raise _invalid(
            "unknown_tax",
            "tax",
            f"暂不支持查询该税种。可以查询的税种有：{'、'.join(names)}，请选择其中一种。",
            allowed=names,
        )
    return tax


# --- the deadline of a month ------------------------------------------------------------------------------------


def _period_due(tax: TaxKind, year: int, month: int) -> tuple[str, str] | None:
    """The period whose return is due in this month: (code, text), or None for a quarterly tax off-quarter."""
    period_year, period_month = shift_month(year, month, -1)
    if tax.cycle == "monthly":
        return f"{period_year:04d}-{period_month:02d}", month_text(period_year, period_month)
    if month not in QUARTER_FILING_MONTHS:
        return None
    quarter = (period_month - 1) // 3 + 1
    return f"{period_year:04d}Q{quarter}", f"{period_year}年第{quarter}季度"


def _next_quarter_month(year: int, month: int) -> tuple[int, int]:
    for delta in range(1, 4):
        candidate = shift_month(year, month, delta)
        if candidate[1] in QUARTER_FILING_MONTHS:
            return candidate
    raise AssertionError("a filing month comes within three months")


def _block_text(block: tax_calendar.HolidayBlock, year: int, filing_day: int) -> str:
    span = f"{month_day(block.start, year)}至{month_day(block.end, year)}"
    inside = "" if block.days_in_window == block.days else f"，其中{block.days_in_window}天在1日至{filing_day}日内"
    return f"{block.name}连续放假{block.days}天（{span}{inside}）"


def _moves_text(rules: TaxRules, result: tax_calendar.Deadline) -> str:
    year = result.month.year
    parts = []
    if result.moved_holidays:
        blocks = "；".join(_block_text(block, year, rules.filing_day) for block in result.moved_holidays)
        parts.append(
            f"1日至{rules.filing_day}日内有{blocks}，期限由{month_day(result.base, year)}顺延"
            f"{result.extension_days}天至{month_day(result.extended, year)}。"
        )
    if result.moved_to_next_working_day:
        parts.append(
            f"{month_day(result.extended, year)}是休息日，顺延至下一个工作日{month_day(result.deadline, year)}。"
        )
    if result.deadline.weekday() >= 5:  # a 调休 Saturday or Sunday: surprising, so say why it counts
        weekday = WEEKDAYS[result.deadline.weekday()]
        parts.append(f"{month_day(result.deadline, year)}虽是星期{weekday}，但为调休上班日，按工作日计算。")
    return "".join(parts)


def _next_period_text(rules: TaxRules, year: int, month: int) -> tuple[str, date]:
    """For a current month whose deadline has passed: when the next filing period runs."""
    next_year, next_month = shift_month(year, month, 1)
    upcoming = rules.deadline(next_year, next_month).deadline
    text = (
        f"本月的申报期已经结束；下一个申报期是{month_text(next_year, next_month)}1日至"
        f"{month_day(upcoming, next_year)}。"
    )
    return text, upcoming


def _first_sentence(tax: TaxKind, year: int, month: int, period: tuple[str, str] | None, deadline: date) -> str:
    if period is None:
        next_year, next_month = _next_quarter_month(year, month)
        return (
            f"{tax.name}按季申报，{month_text(year, month)}无需申报；"
            f"下一个申报月份是{month_text(next_year, next_month)}（申报上一季度）。"
            f"{month_text(year, month)}按月申报的税种，申报纳税期限为{chinese_date(deadline, True)}。"
        )
    return f"{month_text(year, month)}申报{period[1]}的{tax.name}，申报纳税期限为{chinese_date(deadline, True)}。"


def _holiday_dict(block: tax_calendar.HolidayBlock) -> dict[str, Any]:
    return {
        "name": block.name,
        "start": block.start.isoformat(),
        "end": block.end.isoformat(),
        "days": block.days,
        "days_in_window": block.days_in_window,
    }


def deadline_answer(rules: TaxRules, today: date, raw_month: str | None, raw_tax: str | None) -> dict[str, Any]:
    """The filing deadline of a month (default: the sandbox's current month), why, and how to file online."""
    year, month = parse_month(raw_month, today)
    tax = clean_tax(rules, raw_tax or DEFAULT_TAX)
    result = rules.deadline(year, month)
    period = _period_due(tax, year, month)
    passed = result.deadline < today
    explanation = _first_sentence(tax, year, month, period, result.deadline) + _moves_text(rules, result)
    upcoming = None
    if passed and (year, month) == (today.year, today.month):
        next_text, upcoming = _next_period_text(rules, year, month)
        explanation += next_text
    years = (year, result.deadline.year, upcoming.year if upcoming else year)
    uncovered = sorted({y for y in years if not tax_calendar.covers(y)})
    return {
        "month": f"{year:04d}-{month:02d}",
        "tax": tax.name,
        "cycle": tax.cycle,
        "cycle_text": rules.cycle_texts.get(tax.cycle, tax.cycle),
        "files_this_month": period is not None,
        "period": period[0] if period else None,
        "period_text": period[1] if period else None,
        "filing_start": result.month.isoformat(),
        "deadline": result.deadline.isoformat(),
        "deadline_text": chinese_date(result.deadline, weekday=True),
        "base_deadline": result.base.isoformat(),
        "extension_days": result.extension_days,
        "holidays": [_holiday_dict(block) for block in result.moved_holidays],
        "moved_to_next_working_day": result.moved_to_next_working_day,
        "explanation": explanation,
        "rule": rules.deadline_rule_text,
        "note": tax.note or None,
        "calendar_covered": not uncovered,
        "calendar_note": rules.uncovered_text(uncovered) if uncovered else None,
        "today": today.isoformat(),
        "passed": passed,
        "days_left": None if passed else (result.deadline - today).days,
        "next_deadline": upcoming.isoformat() if upcoming else None,
        "how_to_file": rules.how_to_file.as_dict(),
        "hotline": rules.hotline,
    }


# --- the late-payment surcharge (滞纳金) ----------------------------------------------------------------------------


def _missing(field: str, message: str) -> ApiError:
    return _invalid("invalid_field", field, message)


def _days_between(rules: TaxRules, due: date, paid: date) -> int:
    """From the day after the due date up to and including the day of payment; 0 when paid in time."""
    days = max(0, (paid - due).days)
    if days > rules.max_days:
        raise _days_error(rules)
    return days


def _days_and_dates(
    rules: TaxRules, today: date, raw_days: str | None, raw_due: str | None, raw_paid: str | None
) -> tuple[int, date | None, date | None]:
    given = {name for name, value in (("days", raw_days), ("due", raw_due), ("paid", raw_paid)) if value}
    if "days" in given and given & {"due", "paid"}:
        raise _missing("days", "滞纳天数和缴款日期只需提供一种：请只填滞纳天数，或只填缴款期限和实际缴款日期。")
    if "days" in given:
        return parse_days(raw_days or "", rules), None, None
    if "due" not in given:
        field, what = ("due_date", "缴款期限") if "paid" in given else ("days", "滞纳天数，或者缴款期限和实际缴款日期")
        raise _missing(field, f"请提供{what}，以便计算滞纳金。")
    due = parse_date(raw_due or "", "due_date")
    paid = parse_date(raw_paid, "paid_date") if raw_paid else today  # not paid yet: as if paid today
    return _days_between(rules, due, paid), due, paid


def _days_sentence(days: int, due: date | None, paid: date | None, paid_given: bool) -> str:
    if due is None or paid is None:
        return ""
    if days == 0:
        return f"在缴款期限{chinese_date(due)}之前（含当日）缴款不算滞纳，不加收滞纳金。"
    paid_text = f"实际缴款日{chinese_date(paid)}" if paid_given else f"今天（{chinese_date(paid)}，按今天缴款计算）"
    return f"滞纳天数从缴款期限届满次日{chinese_date(due + timedelta(days=1))}起算，至{paid_text}止，共{days}天。"


def surcharge_answer(
    rules: TaxRules,
    today: date,
    raw_amount: str | None,
    raw_days: str | None = None,
    raw_due: str | None = None,
    raw_paid: str | None = None,
) -> dict[str, Any]:
    """amount × daily rate × days, rounded to the fen, with the formula written out."""
    if not raw_amount:
        raise _missing("amount", "请提供欠缴税款金额（单位：元），以便计算滞纳金。")
    amount = parse_amount(raw_amount, rules)
    days, due, paid = _days_and_dates(rules, today, raw_days, raw_due, raw_paid)
    surcharge = rules.surcharge(amount, days)
    formula = (
        f"滞纳金 = 欠缴税款 × {rules.rate_text}（{rules.rate_percent}）× 滞纳天数 = "
        f"{money(amount)} × {rules.rate_percent} × {days}天 = {money(surcharge)}"
    )
    return {
        "amount": plain(amount),
        "days": days,
        "due_date": due.isoformat() if due else None,
        "paid_date": paid.isoformat() if paid else None,
        "paid_date_assumed": due is not None and not raw_paid,
        "daily_rate": f"{rules.daily_rate.normalize():f}",
        "rate_text": rules.rate_text,
        "rate_percent": rules.rate_percent,
        "surcharge": plain(surcharge),
        "total": plain(amount + surcharge),
        "formula": formula,
        "explanation": _days_sentence(days, due, paid, bool(raw_paid))
        + f"{formula}；税款和滞纳金合计{money(amount + surcharge)}。",
        "basis": rules.surcharge_basis,
        "hotline": rules.hotline,
    }
