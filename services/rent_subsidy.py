"""Rent subsidy: eligibility from the government's own records, and exactly-once application and payout."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import idempotency, notifications
from services.auth import Principal
from services.clock import china_today, to_china_iso, utcnow
from services.errors import ApiError
from services.masking import mask_account
from services.models import (
    Employment,
    Enterprise,
    Person,
    Property,
    RentSubsidyApplication,
    SocialInsurance,
)
from services.notifications_topics import rent_subsidy_topic
from services.rent_subsidy_policy import RentSubsidyPolicy

logger = logging.getLogger("services.rent_subsidy")

STATUS_TEXT = {"paid": "已发放", "pending": "审核中"}


@dataclass
class Eligibility:
    eligible: bool
    degree: str | None
    monthly_amount: int
    months: int
    period: str
    payout_account_masked: str | None
    reasons: list[dict[str, str]] = field(default_factory=list)
    existing: RentSubsidyApplication | None = None

    @property
    def total_amount(self) -> int:
        return self.monthly_amount * self.months

    def as_dict(self) -> dict[str, Any]:
        return {
            "eligible": self.eligible,
            "reasons": self.reasons,
            "degree": self.degree,
            "monthly_amount": self.monthly_amount,
            "months": self.months,
            "total_amount": self.total_amount,
            "payout_account_masked": self.payout_account_masked,
            "period": self.period,
            "already_applied": self.existing is not None,
            "application_no": self.existing.application_no if self.existing else None,
        }


def _current(column_end: Any, today: date) -> Any:
    return or_(column_end.is_(None), column_end >= today)


def _failing_rules(session: Session, policy: RentSubsidyPolicy, person: Person, today: date) -> list[str]:
    """Every rule the person fails, in the order the policy lists them."""
    codes: list[str] = []
    employers = (
        session.execute(
            select(Enterprise.registered_city)
            .join(Employment, Employment.enterprise_id == Enterprise.id)
            .where(Employment.person_id == person.id, _current(Employment.end_date, today))
        )
        .scalars()
        .all()
    )
    if not employers:
        codes.append("no_employment")
    elif policy.city not in employers:
        codes.append("employer_not_local")
    insured = session.execute(
        select(SocialInsurance.id).where(
            SocialInsurance.person_id == person.id,
            SocialInsurance.city == policy.city,
            _current(SocialInsurance.end_date, today),
        )
    ).first()
    if insured is None:
        codes.append("no_social_insurance")
    housing = session.execute(
        select(Property.id).where(Property.person_id == person.id, Property.city == policy.city)
    ).first()
    if housing is not None:
        codes.append("owns_housing")
    if person.degree not in policy.amounts:
        codes.append("degree_not_covered")
    return codes


def existing_application(session: Session, person_id: int, period: str) -> RentSubsidyApplication | None:
    return session.execute(
        select(RentSubsidyApplication).where(
            RentSubsidyApplication.person_id == person_id, RentSubsidyApplication.period == period
        )
    ).scalar_one_or_none()


def evaluate(session: Session, policy: RentSubsidyPolicy, person: Person) -> Eligibility:
    period = policy.period
    codes = _failing_rules(session, policy, person, china_today())
    existing = existing_application(session, person.id, period)
    if existing is not None:
        codes.append("already_paid")
    return Eligibility(
        eligible=not codes,
        degree=person.degree,
        monthly_amount=policy.amounts.get(person.degree or "", 0),
        months=policy.months,
        period=period,
        payout_account_masked=mask_account(person.bank_account) if person.bank_account else None,
        reasons=[policy.reason(code) for code in codes],
        existing=existing,
    )


def application_dict(application: RentSubsidyApplication) -> dict[str, Any]:
    return {
        "application_no": application.application_no,
        "status": application.status,
        "status_text": STATUS_TEXT.get(application.status, application.status),
        "amount": application.amount,
        "monthly_amount": application.monthly_amount,
        "months": application.months,
        "degree": application.degree,
        "period": application.period,
        "applied_at": to_china_iso(application.created_at),
        "paid_at": to_china_iso(application.paid_at),
        "payout_account_masked": mask_account(application.payout_account),
    }


def _new_application(person: Person, eligibility: Eligibility) -> RentSubsidyApplication:
    now = utcnow()
    # The sandbox pays out immediately ("秒办"); a real back end would queue the payment here.
    return RentSubsidyApplication(
        application_no=f"ZF{eligibility.period}{secrets.randbelow(10**8):08d}",
        person_id=person.id,
        period=eligibility.period,
        degree=person.degree,
        monthly_amount=eligibility.monthly_amount,
        months=eligibility.months,
        amount=eligibility.total_amount,
        status="paid",
        payout_account=person.bank_account or "",
        created_at=now,
        paid_at=now,
    )


def apply(
    session: Session, policy: RentSubsidyPolicy, principal: Principal, key: str, commitment: bool
) -> idempotency.StoredResponse:
    """Record the application and pay out, at most once per person and period."""
    payload_hash = idempotency.request_hash({"commitment": commitment})
    stored = idempotency.replay(session, principal.scope, key, payload_hash)
    if stored is not None:
        return stored
    if not commitment:
        raise ApiError(
            422,
            "commitment_required",
            f"请您先确认承诺：“{policy.commitment_text}”，确认后即可提交申请。",
        )
    person = session.get(Person, principal.person_id)
    eligibility = evaluate(session, policy, person)
    if eligibility.existing is not None:
        return _existing_response(session, principal, key, payload_hash, eligibility.existing)
    if not eligibility.eligible:
        raise ApiError(
            422,
            "not_eligible",
            "很抱歉，经核验您暂不符合租房补贴申领条件，具体原因见下。",
            {"reasons": eligibility.reasons},
        )
    application = _new_application(person, eligibility)
    response = idempotency.StoredResponse(201, application_dict(application))
    session.add(application)
    idempotency.remember(session, principal.scope, key, payload_hash, response)
    try:
        session.commit()
    except IntegrityError:
        # A parallel request for the same person and period (or with the same key) won: return its result.
        session.rollback()
        return _after_lost_race(session, principal, key, payload_hash, eligibility.period)
    logger.info("rent subsidy %s paid for person %s", application.application_no, principal.person_id)
    return response


def _existing_response(
    session: Session, principal: Principal, key: str, payload_hash: str, existing: RentSubsidyApplication
) -> idempotency.StoredResponse:
    response = idempotency.StoredResponse(200, application_dict(existing))
    idempotency.remember_separately(session, principal.scope, key, payload_hash, response)
    return response


def _after_lost_race(
    session: Session, principal: Principal, key: str, payload_hash: str, period: str
) -> idempotency.StoredResponse:
    stored = idempotency.replay(session, principal.scope, key, payload_hash)
    if stored is not None:
        return stored
    existing = existing_application(session, principal.person_id, period)
    if existing is None:  # the conflict was something else; let the generic 500 handler report it
        raise RuntimeError("rent subsidy insert conflicted without an existing application")
    return _existing_response(session, principal, key, payload_hash, existing)


def list_applications(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(RentSubsidyApplication)
        .where(RentSubsidyApplication.person_id == person_id)
        .order_by(RentSubsidyApplication.created_at.desc())
    ).scalars()
    return [application_dict(row) for row in rows]


def confirm_payout(session: Session, application_no: str) -> dict[str, Any]:
    """Development: the bank confirms that an application's subsidy reached the citizen's account. Whoever watches
    the application is told (services/notifications.py), in the same transaction."""
    application = session.execute(
        select(RentSubsidyApplication).where(RentSubsidyApplication.application_no == application_no.strip().upper())
    ).scalar_one_or_none()
    if application is None:
        raise ApiError(404, "application_not_found", "未找到该租房补贴申请，请核对申请编号后重试。")
    application.status, application.paid_at = "paid", application.paid_at or utcnow()
    detail = f"{application.amount}元已发放至您的账户{mask_account(application.payout_account)}"
    notifications.record(session, rent_subsidy_topic(application.application_no), "paid", detail)
    session.commit()
    logger.info("rent subsidy %s: payout confirmed", application.application_no)
    return application_dict(application)
