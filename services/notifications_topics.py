"""What a (service, reference) of the assistant watches in the sandbox: its topic and its state now.

A topic is an application, a filing, a hearing, a case's mediation agreement or a person's health code. Each
resolver finds the citizen's own record by the reference the assistant knows, or answers the one 404 that does not
tell an unknown reference from someone else's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.case_numbers import normalise_case_number
from services.auth import Principal
from services.errors import ApiError
from services.models import (
    CompanyContact,
    CourtCase,
    CourtHearing,
    CourtHearingInvitee,
    CourtMediationAgreement,
    CourtParty,
    FairRegistration,
    HealthCode,
    RentSubsidyApplication,
    TaxDeferral,
    VehicleTransferApplication,
    WorkResumptionFiling,
)
from services.sandbox_clock import sandbox_today
from services.vehicle_transfer import stages as vehicle_stages
from services.vehicle_transfer_rules import VehicleTransferRules

# A vehicle transfer's stages worth a message, in order; the state is the latest of them that is done.
VEHICLE_STAGES = ("archive_sent", "destination_checked", "completed")


@dataclass(frozen=True)
class Watched:
    topic: str
    state: str  # the state now: only a later change is announced


def rent_subsidy_topic(application_no: str) -> str:
    return f"rent_subsidy:{application_no}"


def vehicle_transfer_topic(application_no: str) -> str:
    return f"vehicle_transfer:{application_no}"


def work_resumption_topic(filing_no: str) -> str:
    return f"work_resumption:{filing_no}"


def hearing_topic(hearing_no: str) -> str:
    return f"court_hearing:{hearing_no}"


def mediation_topic(case_number: str) -> str:
    return f"mediation:{case_number}"


def health_code_topic(person_id: int) -> str:
    return f"health_code:{person_id}"


def not_found() -> ApiError:
    # One answer for an unknown reference and someone else's: it must not tell which references exist.
    return ApiError(
        404,
        "subscription_target_not_found",
        "未找到您本人可以订阅进度提醒的该办理事项，请核对办理编号后重试。",
    )


def _person(principal: Principal) -> int:
    if principal.person_id is None:  # a phone-level token: personal records need the full identity
        raise not_found()
    return principal.person_id


def _rent_subsidy(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    application = session.execute(
        select(RentSubsidyApplication).where(
            RentSubsidyApplication.application_no == reference, RentSubsidyApplication.person_id == _person(principal)
        )
    ).scalar_one_or_none()
    if application is None:
        raise not_found()
    return Watched(rent_subsidy_topic(application.application_no), application.status)


def vehicle_state(rules: VehicleTransferRules, application: VehicleTransferApplication, today: date) -> str:
    """The latest stage worth a message that is done ("submitted" before any)."""
    done = {stage["code"] for stage in vehicle_stages(rules, application, today) if stage["status"] == "done"}
    return next((code for code in reversed(VEHICLE_STAGES) if code in done), "submitted")


def _vehicle_transfer(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    application = session.execute(
        select(VehicleTransferApplication).where(
            VehicleTransferApplication.application_no == reference.upper(),
            VehicleTransferApplication.person_id == _person(principal),
        )
    ).scalar_one_or_none()
    if application is None:
        raise not_found()
    state = vehicle_state(rules, application, sandbox_today(session))
    return Watched(vehicle_transfer_topic(application.application_no), state)


def _work_resumption(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    # Any legal representative or contact of the company may follow its filing, whoever filed it (as the status).
    filing = session.execute(
        select(WorkResumptionFiling).where(
            WorkResumptionFiling.filing_no == reference.upper(),
            WorkResumptionFiling.enterprise_id.in_(
                select(CompanyContact.enterprise_id).where(CompanyContact.person_id == _person(principal))
            ),
        )
    ).scalar_one_or_none()
    if filing is None:
        raise not_found()
    return Watched(work_resumption_topic(filing.filing_no), filing.status)


def _hearing(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    person_id = _person(principal)
    cases = select(CourtParty.case_id).where(CourtParty.person_id == person_id)
    invited = select(CourtHearingInvitee.hearing_id).where(CourtHearingInvitee.person_id == person_id)
    hearing = session.execute(
        select(CourtHearing).where(
            CourtHearing.hearing_no == reference.upper(),
            (CourtHearing.case_id.in_(cases)) | (CourtHearing.id.in_(invited)),
        )
    ).scalar_one_or_none()
    if hearing is None:
        raise not_found()
    return Watched(hearing_topic(hearing.hearing_no), hearing_state(hearing))


def hearing_state(hearing: CourtHearing) -> str:
    return f"at:{hearing.scheduled_at:%Y%m%d%H%M}"


def _mediation(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    case_number = normalise_case_number(reference) or reference
    case = session.execute(
        select(CourtCase)
        .join(CourtParty, CourtParty.case_id == CourtCase.id)
        .where(CourtCase.case_number == case_number, CourtParty.person_id == _person(principal))
    ).scalar_one_or_none()
    if case is None:
        raise not_found()
    latest = session.execute(
        select(CourtMediationAgreement.version)
        .where(CourtMediationAgreement.case_id == case.id)
        .order_by(CourtMediationAgreement.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    return Watched(mediation_topic(case.case_number), f"v{latest or 0}")


def _health_code(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    # One code per person: whatever the assistant calls the transaction (the colour issued, a check-in's date, an
    # appeal's number), what the citizen waits for is the code's colour.
    code = session.execute(
        select(HealthCode).where(HealthCode.person_id == _person(principal))
    ).scalar_one_or_none()
    if code is None:
        raise not_found()
    return Watched(health_code_topic(code.person_id), code.colour)


def _job_fair_registration(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    registration = session.execute(
        select(FairRegistration).where(
            FairRegistration.registration_no == reference.upper(), FairRegistration.phone == principal.phone
        )
    ).scalar_one_or_none()
    if registration is None:
        raise not_found()
    return Watched(f"job_fair_registration:{registration.registration_no}", "registered")


def _tax_deferral(
    session: Session, principal: Principal, reference: str, rules: VehicleTransferRules
) -> Watched:
    deferral = session.execute(
        select(TaxDeferral).where(
            TaxDeferral.deferral_no == reference.upper(), TaxDeferral.person_id == _person(principal)
        )
    ).scalar_one_or_none()
    if deferral is None:
        raise not_found()
    return Watched(f"tax_deferral:{deferral.deferral_no}", deferral.status)


Resolver = Callable[[Session, Principal, str, VehicleTransferRules], Watched]
# The assistant's service names (bot/names.py SERVICE_LABELS) whose references can be watched.
RESOLVERS: dict[str, Resolver] = {
    "rent_subsidy": _rent_subsidy,
    "rent_subsidy_status": _rent_subsidy,
    "vehicle_transfer": _vehicle_transfer,
    "vehicle_transfer_status": _vehicle_transfer,
    "work_resumption": _work_resumption,
    "work_resumption_status": _work_resumption,
    "court_hearing": _hearing,
    "mediation": _mediation,
    "health_code": _health_code,
    "health_code_query": _health_code,
    "health_code_check_in": _health_code,
    "health_code_appeal": _health_code,
    "job_fair_registration": _job_fair_registration,
    "tax_deferral": _tax_deferral,
}
