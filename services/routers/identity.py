"""Identity verification endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, constr, validator
from sqlalchemy.orm import Session

from bot.settings import SandboxSettings
from services import identity
from services.deps import get_session, get_settings
from services.validation import clean_id_number, clean_name, clean_phone

router = APIRouter(prefix="/api/v1/identity", tags=["identity"])


class SmsCodeBody(BaseModel):
    name: str
    id_number: str | None = None
    phone: str
    chat_user: constr(strip_whitespace=True, min_length=1, max_length=200)  # type: ignore[valid-type]

    _name = validator("name", allow_reuse=True)(clean_name)
    _phone = validator("phone", allow_reuse=True)(clean_phone)

    @validator("id_number")
    def _id_number(cls, value: str | None) -> str | None:  # noqa: N805 - pydantic validator
        return clean_id_number(value) if value else None


class VerificationBody(BaseModel):
    verification_id: constr(strip_whitespace=True, min_length=1, max_length=64)  # type: ignore[valid-type]
    code: constr(strip_whitespace=True, regex=r"^\d{6}$")  # type: ignore[valid-type]


@router.post("/sms-codes", status_code=201, summary="发送短信验证码")
def send_sms_code(
    body: SmsCodeBody,
    session: Session = Depends(get_session),
    settings: SandboxSettings = Depends(get_settings),
) -> dict[str, Any]:
    request = identity.CodeRequest(
        name=body.name, phone=body.phone, chat_user=body.chat_user, id_number=body.id_number
    )
    return identity.request_code(session, settings, request)


@router.post("/verifications", summary="校验短信验证码，换取身份核验凭证")
def verify(
    body: VerificationBody,
    session: Session = Depends(get_session),
    settings: SandboxSettings = Depends(get_settings),
) -> dict[str, Any]:
    return identity.verify_code(session, settings, body.verification_id, body.code)
