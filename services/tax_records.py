"""E-tax records after identity verification: filing obligations and payment deferral requests (延期缴纳税款).

A company's records are shown only to its legal representative or a registered contact, with the work-resumption
service's rule and its one answer for "no such company" and "not yours"; a person sees only their own records,
found from the verified identity, never from an ID number typed in.
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import idempotency, tax_calendar
from services.auth import Principal
from services.clock import to_china_iso
from services.errors import ApiError
from services.masking import mask_name
from services.models import CompanyContact, Enterprise, Person, TaxDeferral, TaxObligation, TaxRegistration
from services.sandbox_clock import sandbox_today, sandbox_utcnow
from services.tax_guidance import chinese_date, clean_tax, money, month_text, plain
from services.tax_rules import TaxRules, add_months
from services.work_resumption import ROLE_TEXT, authorised_company, valid_code

logger = logging.getLogger("services.tax")

STATUS_TEXT = {"filed": "已申报", "unfiled": "未申报", "overdue": "逾期"}
DEFERRAL_PENDING = "pending"
DEFERRAL_STATUS_TEXT = {DEFERRAL_PENDING: "已受理（待审批）"}
REASON_CHARS = (2, 500)
RECENT_DAYS = 400  # obligations due within about the last year, and every later one
DEFERRAL_NO_ATTEMPTS = 5
_PERIOD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?")


def not_found_or_not_authorised() -> ApiError:
    # The work-resumption service's code and status, worded for taxes; it must not tell whether the company exists.
    return ApiError(
        404,
        "company_not_found_or_not_authorised",
        "未查询到您可以代为查询或办理涉税事项的该企业。请核对统一社会信用代码是否输入正确；企业的涉税事项须由法定代表人"
        "或登记联系人办理，如需变更登记联系人，请先到企业登记机关办理，或拨打12366纳税缴费服务热线咨询。",
    )


def _company(session: Session, principal: Principal, raw_code: str) -> tuple[Enterprise, str]:
    return authorised_company(session, principal.person_id, valid_code(raw_code), not_found_or_not_authorised)


# --- obligations ------------------------------------------------------------------------------------------------


def _amount(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def status_of(obligation: TaxObligation, today: date) -> str:
    if obligation.filed_on is not None:
        return "filed"
    return "overdue" if obligation.due_date < today else "unfiled"


def period_text(rules: TaxRules, obligation: TaxObligation) -> str:
    if obligation.cycle == "annual":
        return f"{obligation.period}{rules.reconciliation.period_suffix}"
    year, month = obligation.period.split("-")
    return month_text(int(year), int(month))


@dataclass(frozen=True)
class _Money:
    """What an obligation costs today: the tax, the surcharge so far (overdue only), what is still to pay."""

    overdue_days: int
    surcharge: Decimal | None
    amount_due: Decimal | None


def _money(rules: TaxRules, obligation: TaxObligation, status: str, today: date) -> _Money:
    amount = _amount(obligation.tax_amount_fen)
    days = (today - obligation.due_date).days if status == "overdue" else 0
    if status == "filed" or amount is None:
        return _Money(days, None, None)  # filed and paid, or the amount is known only once filed
    if status == "unfiled":
        return _Money(0, None, amount)
    surcharge = rules.surcharge(amount, days)
    return _Money(days, surcharge, amount + surcharge)


def obligation_dict(
    rules: TaxRules, obligation: TaxObligation, today: date, deferral_no: str | None = None
) -> dict[str, Any]:
    status = status_of(obligation, today)
    cost = _money(rules, obligation, status, today)
    amount = _amount(obligation.tax_amount_fen)
    return {
        "tax": obligation.tax,
        "period": obligation.period,
        "period_text": period_text(rules, obligation),
        "cycle": obligation.cycle,
        "cycle_text": rules.cycle_texts.get(obligation.cycle, obligation.cycle),
        "filing_start": obligation.filing_start.isoformat(),
        "due_date": obligation.due_date.isoformat(),
        "due_date_text": chinese_date(obligation.due_date, weekday=True),
        "status": status,
        "status_text": STATUS_TEXT[status],
        "filed_on": obligation.filed_on.isoformat() if obligation.filed_on else None,
        "tax_amount": plain(amount) if amount is not None else None,
        "overdue_days": cost.overdue_days,
        "surcharge": plain(cost.surcharge) if cost.surcharge is not None else None,
        "amount_due": plain(cost.amount_due) if cost.amount_due is not None else None,
        "deferral_no": deferral_no,
    }


def _sorted(rules: TaxRules, rows: list[TaxObligation]) -> list[TaxObligation]:
    """Newest period first; within a period in the configuration's order of taxes (增值税 before 附加税费)."""
    order = {tax.name: index for index, tax in enumerate(rules.taxes)}
    rows = sorted(rows, key=lambda row: order.get(row.tax, len(order)))
    return sorted(rows, key=lambda row: row.period, reverse=True)


NOTHING_DUE = "近期的申报均已完成，没有未申报或逾期的事项。"
NOT_REGISTERED = (
    "暂未查询到该企业的税务登记和申报信息。如企业已办理涉税事项，请拨打12366纳税缴费服务热线或到主管税务机关核实。"
)


def _summary(items: list[dict[str, Any]], nothing_text: str = NOTHING_DUE) -> dict[str, Any]:
    unfiled = [item for item in items if item["status"] == "unfiled"]
    overdue = [item for item in items if item["status"] == "overdue"]
    owed = sum((Decimal(item["amount_due"]) for item in overdue if item["amount_due"]), Decimal(0))
    parts = []
    if unfiled:
        first_due = min(item["due_date"] for item in unfiled)
        parts.append(f"{len(unfiled)}项未申报（最近的期限是{chinese_date(date.fromisoformat(first_due), True)}）")
    if overdue:
        parts.append(f"{len(overdue)}项已逾期（应缴税款及滞纳金合计{money(owed)}，滞纳金按日累计，请尽快申报缴纳）")
    text = "您有" + "，".join(parts) + "。" if parts else nothing_text
    return {"unfiled": len(unfiled), "overdue": len(overdue), "overdue_amount_due": plain(owed), "text": text}


def _open_deferrals(session: Session, obligation_ids: list[int]) -> dict[int, str]:
    rows = session.execute(
        select(TaxDeferral.obligation_id, TaxDeferral.deferral_no).where(
            TaxDeferral.obligation_id.in_(obligation_ids), TaxDeferral.status == DEFERRAL_PENDING
        )
    ).all()
    return dict(rows)


def _recent(session: Session, today: date, *conditions: Any) -> list[TaxObligation]:
    since = today - timedelta(days=RECENT_DAYS)
    query = select(TaxObligation).where(*conditions, TaxObligation.due_date >= since)
    return list(session.execute(query).scalars())


def _listing(
    rules: TaxRules, session: Session, rows: list[TaxObligation], today: date, nothing_text: str = NOTHING_DUE
) -> dict[str, Any]:
    deferrals = _open_deferrals(session, [row.id for row in rows])
    items = [obligation_dict(rules, row, today, deferrals.get(row.id)) for row in _sorted(rules, rows)]
    return {
        "today": today.isoformat(),
        "items": items,
        "summary": _summary(items, nothing_text),
        "hotline": rules.hotline,
        "sample_data": True,
    }


def company_obligations(session: Session, rules: TaxRules, principal: Principal, raw_code: str) -> dict[str, Any]:
    enterprise, role = _company(session, principal, raw_code)
    today = sandbox_today(session)
    registration = session.execute(
        select(TaxRegistration).where(TaxRegistration.enterprise_id == enterprise.id)
    ).scalar_one_or_none()
    kind = registration.taxpayer_kind if registration else None
    taxpayer = {
        "kind": "enterprise",
        "name": enterprise.name,
        "credit_code": enterprise.credit_code,
        "role": role,
        "role_text": ROLE_TEXT.get(role, role),
        "taxpayer_kind": kind,
        "taxpayer_kind_text": rules.taxpayer_kind_text(kind),
        "vat_cycle": registration.vat_cycle if registration else None,
        "vat_cycle_text": rules.cycle_texts.get(registration.vat_cycle) if registration else None,
        "tax_office": registration.tax_office if registration else None,
    }
    rows = _recent(session, today, TaxObligation.enterprise_id == enterprise.id)
    nothing_text = NOTHING_DUE if registration else NOT_REGISTERED
    return {"taxpayer": taxpayer, **_listing(rules, session, rows, today, nothing_text)}


def personal_obligations(session: Session, rules: TaxRules, principal: Principal) -> dict[str, Any]:
    """The verified person's own obligations (个人所得税 annual reconciliation): the token says whose."""
    person = session.get(Person, principal.person_id)
    today = sandbox_today(session)
    taxpayer = {"kind": "individual", "name_masked": mask_name(person.name)}
    rows = _recent(session, today, TaxObligation.person_id == person.id)
    return {"taxpayer": taxpayer, **_listing(rules, session, rows, today)}


# --- deferral requests (延期缴纳税款) -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeferralRequest:
    credit_code: str  # normalised
    tax: str  # the configuration's name (增值税)
    period: str  # 2026-11
    months: int
    reason: str

    def payload(self) -> dict[str, Any]:
        return {"op": "tax_deferral", **asdict(self)}


def _clean_period(raw: str) -> str:
    match = _PERIOD.fullmatch(raw.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ApiError(
            422,
            "invalid_field",
            "所属期请按“年-月”填写，例如 2026-11（即2026年11月的税款），请核对后重新提交。",
            {"field": "period", "fields": ["period"]},
        )
    return f"{int(match[1]):04d}-{int(match[2]):02d}"


def _clean_months(rules: TaxRules, months: int) -> int:
    if months < 1:
        raise ApiError(
            422,
            "invalid_field",
            f"延期月数请填写1至{rules.deferral_max_months}之间的整数。",
            {"field": "months", "fields": ["months"]},
        )
    if months > rules.deferral_max_months:
        raise ApiError(
            422,
            "deferral_too_long",
            f"{rules.deferral_rule_text}您申请的是{months}个月，请改为不超过{rules.deferral_max_months}个月后重新提交。",
            {"max_months": rules.deferral_max_months, "months": months, "rule": rules.deferral_rule_text},
        )
    return months


def _clean_reason(reason: str) -> str:
    reason = reason.strip()
    low, high = REASON_CHARS
    if not low <= len(reason) <= high:
        raise ApiError(
            422,
            "invalid_reason",
            f"请用{low}至{high}个字说明申请延期缴纳的原因，例如“受疫情影响，当期货币资金扣除应付工资和社保费后不足以缴纳税款”。",
            {"field": "reason", "min_length": low, "max_length": high},
        )
    return reason


def clean_deferral(
    rules: TaxRules, *, credit_code: str, tax: str, period: str, months: int, reason: str
) -> DeferralRequest:
    """Each field checked in the order the form asks, with its own Chinese message."""
    return DeferralRequest(
        credit_code=valid_code(credit_code),
        tax=clean_tax(rules, tax).name,
        period=_clean_period(period),
        months=_clean_months(rules, months),
        reason=_clean_reason(reason),
    )


def _decide_by(rules: TaxRules, submitted_on: date) -> date:
    # "20日内" counts calendar days; a last day off moves to the next working day (实施细则第一百零九条).
    return tax_calendar.next_working_day(submitted_on + timedelta(days=rules.deferral_decision_days))


def deferral_dict(
    rules: TaxRules, deferral: TaxDeferral, obligation: TaxObligation, enterprise: Enterprise, filer: Person | None
) -> dict[str, Any]:
    return {
        "deferral_no": deferral.deferral_no,
        "status": deferral.status,
        "status_text": DEFERRAL_STATUS_TEXT.get(deferral.status, deferral.status),
        "credit_code": enterprise.credit_code,
        "company_name": enterprise.name,
        "tax": obligation.tax,
        "period": obligation.period,
        "period_text": period_text(rules, obligation),
        "months": deferral.months,
        "due_date": obligation.due_date.isoformat(),
        "requested_until": deferral.requested_until.isoformat(),
        "reason": deferral.reason,
        "approval_note": rules.deferral_approval_note,
        "decision_days": rules.deferral_decision_days,
        "decide_by": _decide_by(rules, deferral.submitted_on).isoformat(),
        "submitted_on": deferral.submitted_on.isoformat(),
        "submitted_at": to_china_iso(deferral.created_at),
        "submitted_by_masked": mask_name(filer.name) if filer else None,
    }


@dataclass(frozen=True)
class _Call:
    """Who asked, under which idempotency key, for which request body (hashed)."""

    principal: Principal
    key: str
    payload_hash: str


def _obligation(session: Session, enterprise: Enterprise, request: DeferralRequest) -> TaxObligation:
    obligation = session.execute(
        select(TaxObligation).where(
            TaxObligation.enterprise_id == enterprise.id,
            TaxObligation.tax == request.tax,
            TaxObligation.period == request.period,
        )
    ).scalar_one_or_none()
    if obligation is None:
        year, month = request.period.split("-")
        raise ApiError(
            404,
            "obligation_not_found",
            f"未查询到{enterprise.name}{month_text(int(year), int(month))}的{request.tax}申报缴纳记录，"
            "请核对税种和所属期后重新提交，或先查询企业的申报情况。",
            {"tax": request.tax, "period": request.period},
        )
    return obligation


def _open_deferral(session: Session, obligation_id: int) -> TaxDeferral | None:
    return session.execute(
        select(TaxDeferral).where(TaxDeferral.obligation_id == obligation_id, TaxDeferral.status == DEFERRAL_PENDING)
    ).scalar_one_or_none()


def _check_deferrable(rules: TaxRules, obligation: TaxObligation, today: date) -> None:
    if obligation.filed_on is not None:
        raise ApiError(
            422,
            "already_filed",
            f"该期{obligation.tax}已于{chinese_date(obligation.filed_on)}申报缴纳，无需申请延期缴纳。",
            {"filed_on": obligation.filed_on.isoformat()},
        )
    if obligation.due_date < today:
        raise ApiError(
            422,
            "deferral_after_deadline",
            f"延期缴纳税款须在缴纳期限届满前申请；该期{obligation.tax}的缴纳期限已于{chinese_date(obligation.due_date)}"
            f"届满，无法再申请延期。请尽快申报缴纳税款和滞纳金，如有困难请拨打{rules.hotline}纳税缴费服务热线咨询。",
            {"due_date": obligation.due_date.isoformat()},
        )


def _existing_response(
    session: Session, rules: TaxRules, call: _Call, deferral: TaxDeferral, enterprise: Enterprise
) -> idempotency.StoredResponse:
    obligation = session.get(TaxObligation, deferral.obligation_id)
    body = deferral_dict(rules, deferral, obligation, enterprise, session.get(Person, deferral.person_id))
    response = idempotency.StoredResponse(200, {**body, "already_open": True})
    idempotency.remember_separately(session, call.principal.scope, call.key, call.payload_hash, response)
    return response


def request_deferral(
    session: Session, rules: TaxRules, principal: Principal, key: str, request: DeferralRequest
) -> idempotency.StoredResponse:
    """Record the request, at most one open per company, tax and period; refusals are raised as ApiError."""
    call = _Call(principal, key, idempotency.request_hash(request.payload()))
    stored = idempotency.replay(session, principal.scope, key, call.payload_hash)
    if stored is not None:
        return stored
    enterprise, _role = _company(session, principal, request.credit_code)
    obligation = _obligation(session, enterprise, request)
    existing = _open_deferral(session, obligation.id)
    if existing is not None:  # asked again (another key, another contact): the request already made
        return _existing_response(session, rules, call, existing, enterprise)
    _check_deferrable(rules, obligation, sandbox_today(session))
    return _insert(session, rules, call, request, obligation, enterprise)


def _next_deferral_no(session: Session, today: date) -> str:
    """YQ + date + a sequence of that day (YQ202612010001); a parallel request may take the same number, which the
    unique constraint catches (the caller then tries again)."""
    prefix = f"YQ{today:%Y%m%d}"
    latest = session.execute(
        select(func.max(TaxDeferral.deferral_no)).where(TaxDeferral.deferral_no.startswith(prefix))
    ).scalar_one()
    sequence = int(latest[len(prefix) :]) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


def _new_deferral(
    session: Session, request: DeferralRequest, obligation: TaxObligation, enterprise: Enterprise, person_id: int
) -> TaxDeferral:
    today = sandbox_today(session)
    return TaxDeferral(
        deferral_no=_next_deferral_no(session, today),
        obligation_id=obligation.id,
        enterprise_id=enterprise.id,
        person_id=person_id,
        months=request.months,
        reason=request.reason,
        requested_until=add_months(obligation.due_date, request.months),
        status=DEFERRAL_PENDING,  # the sandbox never decides; a provincial tax office would
        submitted_on=today,
        created_at=sandbox_utcnow(session),
    )


def _insert(
    session: Session,
    rules: TaxRules,
    call: _Call,
    request: DeferralRequest,
    obligation: TaxObligation,
    enterprise: Enterprise,
) -> idempotency.StoredResponse:
    filer = session.get(Person, call.principal.person_id)
    for _attempt in range(DEFERRAL_NO_ATTEMPTS):
        deferral = _new_deferral(session, request, obligation, enterprise, call.principal.person_id)
        body = deferral_dict(rules, deferral, obligation, enterprise, filer)
        response = idempotency.StoredResponse(201, {**body, "already_open": False})
        session.add(deferral)
        idempotency.remember(session, call.principal.scope, call.key, call.payload_hash, response)
        try:
            session.commit()
        except IntegrityError:
            # A parallel request won: the same key, the same obligation, or only the same number.
            session.rollback()
            won = _after_lost_race(session, rules, call, obligation.id, enterprise)
            if won is not None:
                return won
            continue
        logger.info("tax deferral %s for enterprise #%s", deferral.deferral_no, enterprise.id)
        return response
    raise RuntimeError("no free tax deferral number")  # the generic 500 handler reports it


def _after_lost_race(
    session: Session, rules: TaxRules, call: _Call, obligation_id: int, enterprise: Enterprise
) -> idempotency.StoredResponse | None:
    stored = idempotency.replay(session, call.principal.scope, call.key, call.payload_hash)
    if stored is not None:
        return stored
    existing = _open_deferral(session, obligation_id)
    if existing is None:
        return None  # only the number collided: try the next one
    return _existing_response(session, rules, call, existing, enterprise)


def list_deferrals(
    session: Session, rules: TaxRules, principal: Principal, raw_code: str | None = None
) -> list[dict[str, Any]]:
    """Requests of every company the person may act for (whoever made them), or of one such company; newest first."""
    query = (
        select(TaxDeferral, TaxObligation, Enterprise, Person)
        .join(TaxObligation, TaxObligation.id == TaxDeferral.obligation_id)
        .join(Enterprise, Enterprise.id == TaxDeferral.enterprise_id)
        .join(Person, Person.id == TaxDeferral.person_id)
        .where(
            TaxDeferral.enterprise_id.in_(
                select(CompanyContact.enterprise_id).where(CompanyContact.person_id == principal.person_id)
            )
        )
        .order_by(TaxDeferral.created_at.desc(), TaxDeferral.id.desc())
    )
    if raw_code is not None:
        enterprise, _role = _company(session, principal, raw_code)
        query = query.where(TaxDeferral.enterprise_id == enterprise.id)
    rows = session.execute(query).all()
    return [deferral_dict(rules, deferral, obligation, company, filer) for deferral, obligation, company, filer in rows]
