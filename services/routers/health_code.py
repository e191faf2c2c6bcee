"""Health code (健康码) endpoints: apply, query, daily check-in, appeals. Personal: identity verification required."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictFloat, StrictInt, conlist, constr
from sqlalchemy.orm import Session

from services import health_code, idempotency
from services.auth import LEVEL_IDENTITY, Principal, require_level
from services.deps import get_health_code_policy, get_session
from services.health_code_policy import HealthCodePolicy

router = APIRouter(prefix="/api/v1/health-code", tags=["health-code"])
identity_required = require_level(LEVEL_IDENTITY)


# Bounded before anything is parsed further: the service explains values inside these bounds in its own words
# (a temperature outside 34–43 ℃, a reason longer than 500 characters).
Symptoms = conlist(constr(max_length=10), max_items=10)


class DeclarationBody(BaseModel):
    # Every answer is required: a missing answer must not silently count as "no".
    symptoms: Symptoms  # type: ignore[valid-type]  # fever / cough / fatigue (or 发热 / 咳嗽 / 乏力); [] for none
    temperature: StrictFloat | StrictInt
    key_area_travel: bool
    area: constr(max_length=50) | None = None  # type: ignore[valid-type]
    contact_with_case: bool


class CheckInBody(BaseModel):
    temperature: StrictFloat | StrictInt
    symptoms: Symptoms  # type: ignore[valid-type]


class AppealBody(BaseModel):
    reason: constr(max_length=2000)  # type: ignore[valid-type]


def _json(result: idempotency.StoredResponse) -> JSONResponse:
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/rules", summary="健康码规则说明（体温标准、转绿天数、重点地区、无智能手机怎么办）")
def rules(policy: HealthCodePolicy = Depends(get_health_code_policy)) -> dict[str, Any]:
    return policy.as_public_dict()


@router.post("/applications", status_code=201, summary="健康申报并申领健康码（已有健康码的返回现有健康码）")
def apply(
    body: DeclarationBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: HealthCodePolicy = Depends(get_health_code_policy),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    declaration = health_code.clean_declaration(policy, **body.dict())
    return _json(health_code.apply(session, policy, principal, key, declaration))


@router.get("/code", summary="查询本人健康码（颜色、原因、连续打卡天数、最早转绿日期）")
def code(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: HealthCodePolicy = Depends(get_health_code_policy),
) -> dict[str, Any]:
    return health_code.current_code(session, policy, principal.person_id)


@router.post("/check-ins", status_code=201, summary="每日健康打卡（每个自然日一次，北京时间）")
def check_in(
    body: CheckInBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: HealthCodePolicy = Depends(get_health_code_policy),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    return _json(health_code.check_in(session, policy, principal, key, body.temperature, body.symptoms))


@router.post("/appeals", status_code=201, summary="对健康码颜色申请复核（纠错）")
def appeal(
    body: AppealBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: HealthCodePolicy = Depends(get_health_code_policy),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    return _json(health_code.appeal(session, policy, principal, key, body.reason))


@router.get("/appeals", summary="查询本人的复核申请")
def appeals(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: HealthCodePolicy = Depends(get_health_code_policy),
) -> dict[str, Any]:
    return {"items": health_code.list_appeals(session, policy, principal.person_id)}
