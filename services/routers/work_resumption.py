"""Enterprise work-resumption filing (企业复工申报) endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, conint, constr
from sqlalchemy.orm import Session

from services import idempotency, work_resumption
from services.auth import LEVEL_IDENTITY, Principal, require_level
from services.deps import get_session, get_work_resumption_rules
from services.sandbox_clock import sandbox_today
from services.work_resumption_rules import WorkResumptionRules

router = APIRouter(prefix="/api/v1/work-resumption", tags=["work-resumption"])
identity_required = require_level(LEVEL_IDENTITY)

# Strict: a JSON 2.5 or "3" is a mistake to report, not a number to round. Upper bounds only stop absurd input.
Headcount = conint(strict=True, ge=0, le=1_000_000)


class FilingBody(BaseModel):
    # Checked by the service (format, then GB 32100 check character) for its own error code and message.
    credit_code: constr(max_length=40)
    planned_date: date
    returning_staff: conint(strict=True, ge=1, le=1_000_000)
    key_area_staff: Headcount
    supplies_days: conint(strict=True, ge=0, le=3650)
    isolation_rooms: conint(strict=True, ge=0, le=100_000)
    # Missing counts as "not confirmed", so the citizen hears about the commitment, not about a missing field.
    commitment: bool = False

    def to_request(self) -> work_resumption.FilingRequest:
        return work_resumption.FilingRequest(**self.dict())


@router.get("/rules", summary="复工申报规则（含最早可申报的复工日期）")
def rules(
    session: Session = Depends(get_session),
    rules: WorkResumptionRules = Depends(get_work_resumption_rules),
) -> dict[str, Any]:
    return rules.as_public_dict(sandbox_today(session))


@router.get("/companies/{credit_code}", summary="核验企业及办理人身份（法定代表人或登记联系人）")
def company(
    credit_code: str = Path(..., max_length=40),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: WorkResumptionRules = Depends(get_work_resumption_rules),
) -> dict[str, Any]:
    return work_resumption.check_company(session, rules, principal, credit_code)


@router.post("/filings", status_code=201, summary="提交复工申报（备案制 + 承诺制）")
def file(
    body: FilingBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: WorkResumptionRules = Depends(get_work_resumption_rules),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    result = work_resumption.file(session, rules, principal, key, body.to_request())
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/filings", summary="查询可代为办理的企业的复工申报进度")
def filings(
    credit_code: str | None = Query(None, max_length=40),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    return {"items": work_resumption.list_filings(session, principal, credit_code)}
