"""Rent subsidy (租房补贴) endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from services import idempotency, rent_subsidy
from services.auth import LEVEL_IDENTITY, Principal, require_level
from services.deps import get_policy, get_session
from services.models import Person
from services.rent_subsidy_policy import RentSubsidyPolicy

router = APIRouter(prefix="/api/v1/rent-subsidy", tags=["rent-subsidy"])
identity_required = require_level(LEVEL_IDENTITY)


class ApplicationBody(BaseModel):
    # Missing counts as "not confirmed", so the citizen hears about the commitment, not about a missing field.
    commitment: bool = False


@router.get("/policy", summary="租房补贴政策说明")
def policy(policy: RentSubsidyPolicy = Depends(get_policy)) -> dict[str, Any]:
    return policy.as_public_dict()


@router.get("/eligibility", summary="资格核验（根据部门共享数据，无需上传材料）")
def eligibility(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: RentSubsidyPolicy = Depends(get_policy),
) -> dict[str, Any]:
    person = session.get(Person, principal.person_id)
    return rent_subsidy.evaluate(session, policy, person).as_dict()


@router.post("/applications", status_code=201, summary="提交申请（承诺制）并发放")
def apply(
    body: ApplicationBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    policy: RentSubsidyPolicy = Depends(get_policy),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    result = rent_subsidy.apply(session, policy, principal, key, body.commitment)
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/applications", summary="查询本人申请及发放记录")
def applications(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    return {"items": rent_subsidy.list_applications(session, principal.person_id)}
