"""Vehicle registration transfer (机动车档案电子化网上转递) endpoints. Personal ones need identity verification."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, constr
from sqlalchemy.orm import Session

from services import idempotency, vehicle_transfer
from services.auth import LEVEL_IDENTITY, Principal, require_level
from services.deps import get_session, get_vehicle_transfer_rules
from services.vehicle_transfer_rules import VehicleTransferRules

router = APIRouter(prefix="/api/v1/vehicle-transfer", tags=["vehicle-transfer"])
identity_required = require_level(LEVEL_IDENTITY)


class ApplicationBody(BaseModel):
    # Checked by the service (format, then ownership) for its own error codes and messages; the bounds only stop
    # absurd input.
    plate: constr(max_length=20)
    vin_tail: constr(max_length=20)
    destination_city: constr(max_length=30)

    def to_request(self) -> vehicle_transfer.TransferRequest:
        return vehicle_transfer.TransferRequest(**self.dict())


@router.get("/rules", summary="机动车档案电子化转递规则（不能转出的情形、办理环节和时限、可转入城市、常见问题）")
def rules(rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules)) -> dict[str, Any]:
    return rules.as_public_dict()


@router.get("/vehicles/{plate}", summary="转出前核验本人车辆（车牌号码 + 车架号后6位），并检查能否转出")
def check_vehicle(
    plate: str = Path(..., max_length=20),
    vin_tail: str = Query(..., max_length=20),
    destination_city: str | None = Query(None, max_length=30),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules),
) -> dict[str, Any]:
    return vehicle_transfer.check_vehicle(session, rules, principal, plate, vin_tail, destination_city)


@router.post("/applications", status_code=201, summary="申请机动车档案电子化网上转递（转出）")
def apply(
    body: ApplicationBody,
    idempotency_key: str | None = Header(None),
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules),
) -> JSONResponse:
    key = idempotency.require_key(idempotency_key)
    result = vehicle_transfer.apply(session, rules, principal, key, body.to_request())
    return JSONResponse(status_code=result.status_code, content=result.body)


@router.get("/applications", summary="查询本人的转递申请及各环节进度")
def applications(
    principal: Principal = Depends(identity_required),
    session: Session = Depends(get_session),
    rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules),
) -> dict[str, Any]:
    return {"items": vehicle_transfer.list_applications(session, rules, principal.person_id)}
