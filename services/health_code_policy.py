"""The health-code rules, loaded from services/config/health_code.yml (configuration, not constants)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

COLOURS = ("green", "yellow", "red")
CHECK_IN_TEXTS = ("normal", "abnormal", "streak_reset", "already")
# Every reason the service can give; the configuration must word each of them.
REASON_CODES = (
    "declared_healthy",
    "turned_green",
    "key_area_travel",
    "fever",
    "symptoms",
    "abnormal_check_in",
    "contact_with_case",
    "fever_with_key_area",
    "close_contact",
    "suspected",
    "confirmed",
)


@dataclass(frozen=True)
class ReasonText:
    colour: str
    message: str
    what_to_do: str


@dataclass(frozen=True)
class HealthCodePolicy:
    abnormal_temperature: float
    temperature_min: float
    temperature_max: float
    days_to_green: dict[str, int]  # yellow / red → consecutive normal check-ins needed
    symptoms: dict[str, str]  # code → Chinese name
    key_areas: tuple[str, ...]
    colour_texts: dict[str, str]
    how_to_turn_green: dict[str, str]
    reasons: dict[str, ReasonText]
    check_in_texts: dict[str, str]
    no_smartphone: str
    appeal_reply_text: str
    appeal_received: str
    hotline: str

    def required_days(self, colour: str) -> int:
        """Normal check-ins needed to turn green; 0 for a green code."""
        return self.days_to_green.get(colour, 0)

    def key_area(self, name: str | None) -> str | None:
        """The listed key area the name refers to (武汉 → 武汉市, 余杭区 → 杭州市余杭区, 湖北省武汉市 → 武汉市)."""
        wanted = _bare(name or "")
        if len(wanted) < 2:
            return None
        for area in self.key_areas:
            listed = _bare(area)
            if listed.endswith(wanted) or wanted.endswith(listed):
                return area
        return None

    def symptom_code(self, value: str) -> str | None:
        """A symptom given as its code (fever) or its Chinese name (发热); None if unknown."""
        value = value.strip()
        if value in self.symptoms:
            return value
        return next((code for code, name in self.symptoms.items() if name == value), None)

    def is_abnormal(self, temperature: float, symptoms: list[str]) -> bool:
        return temperature >= self.abnormal_temperature or bool(symptoms)

    def reason(self, code: str, area: str | None = None, days: int | None = None) -> dict[str, str]:
        """Message and what to do; `days` is the code's own count (the rule when it was issued)."""
        text = self.reasons[code]
        values = {
            "area": f"（{area}）" if area else "",
            "days": days if days else self.required_days(text.colour),
        }
        return {"message": text.message.format(**values), "what_to_do": text.what_to_do.format(**values)}

    def turn_green_text(self, colour: str, days: int | None = None) -> str | None:
        text = self.how_to_turn_green.get(colour) or ""
        return text.format(days=days or self.required_days(colour)) or None

    def as_public_dict(self) -> dict[str, Any]:
        return {
            "abnormal_temperature": self.abnormal_temperature,
            "temperature_range": [self.temperature_min, self.temperature_max],
            "days_to_green": dict(self.days_to_green),
            "symptoms": dict(self.symptoms),
            "key_areas": list(self.key_areas),
            "no_smartphone": self.no_smartphone,
            "hotline": self.hotline,
            "sample_data": True,
        }


def _bare(name: str) -> str:
    """A place name without spaces and without a trailing 市/区/县, so 武汉 and 武汉市 match."""
    name = "".join(name.split())
    return name[:-1] if len(name) > 2 and name[-1] in "市区县" else name


def _reasons(raw: dict[str, Any]) -> dict[str, ReasonText]:
    reasons = {
        code: ReasonText(str(text["colour"]), str(text["message"]), str(text["what_to_do"]))
        for code, text in raw.items()
    }
    bad = [code for code, text in reasons.items() if text.colour not in COLOURS]
    if bad:
        raise ValueError(f"unknown colour in reasons {bad}")
    missing = [code for code in REASON_CODES if code not in reasons]
    if missing:
        raise ValueError(f"reasons missing: {missing}")
    return reasons


def load_health_code_policy(path: Path) -> HealthCodePolicy:
    """Read and check the YAML file; a broken file stops start-up with a clear message."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        days = {colour: int(raw["days_to_green"][colour]) for colour in ("yellow", "red")}
        if min(days.values()) < 1:
            raise ValueError("days_to_green must be at least 1")
        return HealthCodePolicy(
            abnormal_temperature=float(raw["abnormal_temperature"]),
            temperature_min=float(raw["temperature_min"]),
            temperature_max=float(raw["temperature_max"]),
            days_to_green=days,
            symptoms={str(code): str(name) for code, name in raw["symptoms"].items()},
            key_areas=tuple(str(area) for area in raw["key_areas"]),
            colour_texts={colour: str(raw["colours"][colour]["text"]) for colour in COLOURS},
            how_to_turn_green={
                colour: str(raw["colours"][colour].get("how_to_turn_green") or "") for colour in COLOURS
            },
            reasons=_reasons(raw["reasons"]),
            check_in_texts={name: str(raw["check_in"][name]) for name in CHECK_IN_TEXTS},
            # Folded YAML joins lines with spaces, which Chinese text does not use.
            no_smartphone="".join(str(raw["no_smartphone"]).split()),
            appeal_reply_text=str(raw["appeal"]["reply_text"]),
            appeal_received=str(raw["appeal"]["received"]),
            hotline=str(raw.get("hotline", "12345")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"health code config {path} is invalid: {exc!r}") from exc
