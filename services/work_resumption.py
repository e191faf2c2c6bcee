"""Enterprise work-resumption filing (企业复工申报, 备案制 + 承诺制): checks, exactly-once filing, status.

Only the enterprise's legal representative or a registered contact may act for it. Whether a credit code belongs
to no enterprise or to one the caller may not act for gets the same answer, so the endpoints cannot be used to
find out which companies exist or what the registry holds about them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import credit_code, idempotency, notifications
from services.auth import Principal
from services.clock import to_china_iso
from services.errors import ApiError
from services.masking import mask_name
from services.models import CompanyContact, Enterprise, Person, WorkResumptionFiling
from services.notifications_topics import work_resumption_topic
from services.sandbox_clock import sandbox_today, sandbox_utcnow
from services.work_resumption_rules import NegativeListEntry, WorkResumptionRules

logger = logging.getLogger("services.work_resumption")

STATUS_TEXT = {"submitted": "已备案（待审核）", "approved": "审核通过"}
ROLE_TEXT = {"legal_representative": "法定代表人", "contact": "登记联系人"}
ROLE_ORDER = ("legal_representative", "contact")
FILING_NO_ATTEMPTS = 5


@dataclass(frozen=True)
class FilingRequest:
    credit_code: str
    planned_date: date
    returning_staff: int
    key_area_staff: int
    supplies_days: int
    isolation_rooms: int
    commitment: bool

    def payload(self) -> dict[str, Any]:
        return asdict(self) | {"planned_date": self.planned_date.isoformat()}


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- who may act for which company ----------------------------------------------------------------------------


def valid_code(raw: str) -> str:
    """The normalised credit code, or 422 invalid_credit_code saying whether the format or the check is wrong."""
    code = credit_code.normalize(raw)
    problem = credit_code.problem(code)
    if problem == credit_code.FORMAT:
        raise ApiError(
            422,
            "invalid_credit_code",
            "您输入的统一社会信用代码格式不正确：应为18位，由数字和大写英文字母组成（不含I、O、S、V、Z），"
            "请对照营业执照核对后重新输入。",
            {"field": "credit_code", "reason": problem},
        )
    if problem == credit_code.CHECKSUM:
        raise ApiError(
            422,
            "invalid_credit_code",
            "您输入的统一社会信用代码校验位不正确，可能有字符输错，请对照营业执照核对后重新输入。",
            {"field": "credit_code", "reason": problem},
        )
    return code


def not_found_or_not_authorised() -> ApiError:
    # One answer for "no such company" and "not yours": it must not tell whether the company exists.
    return ApiError(
        404,
        "company_not_found_or_not_authorised",
        "未查询到您可以代为办理复工申报的该企业。请核对统一社会信用代码是否输入正确；复工申报须由企业的法定代表人"
        "或登记联系人办理，如需变更登记联系人，请先到企业登记机关办理，或拨打12345热线咨询。",
    )


def _role_rank() -> Any:
    return case(*((CompanyContact.role == role, rank) for rank, role in enumerate(ROLE_ORDER)), else_=len(ROLE_ORDER))


def authorised_company(
    session: Session, person_id: int, code: str, refusal: Callable[[], ApiError] = not_found_or_not_authorised
) -> tuple[Enterprise, str]:
    """The enterprise and the caller's strongest role; one query, the same work whether the code exists or not.

    `refusal` words the one answer for "no such company" and "not yours" for the calling service (e-tax reuses it).
    """
    row = session.execute(
        select(Enterprise, CompanyContact.role)
        .join(CompanyContact, CompanyContact.enterprise_id == Enterprise.id)
        .where(Enterprise.credit_code == code, CompanyContact.person_id == person_id)
        .order_by(_role_rank())
        .limit(1)
    ).first()
    if row is None:
        raise refusal()
    return row[0], row[1]


def _company_size(enterprise: Enterprise, returning_staff: int | None = None) -> int:
    """Registered staff; an enterprise without a registered count is sized by the staff returning."""
    if enterprise.staff_count is not None:
        return enterprise.staff_count
    return returning_staff or 0


def _refusal_dict(entry: NegativeListEntry) -> dict[str, str]:
    return {"code": "industry_not_allowed", "message": entry.reason, "next_step": entry.next_step}


def company_dict(rules: WorkResumptionRules, enterprise: Enterprise, role: str, today: date) -> dict[str, Any]:
    entry = rules.negative_entry(enterprise.industry)
    level = rules.review_level(_company_size(enterprise))
    return {
        "credit_code": enterprise.credit_code,
        "name": enterprise.name,
        "industry": enterprise.industry,
        "staff_count": enterprise.staff_count,
        "role": role,
        "role_text": ROLE_TEXT.get(role, role),
        "may_file": entry is None,
        "refusal": _refusal_dict(entry) if entry else None,
        "review_level": level.as_dict(),
        "earliest_planned_date": rules.earliest_planned_date(today).isoformat(),
    }


def check_company(session: Session, rules: WorkResumptionRules, principal: Principal, raw_code: str) -> dict[str, Any]:
    enterprise, role = authorised_company(session, principal.person_id, valid_code(raw_code))
    return company_dict(rules, enterprise, role, sandbox_today(session))


# --- the rules, in the order the citizen hears about them ---------------------------------------------------------


def _industry_error(enterprise: Enterprise, entry: NegativeListEntry) -> ApiError:
    return ApiError(
        422,
        "industry_not_allowed",
        f"很抱歉，{enterprise.name}所属行业（{enterprise.industry}）在复工负面清单（{entry.name}）内，"
        f"暂不受理复工申报。{entry.reason}{entry.next_step}",
        {
            "industry": enterprise.industry,
            "negative_list": entry.name,
            "reason": entry.reason,
            "next_step": entry.next_step,
        },
    )


def _check_date(rules: WorkResumptionRules, planned: date, today: date) -> None:
    earliest = rules.earliest_planned_date(today)
    if planned < earliest:
        raise ApiError(
            422,
            "planned_date_too_early",
            f"计划复工日期须至少比申报当天晚{rules.min_days_ahead}天，最早可以填写{chinese_date(earliest)}，"
            "请您重新选择复工日期。",
            {"earliest_planned_date": earliest.isoformat(), "min_days_ahead": rules.min_days_ahead},
        )
    latest = today + timedelta(days=rules.max_days_ahead)
    if planned > latest:
        raise ApiError(
            422,
            "planned_date_too_late",
            f"计划复工日期最晚可以填写{rules.max_days_ahead}天之后（{chinese_date(latest)}）。复工时间尚早的，"
            "请您在计划复工日期临近时再申报。",
            {"latest_planned_date": latest.isoformat(), "max_days_ahead": rules.max_days_ahead},
        )


def _check_supplies(rules: WorkResumptionRules, supplies_days: int) -> None:
    if supplies_days < rules.min_supplies_days:
        raise ApiError(
            422,
            "insufficient_supplies",
            f"口罩和消毒用品的储备须至少够全体返岗员工使用{rules.min_supplies_days}天，您填报的是{supplies_days}天。"
            "请补足防疫物资后再申报。",
            {"min_supplies_days": rules.min_supplies_days, "supplies_days": supplies_days},
        )


def _check_rooms(rules: WorkResumptionRules, returning_staff: int, rooms: int) -> None:
    needed = rules.rooms_needed(returning_staff)
    if rooms < needed:
        raise ApiError(
            422,
            "insufficient_isolation_rooms",
            f"按每{rules.staff_per_isolation_room}名返岗员工至少设置1间隔离室的要求，{returning_staff}名返岗员工"
            f"需要至少{needed}间隔离室，您填报的是{rooms}间。请增设隔离室后再申报。",
            {"rooms_needed": needed, "isolation_rooms": rooms, "returning_staff": returning_staff},
        )


def _check_staff_numbers(request: FilingRequest) -> None:
    if request.key_area_staff > request.returning_staff:
        raise ApiError(
            422,
            "invalid_field",
            f"来自重点地区的员工人数（{request.key_area_staff}人）不能多于返岗员工总人数（{request.returning_staff}人），"
            "请核对后重新填写。",
            {"field": "key_area_staff", "fields": ["key_area_staff"]},
        )


def _check_commitment(rules: WorkResumptionRules, commitment: bool) -> None:
    if not commitment:
        raise ApiError(
            422,
            "commitment_required",
            f"请您先阅读并确认承诺书：“{rules.commitment_text}”确认后即可提交复工申报。",
        )


def _check_rules(rules: WorkResumptionRules, request: FilingRequest, today: date) -> None:
    _check_date(rules, request.planned_date, today)
    _check_supplies(rules, request.supplies_days)
    _check_rooms(rules, request.returning_staff, request.isolation_rooms)
    _check_staff_numbers(request)
    _check_commitment(rules, request.commitment)


# --- filing ------------------------------------------------------------------------------------------------------


def filing_dict(filing: WorkResumptionFiling, enterprise: Enterprise, filer: Person | None) -> dict[str, Any]:
    return {
        "filing_no": filing.filing_no,
        "status": filing.status,
        "status_text": STATUS_TEXT.get(filing.status, filing.status),
        "credit_code": enterprise.credit_code,
        "company_name": enterprise.name,
        "planned_date": filing.planned_date.isoformat(),
        "returning_staff": filing.returning_staff,
        "key_area_staff": filing.key_area_staff,
        "supplies_days": filing.supplies_days,
        "isolation_rooms": filing.isolation_rooms,
        "review_level_code": filing.review_level_code,
        "review_level": filing.review_level,
        "review_deadline": filing.review_deadline.isoformat(),
        "filed_on": filing.filed_on.isoformat(),
        "filed_at": to_china_iso(filing.created_at),
        "filed_by_masked": mask_name(filer.name) if filer else None,
    }


def existing_filing(session: Session, enterprise_id: int, planned: date) -> WorkResumptionFiling | None:
    return session.execute(
        select(WorkResumptionFiling).where(
            WorkResumptionFiling.enterprise_id == enterprise_id, WorkResumptionFiling.planned_date == planned
        )
    ).scalar_one_or_none()


def _next_filing_no(session: Session, today: date) -> str:
    """FG + filing date + a sequence of that day (FG202603010001); a parallel filing may take the same number,
    which the unique constraint catches (the caller then tries again)."""
    prefix = f"FG{today:%Y%m%d}"
    latest = session.execute(
        select(func.max(WorkResumptionFiling.filing_no)).where(WorkResumptionFiling.filing_no.startswith(prefix))
    ).scalar_one()
    sequence = int(latest[len(prefix) :]) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


@dataclass(frozen=True)
class _Call:
    """Who asked, under which idempotency key, for which request body (hashed)."""

    principal: Principal
    key: str
    payload_hash: str


def _new_filing(
    session: Session, rules: WorkResumptionRules, request: FilingRequest, enterprise: Enterprise, person_id: int
) -> WorkResumptionFiling:
    today = sandbox_today(session)
    level = rules.review_level(_company_size(enterprise, request.returning_staff))
    return WorkResumptionFiling(
        filing_no=_next_filing_no(session, today),
        enterprise_id=enterprise.id,
        person_id=person_id,
        planned_date=request.planned_date,
        returning_staff=request.returning_staff,
        key_area_staff=request.key_area_staff,
        supplies_days=request.supplies_days,
        isolation_rooms=request.isolation_rooms,
        review_level_code=level.code,
        review_level=level.level,
        review_deadline=rules.add_working_days(today, level.working_days),
        status="submitted",  # the sandbox's review never finishes; a real back end would move it on
        filed_on=today,
        created_at=sandbox_utcnow(session),
    )


def file(
    session: Session, rules: WorkResumptionRules, principal: Principal, key: str, request: FilingRequest
) -> idempotency.StoredResponse:
    """Record the filing, at most once per enterprise and planned date; refusals are raised as ApiError."""
    call = _Call(principal, key, idempotency.request_hash(request.payload()))
    stored = idempotency.replay(session, principal.scope, key, call.payload_hash)
    if stored is not None:
        return stored
    enterprise, _role = authorised_company(session, principal.person_id, valid_code(request.credit_code))
    entry = rules.negative_entry(enterprise.industry)
    if entry is not None:
        raise _industry_error(enterprise, entry)
    existing = existing_filing(session, enterprise.id, request.planned_date)
    if existing is not None:  # asked again (another key, another contact): the filing already made
        return _existing_response(session, call, existing, enterprise)
    _check_rules(rules, request, sandbox_today(session))
    return _insert(session, rules, call, request, enterprise)


def _insert(
    session: Session, rules: WorkResumptionRules, call: _Call, request: FilingRequest, enterprise: Enterprise
) -> idempotency.StoredResponse:
    filer = session.get(Person, call.principal.person_id)
    for _attempt in range(FILING_NO_ATTEMPTS):
        filing = _new_filing(session, rules, request, enterprise, call.principal.person_id)
        response = idempotency.StoredResponse(201, filing_dict(filing, enterprise, filer))
        session.add(filing)
        idempotency.remember(session, call.principal.scope, call.key, call.payload_hash, response)
        try:
            session.commit()
        except IntegrityError:
            # A parallel request won: the same key, the same company and date, or only the same filing number.
            session.rollback()
            won = _after_lost_race(session, call, enterprise, request.planned_date)
            if won is not None:
                return won
            continue
        logger.info("work resumption filing %s for enterprise #%s", filing.filing_no, enterprise.id)
        return response
    raise RuntimeError("no free work resumption filing number")  # the generic 500 handler reports it


def _existing_response(
    session: Session, call: _Call, existing: WorkResumptionFiling, enterprise: Enterprise
) -> idempotency.StoredResponse:
    filer = session.get(Person, existing.person_id)
    response = idempotency.StoredResponse(200, filing_dict(existing, enterprise, filer))
    idempotency.remember_separately(session, call.principal.scope, call.key, call.payload_hash, response)
    return response


def _after_lost_race(
    session: Session, call: _Call, enterprise: Enterprise, planned: date
) -> idempotency.StoredResponse | None:
    stored = idempotency.replay(session, call.principal.scope, call.key, call.payload_hash)
    if stored is not None:
        return stored
    existing = existing_filing(session, enterprise.id, planned)
    if existing is None:
        return None  # only the filing number collided: try the next one
    return _existing_response(session, call, existing, enterprise)


# --- status ------------------------------------------------------------------------------------------------------


def list_filings(session: Session, principal: Principal, raw_code: str | None = None) -> list[dict[str, Any]]:
    """Filings of every company the person may act for (whoever filed them), or of one such company; newest first."""
    query = (
        select(WorkResumptionFiling, Enterprise, Person)
        .join(Enterprise, Enterprise.id == WorkResumptionFiling.enterprise_id)
        .join(Person, Person.id == WorkResumptionFiling.person_id)
        .where(
            WorkResumptionFiling.enterprise_id.in_(
                select(CompanyContact.enterprise_id).where(CompanyContact.person_id == principal.person_id)
            )
        )
        .order_by(WorkResumptionFiling.created_at.desc(), WorkResumptionFiling.id.desc())
    )
    if raw_code is not None:
        enterprise, _role = authorised_company(session, principal.person_id, valid_code(raw_code))
        query = query.where(WorkResumptionFiling.enterprise_id == enterprise.id)
    return [filing_dict(filing, enterprise, filer) for filing, enterprise, filer in session.execute(query).all()]


def approve(session: Session, filing_no: str) -> dict[str, Any]:
    """Development: the reviewing authority approves a filing (the sandbox's own review never finishes). Whoever
    watches it is told (services/notifications.py), in the same transaction."""
    filing = session.execute(
        select(WorkResumptionFiling).where(WorkResumptionFiling.filing_no == filing_no.strip().upper())
    ).scalar_one_or_none()
    if filing is None:
        raise ApiError(404, "filing_not_found", "未找到该复工申报，请核对申报编号后重试。")
    if filing.status == "approved":
        raise ApiError(409, "already_approved", "该复工申报已经审核通过，无需重复操作。")
    filing.status = "approved"
    detail = f"由{filing.review_level}审核通过，可按计划于{chinese_date(filing.planned_date)}复工"
    notifications.record(session, work_resumption_topic(filing.filing_no), "approved", detail)
    session.commit()
    logger.info("work resumption %s approved", filing.filing_no)
    enterprise = session.get(Enterprise, filing.enterprise_id)
    return filing_dict(filing, enterprise, session.get(Person, filing.person_id))
