"""Progress notifications: a verified citizen's conversation subscribes to one of the citizen's own transactions.

`dev_router` (mounted under /dev in development only) makes the back ends' state changes happen on demand: a payout
confirmed, an archive arrived, a filing approved, a hearing moved, a health code turned green.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, constr
from sqlalchemy.orm import Session

from bot.settings import SandboxSettings
from services import court, health_code, notifications, rent_subsidy, vehicle_transfer, work_resumption
from services.auth import LEVEL_PHONE, Principal, require_level
from services.deps import get_health_code_policy, get_session, get_settings, get_vehicle_transfer_rules
from services.errors import ApiError
from services.health_code_policy import HealthCodePolicy
from services.notifications_topics import vehicle_transfer_topic
from services.vehicle_transfer_rules import VehicleTransferRules

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
dev_router = APIRouter(tags=["development"])
# A job fair registration is made with a verified phone; every other reference needs the full identity (the
# resolvers refuse a phone-level token for personal records).
verified = require_level(LEVEL_PHONE)


def number_path() -> Any:
    """A fresh parameter declaration per route: FastAPI binds one to the name it first meets."""
    return Path(..., max_length=40, description="办理编号")


class SubscriptionBody(BaseModel):
    service: constr(max_length=40)  # type: ignore[valid-type]  # the assistant's name of the service
    reference: constr(max_length=200)  # type: ignore[valid-type]  # application / filing / hearing / case number
    subscriber: constr(max_length=4000)  # type: ignore[valid-type]  # the sealed conversation id, passed back as is


@router.post("/subscriptions", status_code=201, summary="订阅本人办理事项的进度提醒（状态变化时通知智能助手）")
def subscribe(
    body: SubscriptionBody,
    principal: Principal = Depends(verified),
    session: Session = Depends(get_session),
    settings: SandboxSettings = Depends(get_settings),
    rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules),
) -> JSONResponse:
    status, data = notifications.subscribe(
        session, settings.secret_key, rules, principal, body.service, body.reference, body.subscriber
    )
    return JSONResponse(status_code=status, content=data)


# --- development: the back ends' state changes on demand ------------------------------------------------------------


@dev_router.get("/notifications/outbox", summary="查看状态变化事件及其投递情况（仅开发环境）")
def outbox(session: Session = Depends(get_session)) -> list[dict[str, Any]]:
    return notifications.outbox(session)


@dev_router.post("/rent-subsidy/applications/{application_no}/payout", summary="租房补贴发放到账（仅开发环境）")
def payout(application_no: str = number_path(), session: Session = Depends(get_session)) -> dict[str, Any]:
    return rent_subsidy.confirm_payout(session, application_no)


@dev_router.post(
    "/vehicle-transfer/applications/{application_no}/archive-arrived",
    summary="机动车电子档案今天转递到转入地车管所（仅开发环境）",
)
def archive_arrived(
    application_no: str = number_path(),
    session: Session = Depends(get_session),
    rules: VehicleTransferRules = Depends(get_vehicle_transfer_rules),
) -> dict[str, Any]:
    application = vehicle_transfer.archive_arrives_today(session, rules, application_no)
    told = notifications.sweep(session, rules, [vehicle_transfer_topic(application.application_no)])
    return {"application_no": application.application_no, "notified": told}


@dev_router.post("/work-resumption/filings/{filing_no}/approve", summary="复工申报审核通过（仅开发环境）")
def approve(filing_no: str = number_path(), session: Session = Depends(get_session)) -> dict[str, Any]:
    return work_resumption.approve(session, filing_no)


class RescheduleBody(BaseModel):
    scheduled_at: datetime  # with its offset, e.g. 2026-12-10T14:30:00+08:00
    place: constr(min_length=1, max_length=100) | None = None  # type: ignore[valid-type]


@dev_router.post("/court/hearings/{hearing_id}/reschedule", summary="开庭（听证）时间或地点变更（仅开发环境）")
def reschedule(
    body: RescheduleBody, hearing_id: str = number_path(), session: Session = Depends(get_session)
) -> dict[str, Any]:
    if body.scheduled_at.tzinfo is None:
        raise ApiError(422, "invalid_field", "请提供带时区的时间，例如 2026-12-10T14:30:00+08:00。",
                       {"field": "scheduled_at"})
    when = body.scheduled_at.astimezone(timezone.utc).replace(tzinfo=None)
    court.reschedule_hearing(session, hearing_id, when, body.place)
    return {"hearing_id": hearing_id.upper(), "scheduled_at": body.scheduled_at.isoformat()}


class PersonBody(BaseModel):
    id_number: constr(min_length=18, max_length=18)  # type: ignore[valid-type]


@dev_router.post("/health-code/turn-green", summary="健康码转为绿码（仅开发环境）")
def turn_green(
    body: PersonBody,
    session: Session = Depends(get_session),
    policy: HealthCodePolicy = Depends(get_health_code_policy),
) -> dict[str, Any]:
    return health_code.turn_green(session, policy, body.id_number)
