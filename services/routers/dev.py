"""Development-only hooks, mounted only when GOVBOT_ENV is `development` (services/app.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, conint
from sqlalchemy.orm import Session

from services import identity, notifications, sandbox_clock
from services.deps import get_session, get_vehicle_transfer_rules
from services.routers import court
from services.routers import notifications as notification_routes
from services.vehicle_transfer_rules import VehicleTransferRules

router = APIRouter(prefix="/dev", tags=["development"])


@router.get("/sms-outbox", summary="查看短信发件箱（仅开发环境）")
def sms_outbox(
    phone: str | None = Query(None), session: Session = Depends(get_session)
) -> list[dict[str, Any]]:
    return identity.outbox(session, phone)


class AdvanceBody(BaseModel):
    # Forward only: going back would put recorded check-ins in the future.
    advance_days: conint(ge=0, le=sandbox_clock.MAX_ADVANCE_DAYS)  # type: ignore[valid-type]


@router.get("/clock", summary="查看沙箱时钟（仅开发环境）")
def clock(session: Session = Depends(get_session)) -> dict[str, Any]:
    return sandbox_clock.clock_dict(session)


@router.post("/clock", summary="将沙箱时钟向后拨若干天（仅开发环境，用于演示和测试按天计算的规则）")
def advance_clock(
    body: AdvanceBody,
    session: Session = Depends(get_session),
    rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules),
) -> dict[str, Any]:
    sandbox_clock.advance(session, body.advance_days)
    notifications.sweep(session, rules)  # stages that the new date completed are announced now
    return sandbox_clock.clock_dict(session)


# POST /dev/court/mediation-version: the court issues a revised mediation agreement (services/routers/court.py).
router.include_router(court.dev_router)
# Progress notifications: payouts, arrivals, approvals, hearings moved, codes turned green (routers/notifications.py).
router.include_router(notification_routes.dev_router)
