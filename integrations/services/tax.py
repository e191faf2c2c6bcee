"""Client of the e-tax guidance (电子税务) service: deadlines, surcharges, obligations, payment deferrals.

Guidance and status only: no real return is filed. Deadlines and surcharges are public; obligations and deferrals
need a verified identity (token + the chat user it was issued to). Money is Decimal (the service sends strings such
as "2446.80", so no fen is lost to a float); dates are `date`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from integrations.services.base import BaseServiceClient

PREFIX = "/api/v1/tax"


@dataclass(frozen=True)
class HolidayMove:
    """A long holiday that moved the deadline."""

    name: str  # 国庆节 (or 中秋节、国庆节 when one run joins two)
    start: date
    end: date
    days: int  # the whole run
    days_in_window: int  # of them, within days 1–15: the days the deadline moved


@dataclass(frozen=True)
class HowToFile:
    title: str  # 通过电子税务局网上申报
    steps: tuple[str, ...]
    tips: str


@dataclass(frozen=True)
class Deadline:
    month: str  # the filing month, "2020-10"
    tax: str  # 增值税
    cycle: str  # monthly / quarterly
    cycle_text: str  # 按月申报
    files_this_month: bool  # False: a quarterly tax outside January, April, July, October
    period: str | None  # whose return is due: "2020-09", "2023Q3"
    period_text: str | None  # 2020年9月, 2023年第3季度
    filing_start: date
    deadline: date
    deadline_text: str  # 2020年10月23日（星期五）
    base_deadline: date  # the 15th
    extension_days: int
    holidays: tuple[HolidayMove, ...]
    moved_to_next_working_day: bool
    explanation: str  # the whole answer in one or two Chinese sentences
    rule: str
    note: str | None  # about this tax (e.g. quarterly filing of small-scale taxpayers)
    calendar_covered: bool  # False: no holiday data for the year, weekends only
    calendar_note: str | None  # says so in Chinese when not covered
    today: date  # the service's date
    passed: bool
    days_left: int | None  # None when passed
    next_deadline: date | None  # the current month's deadline has passed: the next one
    how_to_file: HowToFile
    hotline: str  # 12366


@dataclass(frozen=True)
class Surcharge:
    amount: Decimal
    days: int
    due_date: date | None  # when computed from dates
    paid_date: date | None
    paid_date_assumed: bool  # no paid date given: as if paid today
    daily_rate: Decimal  # 0.0005
    rate_text: str  # 万分之五
    rate_percent: str  # 0.05%
    surcharge: Decimal
    total: Decimal  # amount + surcharge
    formula: str  # 滞纳金 = 欠缴税款 × 万分之五（0.05%）× 滞纳天数 = 10,000.00元 × 0.05% × 10天 = 50.00元
    explanation: str
    basis: str
    hotline: str


@dataclass(frozen=True)
class Taxpayer:
    kind: str  # enterprise / individual
    name: str | None = None  # enterprise name
    name_masked: str | None = None  # individual: 陈*
    credit_code: str | None = None
    role: str | None = None  # legal_representative / contact
    role_text: str | None = None
    taxpayer_kind: str | None = None  # small_scale / general
    taxpayer_kind_text: str | None = None  # 小规模纳税人 / 一般纳税人
    vat_cycle: str | None = None
    vat_cycle_text: str | None = None
    tax_office: str | None = None


@dataclass(frozen=True)
class Obligation:
    tax: str  # 增值税, 附加税费, 个人所得税
    period: str  # "2026-10", "2025"
    period_text: str  # 2026年10月, 2025年度综合所得汇算
    cycle: str  # monthly / annual
    cycle_text: str
    filing_start: date
    due_date: date
    due_date_text: str
    status: str  # filed / unfiled / overdue
    status_text: str  # 已申报 / 未申报 / 逾期
    filed_on: date | None
    tax_amount: Decimal | None  # None: known only once filed
    overdue_days: int
    surcharge: Decimal | None  # overdue: so far, by the service's date
    amount_due: Decimal | None  # still to pay (tax + surcharge when overdue); None when filed or unknown
    deferral_no: str | None  # an open deferral request for it


@dataclass(frozen=True)
class ObligationSummary:
    unfiled: int
    overdue: int
    overdue_amount_due: Decimal
    text: str  # 您有2项未申报（……），2项已逾期（……）。


@dataclass(frozen=True)
class Obligations:
    taxpayer: Taxpayer
    today: date
    items: tuple[Obligation, ...]  # newest period first
    summary: ObligationSummary
    hotline: str


@dataclass(frozen=True)
class Deferral:
    deferral_no: str  # YQ202612010001
    status: str  # pending
    status_text: str  # 已受理（待审批）
    credit_code: str
    company_name: str
    tax: str
    period: str
    period_text: str
    months: int
    due_date: date  # the original deadline
    requested_until: date  # moved by `months`, if approved
    reason: str
    approval_note: str  # 须经省级税务机关批准……
    decision_days: int  # 20
    decide_by: date
    submitted_on: date
    submitted_at: str  # ISO 8601, +08:00
    submitted_by_masked: str | None
    already_open: bool = False  # an open request existed: this is it (HTTP 200)
    created: bool = False  # this request recorded it (HTTP 201)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _deadline(data: dict[str, Any]) -> Deadline:
    how = data["how_to_file"]
    return Deadline(
        **{name: data[name] for name in _PLAIN_DEADLINE_FIELDS},
        filing_start=date.fromisoformat(data["filing_start"]),
        deadline=date.fromisoformat(data["deadline"]),
        base_deadline=date.fromisoformat(data["base_deadline"]),
        holidays=tuple(
            HolidayMove(
                item["name"],
                date.fromisoformat(item["start"]),
                date.fromisoformat(item["end"]),
                int(item["days"]),
                int(item["days_in_window"]),
            )
            for item in data["holidays"]
        ),
        today=date.fromisoformat(data["today"]),
        next_deadline=_date(data.get("next_deadline")),
        how_to_file=HowToFile(how["title"], tuple(how["steps"]), how["tips"]),
    )


_PLAIN_DEADLINE_FIELDS = (
    "month",
    "tax",
    "cycle",
    "cycle_text",
    "files_this_month",
    "period",
    "period_text",
    "deadline_text",
    "extension_days",
    "moved_to_next_working_day",
    "explanation",
    "rule",
    "note",
    "calendar_covered",
    "calendar_note",
    "passed",
    "days_left",
    "hotline",
)


def _surcharge(data: dict[str, Any]) -> Surcharge:
    return Surcharge(
        amount=Decimal(data["amount"]),
        days=int(data["days"]),
        due_date=_date(data.get("due_date")),
        paid_date=_date(data.get("paid_date")),
        paid_date_assumed=bool(data["paid_date_assumed"]),
        daily_rate=Decimal(data["daily_rate"]),
        rate_text=data["rate_text"],
        rate_percent=data["rate_percent"],
        surcharge=Decimal(data["surcharge"]),
        total=Decimal(data["total"]),
        formula=data["formula"],
        explanation=data["explanation"],
        basis=data["basis"],
        hotline=str(data["hotline"]),
    )


def _obligation(data: dict[str, Any]) -> Obligation:
    return Obligation(
        tax=data["tax"],
        period=data["period"],
        period_text=data["period_text"],
        cycle=data["cycle"],
        cycle_text=data["cycle_text"],
        filing_start=date.fromisoformat(data["filing_start"]),
        due_date=date.fromisoformat(data["due_date"]),
        due_date_text=data["due_date_text"],
        status=data["status"],
        status_text=data["status_text"],
        filed_on=_date(data.get("filed_on")),
        tax_amount=_decimal(data.get("tax_amount")),
        overdue_days=int(data["overdue_days"]),
        surcharge=_decimal(data.get("surcharge")),
        amount_due=_decimal(data.get("amount_due")),
        deferral_no=data.get("deferral_no"),
    )


def _obligations(data: dict[str, Any]) -> Obligations:
    known = Taxpayer.__dataclass_fields__
    summary = data["summary"]
    return Obligations(
        taxpayer=Taxpayer(**{name: value for name, value in data["taxpayer"].items() if name in known}),
        today=date.fromisoformat(data["today"]),
        items=tuple(_obligation(item) for item in data["items"]),
        summary=ObligationSummary(
            int(summary["unfiled"]), int(summary["overdue"]), Decimal(summary["overdue_amount_due"]), summary["text"]
        ),
        hotline=str(data["hotline"]),
    )


_DEFERRAL_DATES = ("due_date", "requested_until", "decide_by", "submitted_on")


def _deferral(data: dict[str, Any], created: bool = False) -> Deferral:
    names = [name for name in Deferral.__dataclass_fields__ if name not in ("created", "already_open")]
    values = {name: data.get(name) for name in names}
    values.update({name: date.fromisoformat(data[name]) for name in _DEFERRAL_DATES})
    return Deferral(**values, already_open=bool(data.get("already_open", False)), created=created)


def _month(month: str | date | None) -> str | None:
    return f"{month:%Y-%m}" if isinstance(month, date) else month


class TaxClient(BaseServiceClient):
    service_name = "电子税务服务"

    async def get_deadline(self, *, month: str | date | None = None, tax: str | None = None) -> Deadline:
        """The filing deadline of a month ("2026-10", a date in it, or None for the service's current month).

        Raises ServiceRejected with code invalid_field (details["field"] "month") or unknown_tax
        (details["allowed"]: the taxes the service knows).
        """
        _, data = await self._request("GET", f"{PREFIX}/deadline", params={"month": _month(month), "tax": tax})
        return _deadline(data)

    async def surcharge(
        self,
        *,
        amount: Decimal | int | str,
        days: int | None = None,
        due_date: date | None = None,
        paid_date: date | None = None,
    ) -> Surcharge:
        """The late-payment surcharge, from a number of days or from the due date and the payment date (default:
        the service's today). Amounts may be what the citizen typed ("1,000元").

        Raises ServiceRejected with code invalid_amount, invalid_days (details["max_days"]) or invalid_field
        (details["field"]: days, due_date or paid_date).
        """
        params = {
            "amount": str(amount),
            "days": None if days is None else str(days),
            "due_date": due_date.isoformat() if due_date else None,
            "paid_date": paid_date.isoformat() if paid_date else None,
        }
        _, data = await self._request("GET", f"{PREFIX}/surcharge", params=params)
        return _surcharge(data)

    async def list_obligations(self, *, token: str, chat_user: str, credit_code: str | None = None) -> Obligations:
        """A company's obligations (credit_code given, the person must be its legal representative or registered
        contact) or the verified person's own (个人所得税 annual reconciliation), recent periods, newest first.

        Raises ServiceRejected with code invalid_credit_code or company_not_found_or_not_authorised (404; the same
        for an unknown company and someone else's).
        """
        _, data = await self._request(
            "GET", f"{PREFIX}/obligations", params={"credit_code": credit_code}, token=token, chat_user=chat_user
        )
        return _obligations(data)

    async def request_deferral(
        self,
        *,
        token: str,
        chat_user: str,
        idempotency_key: str,
        credit_code: str,
        tax: str,
        period: str,
        months: int,
        reason: str,
    ) -> Deferral:
        """Ask to defer payment of one period's tax; safe to retry with the same key. An open request for the same
        company, tax and period is returned instead (`already_open`).

        Raises ServiceRejected with code deferral_too_long (details: max_months, rule), invalid_credit_code,
        company_not_found_or_not_authorised, unknown_tax, invalid_field (period, months), invalid_reason,
        obligation_not_found, already_filed, deferral_after_deadline, idempotency_conflict.
        """
        body = {"credit_code": credit_code, "tax": tax, "period": period, "months": months, "reason": reason}
        status, data = await self._request(
            "POST",
            f"{PREFIX}/deferrals",
            json=body,
            token=token,
            chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _deferral(data, created=status == 201)

    async def list_deferrals(self, *, token: str, chat_user: str, credit_code: str | None = None) -> list[Deferral]:
        """Deferral requests of the companies this person may act for (or of one of them), newest first."""
        _, data = await self._request(
            "GET", f"{PREFIX}/deferrals", params={"credit_code": credit_code}, token=token, chat_user=chat_user
        )
        return [_deferral(item) for item in data["items"]]
