"""E-tax guidance (电子税务) endpoints: deadlines and surcharges for anyone; obligations and deferrals after
identity verification. Guidance and status only: no real return is filed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, StrictInt, constr
from sqlalchemy.orm import Session

from services import idempotency, tax_guidance, tax_records
from services.auth import LEVEL_IDENTITY, Principal, require_level
from services.deps import get_session, get_tax_rules
from services.sandbox_clock import sandbox_today
from services.tax_rules import TaxRules

router = APIRouter(prefix="/api/v1/tax", tags=["tax"])
identity_required = require_level(LEVEL_IDENTITY)


class DeferralBody(BaseModel):
    # Checked by the service (format, then GB 32100 check character) for its own error code and message.
    credit_code: constr(max_length=40)
    tax: constr(max_length=40)
    period: constr(max_length=20)
    # Strict: "3" or 2.5 is a mistake to report. Any size here, so that 4 hears the 3-month rule, not a format error.
    months: StrictInt
    reason: constr(max_length=2000)


@router.get("/deadline", summary="某月的申报纳税期限（按法定节假日顺延）及网上申报指引")
def deadline(
    month: str | None = Query(None, description="YYYY-MM；默认为沙箱当前月份"),
    tax: str | None = Query(None, description="税种，默认增值税"),
    session: Session = Depends(get_session),
    rules: TaxRules = Depends(get_tax_rules),
) -> dict[str, Any]:
    return tax_guidance.deadline_answer(rules, sandbox_today(session), month, tax)


@router.get("/surcharge", summary="滞纳金测算（按日万分之五）")
def surcharge(
    amount: str | None = Query(None, description="欠缴税款（元）"),
    days: str | None = Query(None, description="滞纳天数；或改用 due_date 和 paid_date"),
    due_date: str | None = Query(None, description="缴款期限 YYYY-MM-DD"),
    paid_date: str | None = Query(None, description="实际缴款日期 YYYY-MM-DD；默认今天"),
    session: Session = Depends(get_session),
    rules: TaxRules = Depends(get_tax_rules),
) -> dict[str, Any]:
    return tax_guidance.surcharge_answer(rules, sandbox_today(session), amount, days, due_date, paid_date)


@router.get("/obligations", summary="查询企业（统一社会信用代码）或本人的申报义务和状态")
def obligations(
    credit_code: str | None = Query(None, max_length=40),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: TaxRules = Depends(get_tax_rules),
) -> dict[str, Any]:
    if credit_code is None:
        return tax_records.personal_obligations(session, rules, principal)
    return tax_records.company_obligations(session, rules, principal, credit_code)


@router.post("/deferrals", status_code=201, summary="申请延期缴纳税款（最长3个月，须经省级税务机关批准）")
def request_deferral(
    body: DeferralBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: TaxRules = Depends(get_tax_rules),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    request = tax_records.clean_deferral(rules, **body.dict())
    result = tax_records.request_deferral(session, rules, principal, key, request)
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/deferrals", summary="查询可代为办理的企业的延期缴纳税款申请")
def deferrals(
    credit_code: str | None = Query(None, max_length=40),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: TaxRules = Depends(get_tax_rules),
) -> dict[str, Any]:
    return {"items": tax_records.list_deferrals(session, rules, principal, credit_code)}
