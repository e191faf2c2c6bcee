"""Court and procuratorate endpoints (移动微法院: cases, online hearings, mediation; 检察院 video hearings).
Personal ones need identity verification. `dev_router` is mounted with the other /dev routes (development only)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictInt, constr
from sqlalchemy.orm import Session

from bot import case_numbers
from services import court, idempotency
from services.auth import LEVEL_IDENTITY, Principal, require_level
from services.court_rules import CourtRules
from services.deps import get_court_rules, get_session

router = APIRouter(prefix="/api/v1/court", tags=["court"])
dev_router = APIRouter(prefix="/court", tags=["development"])
identity_required = require_level(LEVEL_IDENTITY)

CASE_NUMBER_PATH = Path(..., max_length=court.MAX_PATH_INPUT, description="案号，如 (2020)浙0106民初1234号")
HEARING_ID_PATH = Path(..., max_length=court.MAX_HEARING_ID_INPUT, description="开庭（听证）编号，如 H0001")


class ConsentBody(BaseModel):
    # Optional here so that a missing answer hears the service's own question, not a generic one.
    agree: StrictBool | None = Field(None, description="true：同意在线（视频）参加；false：不同意")


class SignatureBody(BaseModel):
    version: StrictInt | None = Field(None, description="您阅读并同意签署的调解协议版本号")


class MediationVersionBody(BaseModel):
    case_number: constr(max_length=case_numbers.MAX_INPUT)  # type: ignore[valid-type]
    text: constr(min_length=1, max_length=court.MAX_AGREEMENT_TEXT)  # type: ignore[valid-type]


@router.get("/rules", summary="法院诉讼服务常见问题（在线开庭、调解协议效力、诉讼费、检察听证等）和参加须知")
def rules(rules: CourtRules = Depends(get_court_rules)) -> dict[str, Any]:
    return rules.as_public_dict()


@router.get("/cases", summary="查询本人作为当事人的案件（新立案的在前）")
def cases(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> dict[str, Any]:
    return {"items": court.list_cases(session, rules, principal.person_id)}


@router.get("/cases/{case_number}", summary="按案号查询本人案件的法院、案由、阶段和下一步")
def case(
    case_number: str = CASE_NUMBER_PATH,
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> dict[str, Any]:
    return court.get_case(session, rules, principal.person_id, case_number)


@router.get("/hearings", summary="查询本人今天及以后的开庭和检察院听证（时间近的在前）")
def hearings(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> dict[str, Any]:
    return {"items": court.list_hearings(session, rules, principal.person_id)}


@router.post(
    "/hearings/{hearing_id}/consent", status_code=201, summary="同意或不同意以在线（视频）方式参加开庭或听证"
)
def consent(
    body: ConsentBody,
    hearing_id: str = HEARING_ID_PATH,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    result = court.give_consent(session, rules, principal, key, hearing_id, body.agree)
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/mediations", summary="查询本人案件的调解协议（含本人是否已签署）")
def mediations(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> dict[str, Any]:
    return {"items": court.list_mediations(session, rules, principal.person_id)}


@router.get("/cases/{case_number}/mediation", summary="查看本人案件调解协议的全文和各方签署情况")
def mediation(
    case_number: str = CASE_NUMBER_PATH,
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> dict[str, Any]:
    return court.get_mediation(session, rules, principal.person_id, case_number)


@router.post(
    "/cases/{case_number}/mediation/signature", status_code=201, summary="签署调解协议（每一版本每位当事人签署一次）"
)
def sign(
    body: SignatureBody,
    case_number: str = CASE_NUMBER_PATH,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    result = court.sign_mediation(session, rules, principal, key, case_number, body.version)
    return JSONResponse(status_code=result.status_code, content=result.body)


@dev_router.post(
    "/mediation-version", status_code=201, summary="发布调解协议的新版本，此前的签署作废（仅开发环境，用于测试）"
)
def mediation_version(
    body: MediationVersionBody,
    session: Session = Depends(get_session),
    rules: CourtRules = Depends(get_court_rules),
) -> dict[str, Any]:
    return court.publish_version(session, rules, body.case_number, body.text)
