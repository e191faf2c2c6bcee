"""Entry/exit information (出入境信息一键通) endpoints. Public information: no identity needed."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from services import immigration
from services.deps import get_session

router = APIRouter(prefix="/api/v1/immigration", tags=["immigration"])


@router.get("/countries", summary="国家/地区列表（前缀或别名检索）")
def countries(
    q: str | None = Query(None, max_length=50), session: Session = Depends(get_session)
) -> dict[str, Any]:
    return {"items": immigration.search_countries(session, q), "sample_data": True}


@router.get("/countries/{name}", summary="某国家/地区对中国旅客的入境管控措施")
def country(name: str, session: Session = Depends(get_session)) -> dict[str, Any]:
    return immigration.country_dict(immigration.find_country(session, name))


@router.get("/ports", summary="口岸列表，可按客运状态、城市、类型筛选")
def ports(
    passenger_status: Literal["open", "limited", "suspended"] | None = None,
    city: str | None = Query(None, max_length=20),
    kind: Literal["air", "land", "sea"] | None = None,
    session: Session = Depends(get_session),
) -> dict[str, Any]:
    return {"items": immigration.list_ports(session, passenger_status, city, kind), "sample_data": True}


@router.get("/ports/{name}", summary="某口岸的客货运通关状态")
def port(name: str, session: Session = Depends(get_session)) -> dict[str, Any]:
    return immigration.port_dict(immigration.find_port(session, name))
