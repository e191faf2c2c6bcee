"""Health code (健康码): the colour from a health declaration and the sandbox's lists, daily check-ins that turn a
code green after enough consecutive normal days, and appeals against a colour.

Every "today" comes from the sandbox clock (services/sandbox_clock.py), so the day-counting rules can be tested end
to end. Logs carry no names, ID numbers, temperatures or colours: health data is personal data.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import idempotency, notifications
from services.auth import Principal
from services.clock import to_china_iso
from services.errors import ApiError
from services.health_code_policy import HealthCodePolicy
from services.masking import mask_name
from services.models import (
    HealthCheckIn,
    HealthCode,
    HealthCodeAppeal,
    HealthDeclaration,
    HealthRiskPerson,
    Person,
)
from services.notifications_topics import health_code_topic
from services.sandbox_clock import sandbox_today, sandbox_utcnow

logger = logging.getLogger("services.health_code")

GREEN, YELLOW, RED = "green", "yellow", "red"
GREEN_DETAIL = "健康码已转为绿码"  # what watchers are told (services/notifications.py)
RISK_CATEGORIES = ("confirmed", "suspected", "close_contact")  # most serious first
NO_SYMPTOMS = frozenset({"none", "无", "没有"})
APPEAL_OPEN = "under_review"
APPEAL_STATUS_TEXT = {APPEAL_OPEN: "审核中", "closed": "已办结"}
MAX_AREA_CHARS = 50
APPEAL_REASON_CHARS = (2, 500)


@dataclass(frozen=True)
class Declaration:
    """A cleaned health declaration: symptoms as codes, temperature to one decimal."""

    symptoms: list[str]
    temperature: float
    key_area_travel: bool
    area: str | None
    contact_with_case: bool


# --- validation: specific Chinese messages ------------------------------------------------------------------


def clean_temperature(policy: HealthCodePolicy, value: float) -> float:
    # Written so that NaN fails too (every comparison with NaN is false).
    if not policy.temperature_min <= value <= policy.temperature_max:
        raise ApiError(
            422,
            "invalid_temperature",
            f"体温数值不在合理范围（{policy.temperature_min:g}–{policy.temperature_max:g}℃）内，"
            "请您重新测量后填写，例如 36.5。",
            {"field": "temperature", "min": policy.temperature_min, "max": policy.temperature_max},
        )
    return round(value, 1)


def clean_symptoms(policy: HealthCodePolicy, values: list[str]) -> list[str]:
    """Codes or Chinese names → sorted codes; "无" alone means none."""
    given = [value.strip() for value in values if value.strip()]
    named = [value for value in given if value.lower() not in NO_SYMPTOMS]
    codes = [policy.symptom_code(value) for value in named]
    if None in codes or (named and len(named) != len(given)):
        names = "、".join(policy.symptoms.values())
        raise ApiError(
            422,
            "invalid_symptoms",
            f"症状请从{names}中选择；如果没有这些症状，请选择“无”。",
            {"field": "symptoms", "allowed": list(policy.symptoms)},
        )
    return sorted(set(codes), key=list(policy.symptoms).index)  # type: ignore[arg-type]


def clean_area(area: str | None) -> str | None:
    area = "".join((area or "").split())
    if len(area) > MAX_AREA_CHARS:
        raise ApiError(
            422,
            "invalid_area",
            "地区名称过长，请填写到市或区即可，例如“武汉市”。",
            {"field": "area"},
        )
    return area or None


def clean_declaration(
    policy: HealthCodePolicy,
    *,
    symptoms: list[str],
    temperature: float,
    key_area_travel: bool,
    area: str | None,
    contact_with_case: bool,
) -> Declaration:
    return Declaration(
        symptoms=clean_symptoms(policy, symptoms),
        temperature=clean_temperature(policy, temperature),
        key_area_travel=key_area_travel,
        area=clean_area(area),
        contact_with_case=contact_with_case,
    )


def clean_appeal_reason(reason: str) -> str:
    reason = reason.strip()
    low, high = APPEAL_REASON_CHARS
    if not low <= len(reason) <= high:
        raise ApiError(
            422,
            "invalid_reason",
            f"请用{low}至{high}个字说明您认为健康码颜色有误的理由，例如“近14天未离开杭州，申报时误选了到过重点地区”。",
            {"field": "reason", "min_length": low, "max_length": high},
        )
    return reason


# --- the colour rules -------------------------------------------------------------------------------------------


def _risk_category(session: Session, person_id: int) -> str | None:
    listed = set(
        session.execute(select(HealthRiskPerson.category).where(HealthRiskPerson.person_id == person_id)).scalars()
    )
    return next((category for category in RISK_CATEGORIES if category in listed), None)


def decide(
    session: Session, policy: HealthCodePolicy, person_id: int, declaration: Declaration
) -> tuple[str, str, str | None]:
    """(colour, reason code, key area shown in the reason) for a new code; the most serious rule wins."""
    category = _risk_category(session, person_id)
    if category is not None:
        return RED, category, None
    listed_area = policy.key_area(declaration.area)
    travelled = declaration.key_area_travel or listed_area is not None
    area = (listed_area or declaration.area) if travelled else None
    fever = declaration.temperature >= policy.abnormal_temperature or "fever" in declaration.symptoms
    if declaration.contact_with_case:
        return RED, "contact_with_case", None
    if fever and travelled:
        return RED, "fever_with_key_area", area
    if travelled:
        return YELLOW, "key_area_travel", area
    if fever:
        return YELLOW, "fever", None
    if declaration.symptoms:
        return YELLOW, "symptoms", None
    return GREEN, "declared_healthy", None


def effective_streak(code: HealthCode, today: date) -> int:
    """The stored streak, or 0 once a day has been missed (the rule says consecutive)."""
    if code.last_check_in_date is not None and code.last_check_in_date < today - timedelta(days=1):
        return 0
    return code.streak


def earliest_green_date(code: HealthCode, today: date) -> date | None:
    """The first day the code can be green, given a normal check-in every day from today (or tomorrow)."""
    if code.colour == GREEN:
        return None
    remaining = max(code.required_days - effective_streak(code, today), 0)
    if code.last_check_in_date == today:  # today's check-in is done: the next one is tomorrow
        return today + timedelta(days=remaining)
    return today + timedelta(days=max(remaining - 1, 0))


def _streak_text(code: HealthCode, streak: int) -> str:
    if code.colour != GREEN:
        return f"已连续打卡 {streak}/{code.required_days} 天"
    return f"已连续正常打卡 {streak} 天" if streak else ""


def code_view(policy: HealthCodePolicy, code: HealthCode, person: Person, today: date) -> dict[str, Any]:
    """What the citizen sees: colour, reason in plain words, what to do, progress towards green."""
    streak = effective_streak(code, today)
    reason = policy.reason(code.reason_code, code.area, code.required_days)
    green_on = earliest_green_date(code, today)
    return {
        "name_masked": mask_name(person.name),
        "colour": code.colour,
        "colour_text": policy.colour_texts[code.colour],
        "reason_code": code.reason_code,
        "reason": reason["message"],
        "what_to_do": reason["what_to_do"],
        "how_to_turn_green": policy.turn_green_text(code.colour, code.required_days),
        "streak": streak,
        "required_days": code.required_days,
        "streak_text": _streak_text(code, streak),
        "checked_in_today": code.last_check_in_date == today,
        "last_check_in_date": code.last_check_in_date.isoformat() if code.last_check_in_date else None,
        "earliest_green_date": green_on.isoformat() if green_on else None,
        "today": today.isoformat(),
        "issued_at": to_china_iso(code.issued_at),
        "updated_at": to_china_iso(code.updated_at),
        "no_smartphone": policy.no_smartphone,
    }


def _code_of(session: Session, person_id: int) -> HealthCode | None:
    return session.execute(select(HealthCode).where(HealthCode.person_id == person_id)).scalar_one_or_none()


def _require_code(session: Session, person_id: int) -> HealthCode:
    code = _code_of(session, person_id)
    if code is None:
        raise ApiError(
            404,
            "no_health_code",
            "您还没有申领健康码。请先完成健康申报，申领后即可查询健康码和每日打卡。",
        )
    return code


def current_code(session: Session, policy: HealthCodePolicy, person_id: int) -> dict[str, Any]:
    code = _require_code(session, person_id)
    return code_view(policy, code, session.get(Person, person_id), sandbox_today(session))


# --- idempotent writes -----------------------------------------------------------------------------------------


def _answer_with(
    session: Session,
    principal: Principal,
    key: str,
    payload_hash: str,
    fallback: Callable[[], idempotency.StoredResponse | None],
) -> idempotency.StoredResponse:
    """The stored response for this key (a parallel request may have won a race), or what `fallback` builds now
    from the record that already exists (stored under this key, so a retry gets the same answer)."""
    stored = idempotency.replay(session, principal.scope, key, payload_hash)
    if stored is not None:
        return stored
    response = fallback()
    if response is None:  # the conflict was something else; let the generic 500 handler report it
        raise RuntimeError("health code insert conflicted without an existing record")
    idempotency.remember_separately(session, principal.scope, key, payload_hash, response)
    return response


def _commit_new(
    session: Session,
    principal: Principal,
    key: str,
    payload_hash: str,
    response: idempotency.StoredResponse,
    fallback: Callable[[], idempotency.StoredResponse | None],
) -> idempotency.StoredResponse:
    idempotency.remember(session, principal.scope, key, payload_hash, response)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return _answer_with(session, principal, key, payload_hash, fallback)
    return response


def apply(
    session: Session, policy: HealthCodePolicy, principal: Principal, key: str, declaration: Declaration
) -> idempotency.StoredResponse:
    """Issue a code from the declaration; someone who has one gets it back (200), never a second one."""
    payload_hash = idempotency.request_hash({"op": "health_code_apply", **asdict(declaration)})
    stored = idempotency.replay(session, principal.scope, key, payload_hash)
    if stored is not None:
        return stored
    person = session.get(Person, principal.person_id)
    today = sandbox_today(session)

    def existing() -> idempotency.StoredResponse | None:
        code = _code_of(session, person.id)
        if code is None:
            return None
        return idempotency.StoredResponse(200, {**code_view(policy, code, person, today), "already_applied": True})

    if _code_of(session, person.id) is not None:
        return _answer_with(session, principal, key, payload_hash, existing)
    code = _new_code(session, policy, person, declaration)
    response = idempotency.StoredResponse(201, {**code_view(policy, code, person, today), "already_applied": False})
    result = _commit_new(session, principal, key, payload_hash, response, existing)
    if result is response:
        logger.info("health code issued for person %s", person.id)
    return result


def _new_code(session: Session, policy: HealthCodePolicy, person: Person, declaration: Declaration) -> HealthCode:
    colour, reason_code, area = decide(session, policy, person.id, declaration)
    now = sandbox_utcnow(session)
    session.add(
        HealthDeclaration(
            person_id=person.id,
            **asdict(declaration),
            colour=colour,
            reason_code=reason_code,
            created_at=now,
        )
    )
    code = HealthCode(
        person_id=person.id,
        colour=colour,
        reason_code=reason_code,
        area=area,
        streak=0,
        required_days=policy.required_days(colour),
        last_check_in_date=None,
        issued_at=now,
        updated_at=now,
    )
    session.add(code)
    return code


# --- daily check-in ---------------------------------------------------------------------------------------------


def _check_in_on(session: Session, person_id: int, day: date) -> HealthCheckIn | None:
    return session.execute(
        select(HealthCheckIn).where(HealthCheckIn.person_id == person_id, HealthCheckIn.check_in_date == day)
    ).scalar_one_or_none()


def _set_colour(code: HealthCode, colour: str, reason_code: str, required_days: int) -> None:
    code.colour, code.reason_code, code.required_days = colour, reason_code, required_days
    code.area = None  # the declared area explained the old colour only


def _count(policy: HealthCodePolicy, code: HealthCode, today: date, normal: bool) -> bool:
    """Apply one day's check-in to the code; True if the streak was broken by a missed day."""
    streak = effective_streak(code, today)
    missed = streak != code.streak
    if normal:
        streak += 1
        if code.colour != GREEN and streak >= code.required_days:
            _set_colour(code, GREEN, "turned_green", 0)
    else:
        streak = 0
        if code.colour == GREEN:  # an abnormal day makes a green code yellow; yellow and red stay
            _set_colour(code, YELLOW, "abnormal_check_in", policy.required_days(YELLOW))
    code.streak = streak
    code.last_check_in_date = today
    return missed


def _check_in_body(
    policy: HealthCodePolicy,
    record: HealthCheckIn,
    view: dict[str, Any],
    *,
    already: bool,
    previous_colour: str,
    missed: bool = False,
) -> dict[str, Any]:
    texts = policy.check_in_texts
    advice = texts["normal"] if record.normal else texts["abnormal"]
    if missed:
        advice = f"{texts['streak_reset']}{advice}"
    if already:
        advice = f"{texts['already']}{advice}"
    return {
        **view,
        "check_in_date": record.check_in_date.isoformat(),
        "already_checked_in": already,
        "normal": record.normal,
        "result_text": "正常" if record.normal else "异常",
        "temperature": record.temperature,
        "symptoms": list(record.symptoms),
        "advice": advice,
        "streak_reset": missed,
        "previous_colour": previous_colour,
        "colour_changed": view["colour"] != previous_colour,
    }


def check_in(
    session: Session,
    policy: HealthCodePolicy,
    principal: Principal,
    key: str,
    temperature: float,
    symptoms: list[str],
) -> idempotency.StoredResponse:
    """Record today's check-in (China calendar day, sandbox clock); a second one today returns the first."""
    temperature = clean_temperature(policy, temperature)
    symptoms = clean_symptoms(policy, symptoms)
    payload_hash = idempotency.request_hash({"op": "health_check_in", "t": temperature, "s": symptoms})
    stored = idempotency.replay(session, principal.scope, key, payload_hash)
    if stored is not None:
        return stored
    code = _require_code(session, principal.person_id)
    person = session.get(Person, principal.person_id)
    today = sandbox_today(session)

    def earlier() -> idempotency.StoredResponse | None:
        record = _check_in_on(session, person.id, today)
        if record is None:
            return None
        current = _require_code(session, person.id)
        view = code_view(policy, current, person, today)
        return idempotency.StoredResponse(
            200, _check_in_body(policy, record, view, already=True, previous_colour=current.colour)
        )

    if _check_in_on(session, person.id, today) is not None:
        return _answer_with(session, principal, key, payload_hash, earlier)
    previous_colour = code.colour
    normal = not policy.is_abnormal(temperature, symptoms)
    missed = _count(policy, code, today, normal)
    if code.colour == GREEN and previous_colour != GREEN:  # watchers are told in this check-in's transaction
        notifications.record(session, health_code_topic(code.person_id), "green", GREEN_DETAIL)
    now = sandbox_utcnow(session)
    code.updated_at = now
    record = HealthCheckIn(
        person_id=person.id,
        check_in_date=today,
        temperature=temperature,
        symptoms=symptoms,
        normal=normal,
        streak_after=code.streak,
        colour_after=code.colour,
        created_at=now,
    )
    session.add(record)
    view = code_view(policy, code, person, today)
    body = _check_in_body(policy, record, view, already=False, previous_colour=previous_colour, missed=missed)
    return _commit_new(session, principal, key, payload_hash, idempotency.StoredResponse(201, body), earlier)


# --- appeals (纠错/复核) ----------------------------------------------------------------------------------------


def appeal_dict(policy: HealthCodePolicy, appeal: HealthCodeAppeal) -> dict[str, Any]:
    return {
        "appeal_no": appeal.appeal_no,
        "status": appeal.status,
        "status_text": APPEAL_STATUS_TEXT.get(appeal.status, appeal.status),
        "colour": appeal.colour,
        "colour_text": policy.colour_texts.get(appeal.colour, appeal.colour),
        "reason": appeal.reason,
        "submitted_at": to_china_iso(appeal.created_at),
        "message": policy.appeal_received,
        "expected_reply": policy.appeal_reply_text,
    }


def _open_appeal(session: Session, person_id: int) -> HealthCodeAppeal | None:
    return session.execute(
        select(HealthCodeAppeal).where(
            HealthCodeAppeal.person_id == person_id, HealthCodeAppeal.status == APPEAL_OPEN
        )
    ).scalar_one_or_none()


def appeal(
    session: Session, policy: HealthCodePolicy, principal: Principal, key: str, reason: str
) -> idempotency.StoredResponse:
    """File an appeal against the current colour; one open appeal per person (a second returns it)."""
    reason = clean_appeal_reason(reason)
    payload_hash = idempotency.request_hash({"op": "health_code_appeal", "reason": reason})
    stored = idempotency.replay(session, principal.scope, key, payload_hash)
    if stored is not None:
        return stored
    code = _require_code(session, principal.person_id)

    def open_one() -> idempotency.StoredResponse | None:
        existing = _open_appeal(session, principal.person_id)
        if existing is None:
            return None
        return idempotency.StoredResponse(200, {**appeal_dict(policy, existing), "already_open": True})

    if _open_appeal(session, principal.person_id) is not None:
        return _answer_with(session, principal, key, payload_hash, open_one)
    now = sandbox_utcnow(session)
    record = HealthCodeAppeal(
        appeal_no=f"FH{sandbox_today(session):%Y%m%d}{secrets.randbelow(10**6):06d}",
        person_id=principal.person_id,
        colour=code.colour,
        reason=reason,
        status=APPEAL_OPEN,
        created_at=now,
    )
    session.add(record)
    response = idempotency.StoredResponse(201, {**appeal_dict(policy, record), "already_open": False})
    result = _commit_new(session, principal, key, payload_hash, response, open_one)
    if result is response:
        logger.info("health code appeal %s filed by person %s", record.appeal_no, principal.person_id)
    return result


def list_appeals(session: Session, policy: HealthCodePolicy, person_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(HealthCodeAppeal)
        .where(HealthCodeAppeal.person_id == person_id)
        .order_by(HealthCodeAppeal.created_at.desc(), HealthCodeAppeal.id.desc())
    ).scalars()
    return [appeal_dict(policy, row) for row in rows]


def turn_green(session: Session, policy: HealthCodePolicy, id_number: str) -> dict[str, Any]:
    """Development: the code of the person with this ID number turns green now (as after the last check-in of a
    streak). Whoever watches it is told (services/notifications.py), in the same transaction."""
    person = session.execute(select(Person).where(Person.id_number == id_number.strip().upper())).scalar_one_or_none()
    if person is None:
        raise ApiError(404, "person_not_found", "未找到该身份证号码对应的人员。")
    code = _require_code(session, person.id)
    if code.colour == GREEN:
        raise ApiError(409, "already_green", "该健康码已经是绿码。")
    _set_colour(code, GREEN, "turned_green", 0)
    code.updated_at = sandbox_utcnow(session)
    notifications.record(session, health_code_topic(person.id), "green", GREEN_DETAIL)
    session.commit()
    logger.info("health code of person %s turned green", person.id)
    return code_view(policy, code, person, sandbox_today(session))
