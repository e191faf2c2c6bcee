"""The vehicle-transfer rules, loaded from services/config/vehicle_transfer.yml (configuration, not constants)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

# The stages in their fixed order, and every refusal reason the service can give (the file must word each).
STAGE_CODES = ("submitted", "archive_sent", "destination_checked", "awaiting_owner", "completed")
REASON_CODES = (
    "mortgaged",
    "seized",
    "stolen",
    "inspection_overdue",
    "scrapping_standard",
    "violations",
    "accidents",
)
PROGRESS_CODES = STAGE_CODES[1:]
FAQ_KEYS = ("duration", "violations", "inspection", "paper_file", "documents")


@dataclass(frozen=True)
class Reason:
    code: str
    name: str
    message: str  # may hold {count}, {date}, {detail}
    next_step: str


@dataclass(frozen=True)
class Stage:
    code: str
    name: str
    time_limit_days: int | None
    description: str


@dataclass(frozen=True)
class Destination:
    city: str
    office: str
    address: str
    hours: str


@dataclass(frozen=True)
class Simulation:
    """When the sandbox lets each step happen: days after the step before (a real back end reports the facts)."""

    archive_sent_after_days: int
    destination_checked_after_days: int
    owner_inspected_after_days: int | None  # None: the sandbox waits for the owner forever


@dataclass(frozen=True)
class VehicleTransferRules:
    hotline: str
    plate_example: str
    origin_offices: dict[str, str]
    origin_office_default: str
    destinations: tuple[Destination, ...]
    stages: tuple[Stage, ...]
    progress: dict[str, str]
    owner_step: str
    paper_file: str
    simulation: Simulation
    reasons: dict[str, Reason]
    max_years: dict[str, int | None]
    max_overdue_years: int
    faq: dict[str, str]

    def destination(self, name: str | None) -> Destination | None:
        """The served city the name refers to (青岛, 青岛市 and 山东省青岛市 all mean 青岛)."""
        wanted = bare_city(name or "")
        if len(wanted) < 2:
            return None
        return next((item for item in self.destinations if wanted.endswith(bare_city(item.city))), None)

    def origin_office(self, city: str) -> str:
        return self.origin_offices.get(bare_city(city)) or self.origin_office_default.format(city=bare_city(city))

    def stage(self, code: str) -> Stage:
        return next(stage for stage in self.stages if stage.code == code)

    def reason(self, code: str, **values: Any) -> dict[str, Any]:
        """The refusal as the citizen reads it: code, name, message and next step (placeholders filled in)."""
        text = self.reasons[code]
        return {
            "code": code,
            "name": text.name,
            "message": text.message.format(**values),
            "next_step": text.next_step.format(**values),
            **({"count": values["count"]} if "count" in values else {}),
        }

    def as_public_dict(self) -> dict[str, Any]:
        return {
            "reasons": [asdict(reason) for reason in self.reasons.values()],
            "stages": [asdict(stage) for stage in self.stages],
            "destinations": [asdict(item) for item in self.destinations],
            "faq": dict(self.faq),
            "plate_example": self.plate_example,
            "hotline": self.hotline,
            "sample_data": True,
        }


def bare_city(name: str) -> str:
    """A city name without spaces and without a trailing 市 (青岛市 → 青岛)."""
    name = "".join(str(name).split())
    return name[:-1] if len(name) > 2 and name.endswith("市") else name


def _text(value: Any) -> str:
    return str(value).strip()


def _reasons(raw: dict[str, Any]) -> dict[str, Reason]:
    missing = [code for code in REASON_CODES if code not in raw]
    if missing:
        raise ValueError(f"reasons missing: {missing}")
    # In REASON_CODES order: the order the citizen hears them in.
    return {
        code: Reason(code, str(raw[code]["name"]), str(raw[code]["message"]), str(raw[code]["next_step"]))
        for code in REASON_CODES
    }


def _optional_days(value: Any) -> int | None:
    if value is None:
        return None
    days = int(value)
    if days < 0:
        raise ValueError("days must not be negative")
    return days


def _stages(raw: list[dict[str, Any]]) -> tuple[Stage, ...]:
    stages = tuple(
        Stage(
            code=str(item["code"]),
            name=str(item["name"]),
            time_limit_days=_optional_days(item.get("time_limit_days")),
            description=str(item["description"]),
        )
        for item in raw
    )
    if tuple(stage.code for stage in stages) != STAGE_CODES:
        raise ValueError(f"stages must be exactly {STAGE_CODES} in this order")
    return stages


def _destinations(raw: list[dict[str, Any]]) -> tuple[Destination, ...]:
    items = tuple(
        Destination(bare_city(item["city"]), str(item["office"]), str(item["address"]), str(item.get("hours") or ""))
        for item in raw
    )
    if not items:
        raise ValueError("at least one destination city is needed")
    return items


def _simulation(raw: dict[str, Any]) -> Simulation:
    sent = _optional_days(raw["archive_sent_after_days"])
    checked = _optional_days(raw["destination_checked_after_days"])
    if sent is None or checked is None:
        raise ValueError("the simulated archive and check days are required")
    return Simulation(sent, checked, _optional_days(raw.get("owner_inspected_after_days")))


def load_vehicle_transfer_rules(path: Path) -> VehicleTransferRules:
    """Read and check the YAML file; a broken file stops start-up with a clear message."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        scrapping = raw["scrapping"]
        rules = VehicleTransferRules(
            hotline=str(raw.get("hotline", "12345")),
            plate_example=str(raw.get("plate_example", "桂A12345")),
            origin_offices={bare_city(city): str(name) for city, name in (raw.get("origin_offices") or {}).items()},
            origin_office_default=str(raw.get("origin_office_default") or "{city}市车辆管理所"),
            destinations=_destinations(raw["destinations"]),
            stages=_stages(raw["stages"]),
            progress={code: _text(raw["progress"][code]) for code in PROGRESS_CODES},
            owner_step=_text(raw["owner_step"]),
            paper_file=_text(raw["paper_file"]),
            simulation=_simulation(raw["simulation"]),
            reasons=_reasons(raw["reasons"]),
            max_years={str(kind): _optional_days(years) for kind, years in (scrapping.get("max_years") or {}).items()},
            max_overdue_years=int(scrapping["max_overdue_years"]),
            faq={key: _text(raw["faq"][key]) for key in FAQ_KEYS},
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"vehicle transfer config {path} is invalid: {exc!r}") from exc
    if rules.max_overdue_years < 1:
        raise ValueError(f"vehicle transfer config {path} is invalid: max_overdue_years must be at least 1")
    return rules
