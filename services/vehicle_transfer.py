"""Vehicle registration transfer with the electronic archive (机动车档案电子化网上转递, e.g. 南宁 → 青岛).

The owner proves possession with the plate and the last 6 characters of the VIN. A plate that does not exist,
someone else's plate and a wrong VIN tail all get the same answer, so the endpoints cannot tell who owns which car
or whether a plate is registered. The stages are computed from the submission date and the sandbox clock
(services/sandbox_clock.py), so advancing the clock moves an application on. Logs name only internal ids and
application numbers: plates and VINs are personal data.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services import idempotency
from services.auth import Principal
from services.clock import to_china_iso
from services.errors import ApiError
from services.models import Vehicle, VehicleTransferApplication
from services.sandbox_clock import sandbox_today, sandbox_utcnow
from services.vehicle_transfer_rules import STAGE_CODES, Destination, Stage, VehicleTransferRules, bare_city

logger = logging.getLogger("services.vehicle_transfer")

OPEN = "open"
VIN_TAIL_LENGTH = 6
APPLICATION_NO_ATTEMPTS = 5
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# Province, issuing-office letter, then 5 characters (6 for new-energy plates); plates never use I or O.
_PLATE = re.compile(rf"[{_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}")
# VINs never use I, O or Q (GB 16735), so neither does their tail.
_VIN_TAIL = re.compile(r"[A-HJ-NPR-Z0-9]{6}")
_PLATE_SEPARATORS = str.maketrans("", "", " \u3000·•.-")


@dataclass(frozen=True)
class TransferRequest:
    plate: str
    vin_tail: str
    destination_city: str


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


# --- validation: specific Chinese messages (nothing here depends on who owns what) ----------------------------------


def clean_plate(rules: VehicleTransferRules, raw: str) -> str:
    plate = (raw or "").translate(_PLATE_SEPARATORS).upper()
    if not _PLATE.fullmatch(plate):
        raise ApiError(
            422,
            "invalid_plate",
            f"您输入的车牌号码格式不正确。车牌号码由省份简称、一位字母和5位（新能源车为6位）字母或数字组成，"
            f"例如 {rules.plate_example}，请对照机动车行驶证核对后重新输入。",
            {"field": "plate"},
        )
    return plate


def clean_vin_tail(raw: str) -> str:
    tail = "".join((raw or "").split()).upper()
    if not _VIN_TAIL.fullmatch(tail):
        raise ApiError(
            422,
            "invalid_vin_tail",
            "请输入车辆识别代号（车架号）的后6位，由数字和英文字母组成（不含I、O、Q）。"
            "车辆识别代号可以在机动车行驶证上或前挡风玻璃左下角找到。",
            {"field": "vin_tail"},
        )
    return tail


def served_destination(rules: VehicleTransferRules, name: str) -> Destination:
    destination = rules.destination(name)
    if destination is None:
        cities = "、".join(item.city for item in rules.destinations)
        raise ApiError(
            422,
            "destination_not_served",
            f"目前可以办理档案电子化网上转递的转入城市有：{cities}。您填写的城市暂不在服务范围内，"
            f"请核对后重新选择，或拨打{rules.hotline}热线咨询。",
            {"field": "destination_city", "served": [item.city for item in rules.destinations]},
        )
    return destination


def clean_request(rules: VehicleTransferRules, request: TransferRequest) -> TransferRequest:
    """The request in canonical form (桂a·12345 → 桂A12345, 青岛市 → 青岛), or a 422 for the first bad field."""
    plate = clean_plate(rules, request.plate)
    tail = clean_vin_tail(request.vin_tail)
    return TransferRequest(plate, tail, served_destination(rules, request.destination_city).city)


# --- ownership: one answer for every kind of mismatch ---------------------------------------------------------------


def vehicle_not_found() -> ApiError:
    # Identical for an unknown plate, someone else's plate and a wrong VIN tail: it must reveal nothing.
    return ApiError(
        404,
        "vehicle_not_found",
        "未查询到登记在您本人名下、与该车牌号码和车辆识别代号（车架号）后6位相符的机动车。请对照机动车行驶证核对后"
        "重新输入；只有登记在您本人名下的车辆才能由您申请转出。",
    )


def owned_vehicle(session: Session, person_id: int, plate: str, vin_tail: str) -> Vehicle:
    vehicle = session.execute(
        select(Vehicle).where(Vehicle.plate == plate, Vehicle.person_id == person_id)
    ).scalar_one_or_none()
    # Compared even without a vehicle (against a dummy), so both mismatches take the same work.
    actual = (vehicle.vin or "")[-VIN_TAIL_LENGTH:] if vehicle is not None else "#" * VIN_TAIL_LENGTH
    if not hmac.compare_digest(actual.encode(), vin_tail.encode()) or vehicle is None:
        raise vehicle_not_found()
    return vehicle


# --- the checks: every reason that blocks a transfer ------------------------------------------------------------------


def _scrapping_details(rules: VehicleTransferRules, vehicle: Vehicle, today: date) -> list[str]:
    details = []
    max_years = rules.max_years.get(vehicle.vehicle_type or "")
    if max_years is not None and vehicle.registered_on and _add_years(vehicle.registered_on, max_years) <= today:
        details.append(f"使用年限已满{max_years}年")
    valid_until = vehicle.inspection_valid_until
    if valid_until and _add_years(valid_until, rules.max_overdue_years) <= today:
        details.append(f"检验有效期届满后连续{rules.max_overdue_years}年未检验合格")
    return details


def refusal_reasons(rules: VehicleTransferRules, vehicle: Vehicle, today: date) -> list[dict[str, Any]]:
    """Every reason that blocks this vehicle, in the configured order, each with its message and next step."""
    reasons = [rules.reason(code) for code in ("mortgaged", "seized", "stolen") if getattr(vehicle, code)]
    if vehicle.inspection_valid_until and vehicle.inspection_valid_until < today:
        reasons.append(rules.reason("inspection_overdue", date=chinese_date(vehicle.inspection_valid_until)))
    scrapping = _scrapping_details(rules, vehicle, today)
    if scrapping:
        reasons.append(rules.reason("scrapping_standard", detail="；".join(scrapping)))
    if vehicle.open_violations:
        reasons.append(rules.reason("violations", count=vehicle.open_violations))
    if vehicle.open_accidents:
        reasons.append(rules.reason("accidents", count=vehicle.open_accidents))
    return reasons


def _not_transferable(reasons: list[dict[str, Any]]) -> ApiError:
    texts = [f"{reason['message']}{reason['next_step']}" for reason in reasons]
    if len(texts) == 1:
        message = f"很抱歉，该车目前不能办理转出：{texts[0]}"
    else:
        listed = "".join(f"（{number}）{text}" for number, text in enumerate(texts, start=1))
        message = (
            f"很抱歉，该车目前不能办理转出，共有{len(texts)}个原因：{listed}以上问题都处理完毕后，欢迎您再来申请。"
        )
    return ApiError(422, "vehicle_not_transferable", message, {"reasons": reasons})


def _check_not_same_city(vehicle: Vehicle, destination: Destination) -> None:
    if bare_city(vehicle.registered_city) == destination.city:
        raise ApiError(
            422,
            "destination_same_as_registration",
            f"您的车辆登记地就是{destination.city}，无需办理转出。如需办理其他车驾管业务，请联系当地车管所。",
            {"field": "destination_city"},
        )


def _destination_dict(destination: Destination) -> dict[str, str]:
    return {"city": destination.city, "office": destination.office, "address": destination.address,
            "hours": destination.hours}


def check_vehicle(
    session: Session, rules: VehicleTransferRules, principal: Principal, plate: str, vin_tail: str,
    destination_city: str | None = None,
) -> dict[str, Any]:
    """The pre-check before the citizen confirms: the vehicle, whether it may transfer and why not."""
    plate, vin_tail = clean_plate(rules, plate), clean_vin_tail(vin_tail)
    destination = served_destination(rules, destination_city) if destination_city else None
    vehicle = owned_vehicle(session, principal.person_id, plate, vin_tail)
    if destination is not None:
        _check_not_same_city(vehicle, destination)
    today = sandbox_today(session)
    reasons = refusal_reasons(rules, vehicle, today)
    existing = open_application(session, vehicle.id)
    return {
        "plate": vehicle.plate,
        "vehicle_type": vehicle.vehicle_type,
        "brand_model": vehicle.brand_model,
        "registered_city": vehicle.registered_city,
        "origin_office": rules.origin_office(vehicle.registered_city),
        "inspection_valid_until": _iso(vehicle.inspection_valid_until),
        "may_transfer": not reasons,
        "reasons": reasons,
        "destination": _destination_dict(destination) if destination else None,
        "open_application": _summary(rules, existing, today) if existing else None,
        "today": today.isoformat(),
    }


# --- stages, computed from the submission date and the clock --------------------------------------------------------


def _happened_on(rules: VehicleTransferRules, application: VehicleTransferApplication) -> dict[str, date | None]:
    """When each step happens in the sandbox (a real back end would report these dates)."""
    simulation = rules.simulation
    sent = application.submitted_on + timedelta(days=simulation.archive_sent_after_days)
    checked = sent + timedelta(days=simulation.destination_checked_after_days)
    inspected = None
    if simulation.owner_inspected_after_days is not None:
        inspected = checked + timedelta(days=simulation.owner_inspected_after_days)
    return {
        "submitted": application.submitted_on,
        "archive_sent": sent,
        "destination_checked": checked,
        "awaiting_owner": inspected,  # the stage ends with the owner's inspection
        "completed": inspected,
    }


def _texts(rules: VehicleTransferRules, application: VehicleTransferApplication) -> dict[str, str]:
    destination = rules.destination(application.destination_city)
    return {
        "origin_city": application.origin_city,
        "origin_office": application.origin_office,
        "destination_city": application.destination_city,
        "destination_office": application.destination_office,
        "destination_address": application.destination_address,
        "hours": destination.hours if destination and destination.hours else "以车管所公布的时间为准",
    }


def stages(
    rules: VehicleTransferRules, application: VehicleTransferApplication, today: date
) -> list[dict[str, Any]]:
    """Every stage: done (with the date it happened), current or pending (with the date it is due, if limited)."""
    happened = _happened_on(rules, application)
    texts = _texts(rules, application)
    owner_note = rules.owner_step.format(**texts) + rules.paper_file.format(**texts)
    result: list[dict[str, Any]] = []
    previous: date | None = None  # when the step before happened (or is due)
    current_found = False
    for code in STAGE_CODES:
        stage = rules.stage(code)
        on = happened[code]
        done = on is not None and on <= today
        due = previous + timedelta(days=stage.time_limit_days) if previous and stage.time_limit_days else None
        status = "done" if done else ("pending" if current_found else "current")
        current_found = current_found or not done
        note = owner_note if code == "awaiting_owner" else None
        result.append(_stage_dict(stage, status, on if done else None, due, note))
        previous = on if done else due
    return result


def _stage_dict(stage: Stage, status: str, happened: date | None, due: date | None, note: str | None) -> dict[str, Any]:
    return {
        "code": stage.code,
        "name": stage.name,
        "status": status,
        "time_limit_days": stage.time_limit_days,
        "date": _iso(happened),
        "due": _iso(due),
        "description": stage.description,
        "note": note,
    }


def _current(stage_list: list[dict[str, Any]]) -> dict[str, Any]:
    return next((stage for stage in stage_list if stage["status"] == "current"), stage_list[-1])


def _progress_text(rules: VehicleTransferRules, application: VehicleTransferApplication,
                   current: dict[str, Any]) -> str:
    due = chinese_date(date.fromisoformat(current["due"])) if current["due"] else ""
    return rules.progress[current["code"]].format(**_texts(rules, application), due=due)


def _summary(rules: VehicleTransferRules, application: VehicleTransferApplication, today: date) -> dict[str, Any]:
    current = _current(stages(rules, application, today))
    return {
        "application_no": application.application_no,
        "destination_city": application.destination_city,
        "stage": current["code"],
        "stage_name": current["name"],
    }


def application_dict(
    rules: VehicleTransferRules, application: VehicleTransferApplication, vehicle: Vehicle, today: date
) -> dict[str, Any]:
    stage_list = stages(rules, application, today)
    current = _current(stage_list)
    texts = _texts(rules, application)
    return {
        "application_no": application.application_no,
        "status": application.status,
        "stage": current["code"],
        "stage_name": current["name"],
        "completed": current["code"] == "completed",
        "progress_text": _progress_text(rules, application, current),
        "plate": vehicle.plate,
        "vehicle_type": vehicle.vehicle_type,
        "brand_model": vehicle.brand_model,
        "origin_city": application.origin_city,
        "origin_office": application.origin_office,
        "destination_city": application.destination_city,
        "destination_office": application.destination_office,
        "destination_address": application.destination_address,
        "destination_hours": texts["hours"],
        "owner_step": rules.owner_step.format(**texts),
        "paper_file": rules.paper_file.format(**texts),
        "submitted_on": application.submitted_on.isoformat(),
        "submitted_at": to_china_iso(application.created_at),
        "today": today.isoformat(),
        "stages": stage_list,
    }


# --- apply: at most one open application per vehicle ---------------------------------------------------------------


def open_application(session: Session, vehicle_id: int) -> VehicleTransferApplication | None:
    return session.execute(
        select(VehicleTransferApplication).where(
            VehicleTransferApplication.vehicle_id == vehicle_id, VehicleTransferApplication.status == OPEN
        )
    ).scalar_one_or_none()


@dataclass(frozen=True)
class _Call:
    """Who asked, under which idempotency key, for which (cleaned) request."""

    principal: Principal
    key: str
    payload_hash: str


def _next_application_no(session: Session, today: date) -> str:
    """ZD + date + a sequence of that day (ZD202612010001); a parallel application may take the same number, which
    the unique constraint catches (the caller then tries the next)."""
    prefix = f"ZD{today:%Y%m%d}"
    latest = session.execute(
        select(func.max(VehicleTransferApplication.application_no)).where(
            VehicleTransferApplication.application_no.startswith(prefix)
        )
    ).scalar_one()
    sequence = int(latest[len(prefix):]) + 1 if latest else 1
    return f"{prefix}{sequence:04d}"


def _new_application(
    session: Session, rules: VehicleTransferRules, vehicle: Vehicle, destination: Destination, person_id: int
) -> VehicleTransferApplication:
    today = sandbox_today(session)
    return VehicleTransferApplication(
        application_no=_next_application_no(session, today),
        vehicle_id=vehicle.id,
        person_id=person_id,
        origin_city=bare_city(vehicle.registered_city),
        origin_office=rules.origin_office(vehicle.registered_city),
        destination_city=destination.city,
        destination_office=destination.office,
        destination_address=destination.address,
        status=OPEN,
        submitted_on=today,
        created_at=sandbox_utcnow(session),
    )


def _response(
    session: Session, rules: VehicleTransferRules, application: VehicleTransferApplication, vehicle: Vehicle,
    status: int,
) -> idempotency.StoredResponse:
    body = application_dict(rules, application, vehicle, sandbox_today(session))
    return idempotency.StoredResponse(status, {**body, "already_applied": status == 200})


def apply(
    session: Session, rules: VehicleTransferRules, principal: Principal, key: str, request: TransferRequest
) -> idempotency.StoredResponse:
    """Record the application after every check; a vehicle with an open application gets it back (200)."""
    request = clean_request(rules, request)
    call = _Call(principal, key, idempotency.request_hash({"op": "vehicle_transfer_apply", **asdict(request)}))
    stored = idempotency.replay(session, principal.scope, key, call.payload_hash)
    if stored is not None:
        return stored
    vehicle = owned_vehicle(session, principal.person_id, request.plate, request.vin_tail)
    existing = open_application(session, vehicle.id)
    if existing is not None:  # asked again (another key, another destination): the application already made
        return _remember(session, call, _response(session, rules, existing, vehicle, 200))
    destination = served_destination(rules, request.destination_city)
    _check_not_same_city(vehicle, destination)
    reasons = refusal_reasons(rules, vehicle, sandbox_today(session))
    if reasons:
        raise _not_transferable(reasons)
    return _insert(session, rules, call, vehicle, destination)


def _remember(session: Session, call: _Call, response: idempotency.StoredResponse) -> idempotency.StoredResponse:
    idempotency.remember_separately(session, call.principal.scope, call.key, call.payload_hash, response)
    return response


def _insert(
    session: Session, rules: VehicleTransferRules, call: _Call, vehicle: Vehicle, destination: Destination
) -> idempotency.StoredResponse:
    for _attempt in range(APPLICATION_NO_ATTEMPTS):
        application = _new_application(session, rules, vehicle, destination, call.principal.person_id)
        # Built before the add: reading the clock would autoflush the insert outside the try below.
        response = _response(session, rules, application, vehicle, 201)
        session.add(application)
        idempotency.remember(session, call.principal.scope, call.key, call.payload_hash, response)
        try:
            session.commit()
        except IntegrityError:
            # A parallel request won: the same key, the same vehicle, or only the same application number.
            session.rollback()
            won = _after_lost_race(session, rules, call, vehicle)
            if won is not None:
                return won
            continue
        logger.info("vehicle transfer %s submitted for vehicle %s", application.application_no, vehicle.id)
        return response
    raise RuntimeError("no free vehicle transfer application number")  # the generic 500 handler reports it


def _after_lost_race(
    session: Session, rules: VehicleTransferRules, call: _Call, vehicle: Vehicle
) -> idempotency.StoredResponse | None:
    stored = idempotency.replay(session, call.principal.scope, call.key, call.payload_hash)
    if stored is not None:
        return stored
    existing = open_application(session, vehicle.id)
    if existing is None:
        return None  # only the application number collided: try the next one
    return _remember(session, call, _response(session, rules, existing, vehicle, 200))


# --- status ----------------------------------------------------------------------------------------------------------


def list_applications(session: Session, rules: VehicleTransferRules, person_id: int) -> list[dict[str, Any]]:
    """The person's applications, newest first, each with every stage as of the sandbox's today."""
    today = sandbox_today(session)
    rows = session.execute(
        select(VehicleTransferApplication, Vehicle)
        .join(Vehicle, Vehicle.id == VehicleTransferApplication.vehicle_id)
        .where(VehicleTransferApplication.person_id == person_id)
        .order_by(VehicleTransferApplication.created_at.desc(), VehicleTransferApplication.id.desc())
    ).all()
    return [application_dict(rules, application, vehicle, today) for application, vehicle in rows]


def archive_arrives_today(
    session: Session, rules: VehicleTransferRules, application_no: str
) -> VehicleTransferApplication:
    """Development: the application's electronic archive reaches the destination office today (its timeline moves
    back so that the transfer happened today). The caller announces it (services/notifications.py sweeps)."""
    application = session.execute(
        select(VehicleTransferApplication).where(
            VehicleTransferApplication.application_no == application_no.strip().upper()
        )
    ).scalar_one_or_none()
    if application is None:
        raise ApiError(404, "application_not_found", "未找到该转籍申请，请核对申请编号后重试。")
    today = sandbox_today(session)
    archive = next(stage for stage in stages(rules, application, today) if stage["code"] == "archive_sent")
    if archive["status"] == "done":
        raise ApiError(409, "archive_already_sent", "该申请的电子档案已经转递，无需重复操作。")
    application.submitted_on = today - timedelta(days=rules.simulation.archive_sent_after_days)
    session.commit()
    return application
