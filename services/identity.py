"""Identity verification: match the population registry, send a one-time code, exchange it for a token.

The two guessing games this must not allow:
- matching name + ID number + phone is an oracle (with a name, phone, region and birth date, the 3 sequence digits
  of an ID number are found in at most 1,000 tries). Failed checks therefore have a small daily budget per phone,
  per ID number, per person (name + region + birth date) and per chat user, taken BEFORE anything is compared;
  "no such person" and "does not match" get the same answer, and so do over-limit requests either way.
- a 6-digit code has a million values: each attempt is counted atomically before the code is compared, a code dies
  after `sms_max_attempts`, and a phone gets only so many codes a day.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.settings import SandboxSettings
from services import limits
from services.auth import LEVEL_IDENTITY, LEVEL_PHONE, issue_token
from services.clock import to_china_iso, utcnow
from services.errors import ApiError
from services.keyed_hash import keyed_hash
from services.masking import mask_name, mask_phone
from services.models import Person, SmsOutbox, SmsVerification

logger = logging.getLogger("services.identity")

SMS_TEMPLATE = (
    "【政务服务】您的验证码为 {code}，{minutes}分钟内有效。工作人员不会向您索取验证码，请勿告知他人；"
    "如非本人操作，请忽略。"
)
MASKED_CODE = "******"
ID_CHECK = "id_check"
SMS_WINDOW = "sms"
SMS_DAILY = "sms_daily"


@dataclass(frozen=True)
class CodeRequest:
    name: str
    phone: str
    chat_user: str
    id_number: str | None = None


def code_hash(secret: str, verification_id: str, code: str) -> str:
    return keyed_hash(secret, verification_id, code)


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


# --- limits -----------------------------------------------------------------------------------------------


def _id_check_charges(settings: SandboxSettings, request: CodeRequest, id_number: str) -> list[limits.Charge]:
    person = f"{request.name}\x1f{id_number[:14]}"  # name, region and birth date: fixed while guessing
    return [
        limits.Charge(f"{ID_CHECK}:phone", request.phone, settings.id_check_failures_per_phone, limits.DAY),
        limits.Charge(f"{ID_CHECK}:id_number", id_number, settings.id_check_failures_per_id_number, limits.DAY),
        limits.Charge(f"{ID_CHECK}:person", person, settings.id_check_failures_per_person, limits.DAY),
        limits.Charge(
            f"{ID_CHECK}:chat_user", request.chat_user, settings.id_check_failures_per_chat_user, limits.DAY
        ),
    ]


def _sms_charges(settings: SandboxSettings, request: CodeRequest) -> list[limits.Charge]:
    window = settings.sms_limit_window_seconds
    return [
        limits.Charge(f"{SMS_WINDOW}:phone", request.phone, settings.sms_limit_per_phone, window),
        limits.Charge(f"{SMS_WINDOW}:chat_user", request.chat_user, settings.sms_limit_per_chat_user, window),
        limits.Charge(f"{SMS_DAILY}:phone", request.phone, settings.sms_daily_limit_per_phone, limits.DAY),
        limits.Charge(
            f"{SMS_DAILY}:chat_user", request.chat_user, settings.sms_daily_limit_per_chat_user, limits.DAY
        ),
    ]


def _refusal(reached: limits.LimitReached) -> ApiError:
    """One answer per kind of limit; which phone, ID number or chat user ran out is never said."""
    kind = reached.charge.scope.split(":", 1)[0]
    details = {"retry_after": reached.retry_after}
    if kind == ID_CHECK:
        return ApiError(
            429,
            "identity_check_limited",
            "您今天核对身份信息未通过的次数较多，为保护您的个人信息安全，今日已暂停通过姓名、身份证号码和手机号码"
            "进行核验。请您明天再试，或携带身份证到就近的政务服务中心办理，也可拨打12345热线咨询。",
            details,
        )
    if kind == SMS_DAILY:
        return ApiError(
            429,
            "sms_daily_limit",
            "今日获取验证码的次数已达上限，为保障您的信息安全，请您明天再试；如需尽快办理，"
            "可携带身份证到就近的政务服务中心办理，或拨打12345热线咨询。",
            details,
        )
    return ApiError(
        429,
        "sms_rate_limited",
        f"验证码获取过于频繁，请您在约{-(-reached.retry_after // 60)}分钟后再试。",
        details,
    )


def _take(
    session: Session, settings: SandboxSettings, charges: list[limits.Charge], now: datetime
) -> list[limits.Taken]:
    try:
        taken = limits.take(session, settings.secret_key, charges, now)
    except limits.LimitReached as reached:
        logger.warning("identity request refused: %s limit reached", reached.charge.scope)
        raise _refusal(reached) from None
    session.commit()  # counted now, before anything is compared: a crash or a parallel request cannot skip it
    return taken


# --- matching ---------------------------------------------------------------------------------------------


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


def _match_person(session: Session, request: CodeRequest) -> Person | None:
    """The person whose ID number, name and phone all match; None for any mismatch or an unknown ID number.

    Same work either way (one query, one constant-time comparison of equal-length digests), so neither the answer
    nor its timing tells an unknown ID number from a wrong name or phone.
    """
    person = session.execute(select(Person).where(Person.id_number == request.id_number)).scalar_one_or_none()
    registered = _digest(person.name, person.phone) if person is not None else _digest("\x00", "\x00")
    same = hmac.compare_digest(registered, _digest(request.name, request.phone))
    return person if person is not None and same else None


def _mismatch() -> ApiError:
    return ApiError(
        404,
        "identity_mismatch",
        "您提供的姓名、身份证号码和手机号码未能匹配，请核对后重新输入；"
        "如手机号码已变更，请先到运营商或政务服务中心更新登记信息。",
    )


# --- sending a code ---------------------------------------------------------------------------------------


def request_code(session: Session, settings: SandboxSettings, request: CodeRequest) -> dict[str, Any]:
    """Check the limits, match the registry (with an ID number), then create a verification and "send" the code."""
    now = utcnow()
    id_charges = _id_check_charges(settings, request, request.id_number) if request.id_number else []
    taken = _take(session, settings, id_charges + _sms_charges(settings, request), now)
    failure_units, sms_units = taken[: len(id_charges)], taken[len(id_charges) :]
    person = _match_person(session, request) if request.id_number else None
    if request.id_number and person is None:
        limits.give_back(session, sms_units)  # no code was sent; the failure stays counted
        session.commit()
        logger.info("identity check failed for %s", mask_phone(request.phone))
        raise _mismatch()
    limits.give_back(session, failure_units)  # a successful check is not a failure
    return _send_code(session, settings, request, person, now)


def _send_code(
    session: Session, settings: SandboxSettings, request: CodeRequest, person: Person | None, now: datetime
) -> dict[str, Any]:
    verification_id = secrets.token_hex(16)
    code = new_code()
    level = LEVEL_IDENTITY if person else LEVEL_PHONE
    session.add(
        SmsVerification(
            id=verification_id,
            phone=request.phone,
            chat_user=request.chat_user,
            name=request.name,
            person_id=person.id if person else None,
            level=level,
            code_hash=code_hash(settings.secret_key, verification_id, code),
            attempts=0,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.sms_code_ttl_seconds),
        )
    )
    session.add(SmsOutbox(phone=request.phone, text=_sms_text(settings, code), sent_at=now))
    session.commit()
    logger.info("sms code sent to %s (verification %s)", mask_phone(request.phone), verification_id[:8])
    return {
        "verification_id": verification_id,
        "phone_masked": mask_phone(request.phone),
        "expires_in": settings.sms_code_ttl_seconds,
        "level": level,
    }


def _sms_text(settings: SandboxSettings, code: str) -> str:
    """What is kept of the SMS: readable only in development, where /dev/sms-outbox stands in for the phone.

    In production the SMS gateway gets the code (this sandbox has none) and the stored record never holds it.
    """
    minutes = max(1, settings.sms_code_ttl_seconds // 60)
    return SMS_TEMPLATE.format(code=code if settings.is_development else MASKED_CODE, minutes=minutes)


# --- checking a code --------------------------------------------------------------------------------------


def _count_attempt(session: Session, settings: SandboxSettings, verification_id: str, now: datetime) -> bool:
    """Count one attempt before comparing, in one conditional UPDATE: parallel guesses cannot share an attempt."""
    counted = session.execute(
        update(SmsVerification)
        .where(
            SmsVerification.id == verification_id,
            SmsVerification.attempts < settings.sms_max_attempts,
            SmsVerification.consumed_at.is_(None),
            SmsVerification.expires_at > now,
        )
        .values(attempts=SmsVerification.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return counted.rowcount == 1


def _not_counted(session: Session, settings: SandboxSettings, verification_id: str) -> ApiError:
    """Why no attempt could be counted: unknown, used up, or expired/consumed."""
    record = session.get(SmsVerification, verification_id, populate_existing=True)
    if record is None:
        return ApiError(404, "unknown_verification", "未找到该验证请求，请您重新获取验证码。")
    if record.attempts >= settings.sms_max_attempts:
        return _too_many_attempts()
    return _expired()


def _too_many_attempts() -> ApiError:
    return ApiError(429, "too_many_attempts", "验证码错误次数过多，该验证码已失效，请您重新获取验证码。")


def _expired() -> ApiError:
    return ApiError(410, "code_expired", "验证码已过期或已使用，请您重新获取验证码。")


def _wrong_code(settings: SandboxSettings, record: SmsVerification) -> ApiError:
    attempts_left = max(0, settings.sms_max_attempts - record.attempts)
    if attempts_left == 0:
        return _too_many_attempts()
    return ApiError(
        400,
        "wrong_code",
        f"验证码不正确，请您核对短信后重新输入，还可以尝试{attempts_left}次。",
        {"attempts_left": attempts_left},
    )


def verify_code(session: Session, settings: SandboxSettings, verification_id: str, code: str) -> dict[str, Any]:
    """Check the code; on success consume it and issue a token bound to the person and chat user."""
    if not _count_attempt(session, settings, verification_id, utcnow()):
        raise _not_counted(session, settings, verification_id)
    record = session.get(SmsVerification, verification_id, populate_existing=True)
    if not hmac.compare_digest(record.code_hash, code_hash(settings.secret_key, record.id, code)):
        raise _wrong_code(settings, record)
    consumed = session.execute(
        update(SmsVerification)
        .where(SmsVerification.id == record.id, SmsVerification.consumed_at.is_(None))
        .values(consumed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if consumed.rowcount != 1:  # a parallel request used the same code first
        session.rollback()
        raise _expired()
    token = issue_token(
        session,
        person_id=record.person_id,
        name=record.name,
        phone=record.phone,
        chat_user=record.chat_user,
        level=record.level,
        ttl=settings.token_ttl_seconds,
    )
    session.commit()
    logger.info("verification %s succeeded for %s", record.id[:8], mask_phone(record.phone))
    return {
        "token": token,
        "expires_in": settings.token_ttl_seconds,
        "level": record.level,
        "name_masked": mask_name(record.name),
    }


def outbox(session: Session, phone: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """Newest first; development only."""
    query = select(SmsOutbox).order_by(SmsOutbox.sent_at.desc(), SmsOutbox.id.desc()).limit(limit)
    if phone:
        query = query.where(SmsOutbox.phone == phone)
    return [
        {"phone": row.phone, "text": row.text, "sent_at": to_china_iso(row.sent_at)}
        for row in session.execute(query).scalars()
    ]
