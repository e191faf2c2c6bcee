"""Client of the vehicle registration transfer (机动车档案电子化网上转递) service.

The owner proves possession with the plate and the last 6 characters of the VIN; every personal call needs a verified
identity (token + the chat user it was issued to). The application carries an idempotency key, so a retried message
never files twice; the reads are retried freely. Dates are `datetime.date` (China calendar days).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote

from integrations.services.base import BaseServiceClient

PREFIX = "/api/v1/vehicle-transfer"


@dataclass(frozen=True)
class RefusalReason:
    code: str  # mortgaged, seized, stolen, inspection_overdue, scrapping_standard, violations, accidents
    name: str  # 抵押, 查封, 被盗抢, 逾期未检验, 达到报废标准, 未处理的违法记录, 未处理的交通事故
    message: str  # the reason in plain words (in the rules: a template with {count} / {date} / {detail})
    next_step: str  # what to do first
    count: int | None = None  # violations / accidents only


@dataclass(frozen=True)
class Stage:
    code: str  # submitted, archive_sent, destination_checked, awaiting_owner, completed
    name: str
    time_limit_days: int | None  # 2 (archive sent), 1 (destination check); None: no office time limit
    description: str


@dataclass(frozen=True)
class Destination:
    city: str  # 青岛
    office: str  # 青岛市公安局交通警察支队车辆管理所
    address: str  # sample address
    hours: str


@dataclass(frozen=True)
class TransferRules:
    reasons: tuple[RefusalReason, ...]
    stages: tuple[Stage, ...]
    destinations: tuple[Destination, ...]
    faq: dict[str, str]  # duration, violations, inspection, paper_file, documents: ready-made answers
    plate_example: str
    hotline: str

    def destination(self, city: str) -> Destination | None:
        """The served destination for a city name as typed (青岛, 青岛市, 山东省青岛市)."""
        name = "".join(city.split()).removesuffix("市")
        return next((item for item in self.destinations if name.endswith(item.city)), None)


@dataclass(frozen=True)
class StageProgress:
    code: str
    name: str
    status: str  # done / current / pending
    time_limit_days: int | None
    date: date | None  # when it happened (done stages only)
    due: date | None  # its deadline, if the stage has a time limit
    description: str
    note: str | None  # awaiting_owner: where to go for the one inspection, and that the paper file stays put


@dataclass(frozen=True)
class ApplicationSummary:
    application_no: str
    destination_city: str
    stage: str
    stage_name: str


@dataclass(frozen=True)
class VehicleCheck:
    plate: str
    vehicle_type: str | None  # 小型汽车
    brand_model: str | None
    registered_city: str  # 南宁
    origin_office: str
    inspection_valid_until: date | None
    may_transfer: bool
    reasons: tuple[RefusalReason, ...]  # every reason that blocks it, empty when it may transfer
    destination: Destination | None  # when a destination was given
    open_application: ApplicationSummary | None  # an application already in progress for this vehicle
    today: date


@dataclass(frozen=True)
class Application:
    application_no: str  # ZD202612010001
    status: str  # open
    stage: str  # the current stage's code, or "completed"
    stage_name: str
    completed: bool
    progress_text: str  # one sentence for the citizen
    plate: str
    vehicle_type: str | None
    brand_model: str | None
    origin_city: str
    origin_office: str
    destination_city: str
    destination_office: str
    destination_address: str
    destination_hours: str
    owner_step: str  # the one inspection at the destination (no trip back to the origin)
    paper_file: str  # the paper file stays at the origin office
    submitted_on: date
    submitted_at: str  # ISO 8601, +08:00
    today: date
    stages: tuple[StageProgress, ...]
    already_applied: bool = False  # apply only: the vehicle already had an open application (HTTP 200)
    created: bool = False  # apply only: this request created it (HTTP 201)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _reason(data: dict[str, Any]) -> RefusalReason:
    count = data.get("count")
    return RefusalReason(data["code"], data["name"], data["message"], data["next_step"],
                         None if count is None else int(count))


def _destination(data: dict[str, Any]) -> Destination:
    return Destination(data["city"], data["office"], data["address"], data.get("hours") or "")


def _rules(data: dict[str, Any]) -> TransferRules:
    return TransferRules(
        reasons=tuple(_reason(item) for item in data["reasons"]),
        stages=tuple(
            Stage(item["code"], item["name"], item.get("time_limit_days"), item["description"])
            for item in data["stages"]
        ),
        destinations=tuple(_destination(item) for item in data["destinations"]),
        faq=dict(data["faq"]),
        plate_example=data["plate_example"],
        hotline=str(data["hotline"]),
    )


def _check(data: dict[str, Any]) -> VehicleCheck:
    summary = data.get("open_application")
    return VehicleCheck(
        plate=data["plate"],
        vehicle_type=data.get("vehicle_type"),
        brand_model=data.get("brand_model"),
        registered_city=data["registered_city"],
        origin_office=data["origin_office"],
        inspection_valid_until=_day(data.get("inspection_valid_until")),
        may_transfer=bool(data["may_transfer"]),
        reasons=tuple(_reason(item) for item in data["reasons"]),
        destination=_destination(data["destination"]) if data.get("destination") else None,
        open_application=ApplicationSummary(**summary) if summary else None,
        today=date.fromisoformat(data["today"]),
    )


def _stage(data: dict[str, Any]) -> StageProgress:
    return StageProgress(
        code=data["code"],
        name=data["name"],
        status=data["status"],
        time_limit_days=data.get("time_limit_days"),
        date=_day(data.get("date")),
        due=_day(data.get("due")),
        description=data["description"],
        note=data.get("note"),
    )


_SPECIAL = {"submitted_on", "today", "stages", "already_applied", "created"}


def _application(data: dict[str, Any], created: bool = False) -> Application:
    plain = {name: data.get(name) for name in Application.__dataclass_fields__ if name not in _SPECIAL}
    return Application(
        **plain,
        submitted_on=date.fromisoformat(data["submitted_on"]),
        today=date.fromisoformat(data["today"]),
        stages=tuple(_stage(item) for item in data["stages"]),
        already_applied=bool(data.get("already_applied")),
        created=created,
    )


class VehicleTransferClient(BaseServiceClient):
    service_name = "机动车档案转递服务"

    async def get_rules(self) -> TransferRules:
        """Public: refusal reasons, stages with time limits, destinations served, ready-made FAQ answers."""
        _, data = await self._request("GET", f"{PREFIX}/rules")
        return _rules(data)

    async def check_vehicle(
        self, *, token: str, chat_user: str, plate: str, vin_tail: str, destination_city: str | None = None
    ) -> VehicleCheck:
        """Before confirming: the verified person's vehicle and whether it may transfer (every reason if not).

        Raises ServiceRejected: invalid_plate, invalid_vin_tail, destination_not_served (details["served"]),
        destination_same_as_registration (422); vehicle_not_found (404, the same for an unknown plate, someone
        else's plate and a wrong VIN tail).
        """
        _, data = await self._request(
            "GET",
            f"{PREFIX}/vehicles/{quote(plate, safe='')}",
            params={"vin_tail": vin_tail, "destination_city": destination_city},
            token=token,
            chat_user=chat_user,
        )
        return _check(data)

    async def apply(
        self, *, token: str, chat_user: str, idempotency_key: str, plate: str, vin_tail: str, destination_city: str
    ) -> Application:
        """Apply; safe to retry with the same key. A vehicle with an open application gets it back
        (`already_applied`, whatever the destination asked for now).

        Raises ServiceRejected: the check_vehicle errors, vehicle_not_transferable (422, details["reasons"]: every
        reason with message and next step), idempotency_conflict (409).
        """
        body = {"plate": plate, "vin_tail": vin_tail, "destination_city": destination_city}
        status, data = await self._request(
            "POST", f"{PREFIX}/applications", json=body, token=token, chat_user=chat_user,
            idempotency_key=idempotency_key,
        )
        return _application(data, created=status == 201)

    async def list_applications(self, *, token: str, chat_user: str) -> list[Application]:
        """The person's applications, newest first, with every stage as of the service's today."""
        _, data = await self._request("GET", f"{PREFIX}/applications", token=token, chat_user=chat_user)
        return [_application(item) for item in data["items"]]


def refusal_reasons(error_details: dict[str, Any]) -> tuple[RefusalReason, ...]:
    """The reasons of a `vehicle_not_transferable` rejection (ServiceRejected.details), typed."""
    return tuple(_reason(item) for item in error_details.get("reasons", []))
