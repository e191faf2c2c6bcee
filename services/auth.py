"""Access tokens from identity verification: bound to one person (or phone) and one chat user."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Depends, Header
from sqlalchemy.orm import Session

from services.clock import utcnow
from services.deps import get_session
from services.errors import ApiError
from services.models import AccessToken

LEVEL_PHONE = "phone"
LEVEL_IDENTITY = "identity"
_LEVEL_RANK = {LEVEL_PHONE: 1, LEVEL_IDENTITY: 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the verified person (None for phone-level tokens), their phone and chat user."""

    person_id: int | None
    name: str
    phone: str
    chat_user: str
    level: str

    @property
    def scope(self) -> str:
        """Namespace for idempotency keys, so two citizens' keys can never collide."""
        return f"person:{self.person_id}" if self.person_id is not None else f"phone:{self.phone}"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: Session, *, person_id: int | None, name: str, phone: str, chat_user: str, level: str, ttl: int
) -> str:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AccessToken(
            token_hash=hash_token(token),
            person_id=person_id,
            name=name,
            phone=phone,
            chat_user=chat_user,
            level=level,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
    )
    return token


def _unauthorized(message: str, reason: str) -> ApiError:
    return ApiError(401, "unauthorized", message, {"reason": reason})


def _principal(session: Session, authorization: str | None, chat_user: str | None) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise _unauthorized("办理此事项需要先完成身份核验，请先进行实名验证。", "missing_token")
    record = session.get(AccessToken, hash_token(authorization[7:].strip()))
    if record is None:
        raise _unauthorized("您的身份核验凭证无效，请重新进行身份核验。", "invalid_token")
    if record.expires_at <= utcnow():
        raise _unauthorized("您的身份核验已过期（有效期30分钟），请重新进行身份核验。", "token_expired")
    # A token is never shared across chat users: the caller must present the chat user it was issued to.
    if not chat_user or chat_user != record.chat_user:
        raise _unauthorized(
            "身份核验凭证与当前会话不符，请在本会话中重新进行身份核验。", "chat_user_mismatch"
        )
    return Principal(record.person_id, record.name, record.phone, record.chat_user, record.level)


def require_level(level: str):  # type: ignore[no-untyped-def]
    """Dependency factory: the caller's token must have at least the given level."""

    def dependency(
        authorization: str | None = Header(None),
        x_chat_user: str | None = Header(None),
        session: Session = Depends(get_session),
    ) -> Principal:
        principal = _principal(session, authorization, x_chat_user)
        if _LEVEL_RANK[principal.level] < _LEVEL_RANK[level]:
            raise ApiError(
                403,
                "insufficient_level",
                "办理此事项需要完成实名身份核验（姓名、身份证号码和手机号码），请先完成实名核验。",
                {"required_level": level},
            )
        return principal

    return dependency
