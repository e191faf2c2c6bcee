"""Idempotency keys: a retried request with the same key gets the first response instead of acting twice."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.clock import utcnow
from services.errors import ApiError
from services.models import IdempotencyRecord

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]


def require_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            400,
            "idempotency_key_required",
            "请求缺少有效的 Idempotency-Key（1–200个字符），为避免重复办理，请携带后重试。",
        )
    return key


def request_hash(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def replay(session: Session, scope: str, key: str, payload_hash: str) -> StoredResponse | None:
    """The stored response for this key, None if new; 409 if the key was used with a different request."""
    record = session.get(IdempotencyRecord, (scope, key))
    if record is None:
        return None
    if record.request_hash != payload_hash:
        raise ApiError(
            409,
            "idempotency_conflict",
            "该请求编号已用于另一笔不同内容的办理，请勿重复使用，重新发起即可。",
        )
    return StoredResponse(record.status_code, record.response_body)


def remember(session: Session, scope: str, key: str, payload_hash: str, response: StoredResponse) -> None:
    """Add the record to the current transaction (committed together with the change it describes)."""
    session.add(
        IdempotencyRecord(
            scope=scope,
            key=key,
            request_hash=payload_hash,
            status_code=response.status_code,
            response_body=response.body,
            created_at=utcnow(),
        )
    )


def remember_separately(
    session: Session, scope: str, key: str, payload_hash: str, response: StoredResponse
) -> None:
    """Store in its own transaction; losing a race to a parallel request with the same key is fine."""
    try:
        remember(session, scope, key, payload_hash, response)
        session.commit()
    except IntegrityError:
        session.rollback()
