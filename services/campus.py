"""Campus recruitment (24365): job fairs, positions and one-per-phone fair registrations."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import idempotency
from services.auth import Principal
from services.clock import china_today, to_china_iso, utcnow
from services.errors import ApiError
from services.masking import mask_name
from services.models import FairRegistration, JobFair, Position

logger = logging.getLogger("services.campus")

DEGREES = ("专科", "本科", "硕士", "博士")
DEGREE_RANK = {degree: rank for rank, degree in enumerate(DEGREES)}
ANY_MAJOR = "不限"


@dataclass(frozen=True)
class FairFilters:
    city: str | None = None
    online: bool | None = None
    industry: str | None = None
    major: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    include_past: bool = False


@dataclass(frozen=True)
class RegistrationForm:
    name: str
    school: str
    major: str
    degree: str
    graduation_year: int


def clean_city(city: str | None) -> str | None:
    city = (city or "").strip()
    return city.removesuffix("市") or None


def _fuzzy_in(term: str, values: list[str]) -> bool:
    """计算机 matches 计算机科学与技术 and vice versa."""
    return any(term in value or value in term for value in values)


def fair_status(fair: JobFair, today: date) -> str:
    if fair.end_date < today:
        return "past"
    if fair.registered >= fair.capacity:
        return "full"
    return "open"


def fair_dict(fair: JobFair, today: date) -> dict[str, Any]:
    return {
        "fair_id": fair.fair_id,
        "title": fair.title,
        "city": fair.city,
        "online": fair.online,
        "industries": fair.industries,
        "majors": fair.majors,
        "start_date": fair.start_date.isoformat(),
        "end_date": fair.end_date.isoformat(),
        "venue": fair.venue,
        "organizer": fair.organizer,
        "capacity": fair.capacity,
        "registered": fair.registered,
        "status": fair_status(fair, today),
        "sample_data": True,
    }


def _matches(fair: JobFair, filters: FairFilters, today: date) -> bool:
    checks = [
        filters.include_past or fair.end_date >= today,
        filters.city is None or fair.city == filters.city,
        filters.online is None or fair.online == filters.online,
        filters.industry is None or _fuzzy_in(filters.industry, fair.industries),
        filters.major is None or ANY_MAJOR in fair.majors or _fuzzy_in(filters.major, fair.majors),
        filters.date_from is None or fair.end_date >= filters.date_from,
        filters.date_to is None or fair.start_date <= filters.date_to,
    ]
    return all(checks)


def page_of(items: list[dict[str, Any]], page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    return {
        "items": items[start : start + page_size],
        "total": len(items),
        "page": page,
        "page_size": page_size,
    }


def search_fairs(session: Session, filters: FairFilters, page: int, page_size: int) -> dict[str, Any]:
    # The catalogue is small; filtering JSON lists in Python keeps SQLite and PostgreSQL identical.
    today = china_today()
    fairs = session.execute(select(JobFair).order_by(JobFair.start_date, JobFair.fair_id)).scalars()
    items = [fair_dict(fair, today) for fair in fairs if _matches(fair, filters, today)]
    return page_of(items, page, page_size)


def get_fair(session: Session, fair_id: str) -> JobFair:
    fair = session.get(JobFair, fair_id.strip().upper())
    if fair is None:
        raise ApiError(
            404, "unknown_fair", f"未找到编号为“{fair_id}”的招聘会，请核对编号或重新查询招聘会列表。"
        )
    return fair


def position_dict(position: Position) -> dict[str, Any]:
    return {
        "position_id": position.position_id,
        "title": position.title,
        "company": position.company,
        "city": position.city,
        "industry": position.industry,
        "degree": position.degree,
        "majors": position.majors,
        "salary": position.salary,
        "headcount": position.headcount,
        "fair_id": position.fair_id,
        "sample_data": True,
    }


def search_positions(
    session: Session,
    city: str | None,
    major: str | None,
    degree: str | None,
    page: int,
    page_size: int,
    industry: str | None = None,
) -> dict[str, Any]:
    def matches(position: Position) -> bool:
        return (
            (city is None or position.city == city)
            and (industry is None or _fuzzy_in(industry, [position.industry]))
            and (major is None or ANY_MAJOR in position.majors or _fuzzy_in(major, position.majors))
            # A graduate qualifies for positions whose minimum degree is at most their own.
            and (degree is None or DEGREE_RANK[position.degree] <= DEGREE_RANK[degree])
        )

    positions = session.execute(select(Position).order_by(Position.position_id)).scalars()
    return page_of([position_dict(p) for p in positions if matches(p)], page, page_size)


def registration_dict(registration: FairRegistration, fair: JobFair) -> dict[str, Any]:
    return {
        "registration_no": registration.registration_no,
        "fair_id": fair.fair_id,
        "title": fair.title,
        "city": fair.city,
        "online": fair.online,
        "venue": fair.venue,
        "start_date": fair.start_date.isoformat(),
        "end_date": fair.end_date.isoformat(),
        "status": "registered",
        "status_text": "已报名",
        "name_masked": mask_name(registration.name),
        "school": registration.school,
        "major": registration.major,
        "degree": registration.degree,
        "graduation_year": registration.graduation_year,
        "registered_at": to_china_iso(registration.created_at),
    }


def _find_registration(session: Session, fair_id: str, phone: str) -> FairRegistration | None:
    return session.execute(
        select(FairRegistration).where(FairRegistration.fair_id == fair_id, FairRegistration.phone == phone)
    ).scalar_one_or_none()


def _refuse_if_closed(fair: JobFair, today: date) -> None:
    status = fair_status(fair, today)
    if status == "past":
        raise ApiError(
            409,
            "fair_past",
            f"“{fair.title}”已于 {fair.end_date.isoformat()} 结束，无法报名。您可以查询近期其他招聘会。",
            {"fair_id": fair.fair_id, "end_date": fair.end_date.isoformat()},
        )
    if status == "full":
        raise _full(fair)


def _full(fair: JobFair) -> ApiError:
    return ApiError(
        409,
        "fair_full",
        f"很抱歉，“{fair.title}”报名人数已满（{fair.capacity}人）。您可以选择其他场次或线上招聘会。",
        {"fair_id": fair.fair_id, "capacity": fair.capacity},
    )


def register(
    session: Session, principal: Principal, fair_id: str, form: RegistrationForm, key: str
) -> idempotency.StoredResponse:
    """Register the verified phone for a fair; a repeat returns the existing registration."""
    scope = f"{principal.scope}:campus"
    payload_hash = idempotency.request_hash({"fair_id": fair_id.strip().upper(), **form.__dict__})
    stored = idempotency.replay(session, scope, key, payload_hash)
    if stored is not None:
        return stored
    fair = get_fair(session, fair_id)
    existing = _find_registration(session, fair.fair_id, principal.phone)
    if existing is not None:
        return _existing(session, scope, key, payload_hash, existing, fair)
    _refuse_if_closed(fair, china_today())
    # Take a seat atomically, so parallel registrations can never overfill a fair.
    taken = session.execute(
        update(JobFair)
        .where(JobFair.fair_id == fair.fair_id, JobFair.registered < JobFair.capacity)
        .values(registered=JobFair.registered + 1)
    )
    if taken.rowcount != 1:
        session.rollback()
        raise _full(fair)
    registration = FairRegistration(
        registration_no=f"BM{china_today():%Y%m%d}{secrets.randbelow(10**6):06d}",
        fair_id=fair.fair_id,
        phone=principal.phone,
        person_id=principal.person_id,
        chat_user=principal.chat_user,
        created_at=utcnow(),
        **form.__dict__,
    )
    session.add(registration)
    response = idempotency.StoredResponse(201, registration_dict(registration, fair))
    idempotency.remember(session, scope, key, payload_hash, response)
    try:
        session.commit()
    except IntegrityError:  # a parallel request for the same phone and fair won; the seat is given back
        session.rollback()
        return _after_lost_race(session, principal, scope, key, payload_hash, fair)
    logger.info("registration %s for fair %s", registration.registration_no, fair.fair_id)
    return response


def _existing(
    session: Session, scope: str, key: str, payload_hash: str, existing: FairRegistration, fair: JobFair
) -> idempotency.StoredResponse:
    response = idempotency.StoredResponse(200, registration_dict(existing, fair))
    idempotency.remember_separately(session, scope, key, payload_hash, response)
    return response


def _after_lost_race(
    session: Session, principal: Principal, scope: str, key: str, payload_hash: str, fair: JobFair
) -> idempotency.StoredResponse:
    stored = idempotency.replay(session, scope, key, payload_hash)
    if stored is not None:
        return stored
    existing = _find_registration(session, fair.fair_id, principal.phone)
    if existing is None:
        raise RuntimeError("registration insert conflicted without an existing registration")
    return _existing(session, scope, key, payload_hash, existing, session.get(JobFair, fair.fair_id))


def list_registrations(session: Session, phone: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(FairRegistration, JobFair)
        .join(JobFair, JobFair.fair_id == FairRegistration.fair_id)
        .where(FairRegistration.phone == phone)
        .order_by(FairRegistration.created_at.desc(), FairRegistration.id.desc())
    ).all()
    return [registration_dict(registration, fair) for registration, fair in rows]
