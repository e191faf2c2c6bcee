"""Identity verification: match the population registry, send a one-time code, exchange it for a token."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.auth import LEVEL_IDENTITY, LEVEL_PHONE, issue_token
from services.clock import to_china_iso, utcnow
from services.errors import ApiError
from services.masking import mask_name, mask_phone
from services.models import Person, SmsOutbox, SmsVerification
from services.settings import Settings

logger = logging.getLogger("services.identity")

SMS_TEMPLATE = "【政务服务】您的验证码为 {code}，{minutes}分钟内有效。如非本人操作，请忽略。"


@dataclass(frozen=True)
class CodeRequest:
    name: str
    phone: str
    chat_user: str
    id_number: str | None = None


def _code_hash(verification_id: str, code: str) -> str:
    return hashlib.sha256(f"{verification_id}:{code}".encode()).hexdigest()


def _match_person(session: Session, request: CodeRequest) -> Person:
    person = session.execute(select(Person).where(Person.id_number == request.id_number)).scalar_one_or_none()
    # One answer for every mismatch, so the endpoint cannot be used to probe whose ID number is whose.
    if person is None or person.name != request.name or person.phone != request.phone:
        raise ApiError(
            404,
            "identity_mismatch",
            "您提供的姓名、身份证号码和手机号码未能匹配，请核对后重新输入；"
            "如手机号码已变更，请先到运营商或政务服务中心更新登记信息。",
        )
    return person


def _check_rate_limit(session: Session, settings: Settings, column: Any, value: str, limit: int) -> None:
    window_start = utcnow() - timedelta(seconds=settings.sms_limit_window_seconds)
    count, oldest = session.execute(
        select(func.count(), func.min(SmsVerification.created_at)).where(
            column == value, SmsVerification.created_at > window_start
        )
    ).one()
    if count >= limit:
        retry_after = int((oldest - window_start).total_seconds()) + 1
        raise ApiError(
            429,
            "sms_rate_limited",
            f"验证码获取过于频繁，请在约{-(-retry_after // 60)}分钟后再试。",
            {"retry_after": retry_after},
        )


def request_code(session: Session, settings: Settings, request: CodeRequest) -> dict[str, Any]:
    """Create a verification and put the 6-digit code into the SMS outbox."""
    person = _match_person(session, request) if request.id_number else None
    _check_rate_limit(session, settings, SmsVerification.phone, request.phone, settings.sms_limit_per_phone)
    _check_rate_limit(
        session, settings, SmsVerification.chat_user, request.chat_user, settings.sms_limit_per_chat_user
    )
    verification_id = secrets.token_hex(16)
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = utcnow()
    session.add(
        SmsVerification(
            id=verification_id,
            phone=request.phone,
            chat_user=request.chat_user,
            name=request.name,
            person_id=person.id if person else None,
            level=LEVEL_IDENTITY if person else LEVEL_PHONE,
            code_hash=_code_hash(verification_id, code),
            attempts=0,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.sms_code_ttl_seconds),
        )
    )
    minutes = max(1, settings.sms_code_ttl_seconds // 60)
    session.add(
        SmsOutbox(phone=request.phone, text=SMS_TEMPLATE.format(code=code, minutes=minutes), sent_at=now)
    )
    session.commit()
    logger.info("sms code sent to %s (verification %s)", mask_phone(request.phone), verification_id[:8])
    return {
        "verification_id": verification_id,
        "phone_masked": mask_phone(request.phone),
        "expires_in": settings.sms_code_ttl_seconds,
        "level": LEVEL_IDENTITY if person else LEVEL_PHONE,
    }


def _load_verification(session: Session, verification_id: str) -> SmsVerification:
    record = session.get(SmsVerification, verification_id)
    if record is None:
        raise ApiError(404, "unknown_verification", "未找到该验证请求，请重新获取验证码。")
    return record


def _count_failed_attempt(session: Session, settings: Settings, record: SmsVerification) -> ApiError:
    # Increment in SQL so that parallel guesses cannot share one attempt.
    session.execute(
        update(SmsVerification)
        .where(SmsVerification.id == record.id)
        .values(attempts=SmsVerification.attempts + 1)
    )
    session.commit()
    session.refresh(record)
    attempts_left = max(0, settings.sms_max_attempts - record.attempts)
    if attempts_left == 0:
        return _too_many_attempts()
    return ApiError(
        400,
        "wrong_code",
        f"验证码不正确，您还可以尝试{attempts_left}次。",
        {"attempts_left": attempts_left},
    )


def _too_many_attempts() -> ApiError:
    return ApiError(429, "too_many_attempts", "验证码错误次数过多，该验证码已失效，请重新获取验证码。")


def verify_code(session: Session, settings: Settings, verification_id: str, code: str) -> dict[str, Any]:
    """Check the code; on success consume it and issue a token bound to the person and chat user."""
    record = _load_verification(session, verification_id)
    if record.attempts >= settings.sms_max_attempts:
        raise _too_many_attempts()
    if record.consumed_at is not None or record.expires_at <= utcnow():
        raise ApiError(410, "code_expired", "验证码已过期或已使用，请重新获取验证码。")
    if not hmac.compare_digest(record.code_hash, _code_hash(record.id, code)):
        raise _count_failed_attempt(session, settings, record)
    consumed = session.execute(
        update(SmsVerification)
        .where(SmsVerification.id == record.id, SmsVerification.consumed_at.is_(None))
        .values(consumed_at=utcnow())
    )
    if consumed.rowcount != 1:  # a parallel request used the same code first
        session.rollback()
        raise ApiError(410, "code_expired", "验证码已过期或已使用，请重新获取验证码。")
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
