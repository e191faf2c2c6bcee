"""The rent-subsidy policy, loaded from services/config/rent_subsidy.yml (configuration, not constants)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from services.clock import china_today


@dataclass(frozen=True)
class ReasonText:
    message: str
    next_step: str


@dataclass(frozen=True)
class RentSubsidyPolicy:
    city: str
    months: int
    amounts: dict[str, int]
    conditions: list[str]
    materials: str
    commitment_text: str
    hotline: str
    reasons: dict[str, ReasonText]
    fixed_period: str | None = None

    @property
    def period(self) -> str:
        """The configured period, or the current calendar year."""
        return self.fixed_period or str(china_today().year)

    def reason(self, code: str) -> dict[str, str]:
        text = self.reasons[code]
        values = {"city": self.city, "period": self.period}
        return {
            "code": code,
            "message": text.message.format(**values),
            "next_step": text.next_step.format(**values),
        }

    def as_public_dict(self) -> dict[str, Any]:
        return {
            "city": self.city,
            "months": self.months,
            "amounts": dict(self.amounts),
            "conditions": list(self.conditions),
            "materials": self.materials,
            "commitment_text": self.commitment_text,
            "period": self.period,
            "hotline": self.hotline,
            "sample_data": True,
        }


def load_policy(path: Path) -> RentSubsidyPolicy:
    """Read and check the YAML file; a broken file stops start-up with a clear message."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        reasons = {
            code: ReasonText(str(text["message"]), str(text["next_step"]))
            for code, text in raw["reasons"].items()
        }
        return RentSubsidyPolicy(
            city=str(raw["city"]),
            months=int(raw["months"]),
            amounts={str(degree): int(amount) for degree, amount in raw["amounts"].items()},
            conditions=[str(line) for line in raw["conditions"]],
            materials=str(raw["materials"]),
            commitment_text=str(raw["commitment_text"]),
            hotline=str(raw.get("hotline", "12345")),
            reasons=reasons,
            fixed_period=str(raw["period"]) if raw.get("period") else None,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"rent subsidy config {path} is invalid: {exc!r}") from exc
