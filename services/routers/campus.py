"""Campus recruitment (24365 校园招聘) endpoints."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, conint, constr, validator
from sqlalchemy.orm import Session

from services import campus, idempotency
from services.auth import LEVEL_PHONE, Principal, require_level
from services.clock import china_today
from services.deps import get_session
from services.validation import clean_name

router = APIRouter(prefix="/api/v1/campus", tags=["campus"])
phone_required = require_level(LEVEL_PHONE)
Degree = Literal["专科", "本科", "硕士", "博士"]


class RegistrationBody(BaseModel):
    name: str
    school: constr(strip_whitespace=True, min_length=2, max_length=50)  # type: ignore[valid-type]
    major: constr(strip_whitespace=True, min_length=1, max_length=50)  # type: ignore[valid-type]
    degree: Degree
    graduation_year: conint(ge=1990)  # type: ignore[valid-type]

    _name = validator("name", allow_reuse=True)(clean_name)

    @validator("graduation_year")
    def _not_far_future(cls, value: int) -> int:  # noqa: N805 - pydantic validator
        if value > china_today().year + 6:
            raise ValueError("graduation year too far in the future")
        return value


@router.get("/job-fairs", summary="查询招聘会（按城市/线上、行业、专业、日期，分页）")
def job_fairs(
    city: str | None = Query(None, max_length=20),
    online: bool | None = None,
    industry: str | None = Query(None, max_length=20),
    major: str | None = Query(None, max_length=50),
    date_from: date | None = None,
    date_to: date | None = None,
    include_past: bool = False,
    page: int = Query(1, ge=1),
    page_size: int = Query(5, ge=1, le=50),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    filters = campus.FairFilters(
        city=campus.clean_city(city),
        online=online,
        industry=(industry or "").strip() or None,
        major=(major or "").strip() or None,
        date_from=date_from,
        date_to=date_to,
        include_past=include_past,
    )
    return campus.search_fairs(session, filters, page, page_size)


@router.get("/job-fairs/{fair_id}", summary="招聘会详情")
def job_fair(fair_id: str, session: Session = Depends(get_session)) -> dict[str, Any]:
    return campus.fair_dict(campus.get_fair(session, fair_id), china_today())


@router.get("/positions", summary="查询岗位（按城市、行业、专业、学历，分页）")
def positions(
    city: str | None = Query(None, max_length=20),
    industry: str | None = Query(None, max_length=50),
    major: str | None = Query(None, max_length=50),
    degree: Degree | None = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(5, ge=1, le=50),
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    major = (major or "").strip() or None
    industry = (industry or "").strip() or None
    return campus.search_positions(session, campus.clean_city(city), major, degree, page, page_size, industry)


@router.post("/job-fairs/{fair_id}/registrations", status_code=201, summary="报名参加招聘会")
def register(
    fair_id: str,
    body: RegistrationBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(phone_required),
    session: Session = Depends(get_session),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    form = campus.RegistrationForm(**body.dict())
    result = campus.register(session, principal, fair_id, form, key)
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/registrations", summary="我的招聘会报名")
def registrations(
    principal: Principal = Depends(phone_required), session: Session = Depends(get_session)
) -> dict[str, Any]:
    return {"items": campus.list_registrations(session, principal.phone)}
