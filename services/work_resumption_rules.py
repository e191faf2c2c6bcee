"""The work-resumption filing rules, loaded from services/config/work_resumption.yml (configuration, not constants)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from services.tax_calendar import is_working_day


@dataclass(frozen=True)
class NegativeListEntry:
    name: str
    industries: frozenset[str]
    reason: str
    next_step: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "industries": sorted(self.industries),
            "reason": self.reason,
            "next_step": self.next_step,
        }


@dataclass(frozen=True)
class ReviewLevel:
    code: str
    level: str
    working_days: int
    max_staff: int | None  # None: no upper bound (the last tier)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "level": self.level,
            "working_days": self.working_days,
            "max_staff": self.max_staff,
        }


@dataclass(frozen=True)
class WorkResumptionRules:
    min_days_ahead: int
    min_supplies_days: int
    staff_per_isolation_room: int
    min_isolation_rooms: int
    negative_list: tuple[NegativeListEntry, ...]
    review_levels: tuple[ReviewLevel, ...]
    commitment_text: str
    hotline: str
    max_days_ahead: int = 90

    def earliest_planned_date(self, today: date) -> date:
        return today + timedelta(days=self.min_days_ahead)

    def rooms_needed(self, returning_staff: int) -> int:
        return max(self.min_isolation_rooms, math.ceil(returning_staff / self.staff_per_isolation_room))

    def negative_entry(self, industry: str | None) -> NegativeListEntry | None:
        return next((entry for entry in self.negative_list if industry in entry.industries), None)

    def review_level(self, staff: int) -> ReviewLevel:
        return next(level for level in self.review_levels if level.max_staff is None or staff <= level.max_staff)

    def add_working_days(self, start: date, days: int) -> date:
        """The day on which `days` working days after `start` have passed (the start day itself not counted)."""
        current = start
        for _ in range(days):
            current += timedelta(days=1)
            while not is_working_day(current):
                current += timedelta(days=1)
        return current

    def as_public_dict(self, today: date) -> dict[str, Any]:
        return {
            "today": today.isoformat(),
            "min_days_ahead": self.min_days_ahead,
            "earliest_planned_date": self.earliest_planned_date(today).isoformat(),
            "min_supplies_days": self.min_supplies_days,
            "staff_per_isolation_room": self.staff_per_isolation_room,
            "min_isolation_rooms": self.min_isolation_rooms,
            "negative_list": [entry.as_dict() for entry in self.negative_list],
            "review_levels": [level.as_dict() for level in self.review_levels],
            "commitment_text": self.commitment_text,
            "hotline": self.hotline,
            "sample_data": True,
        }


def _negative_list(raw: list[dict[str, Any]]) -> tuple[NegativeListEntry, ...]:
    return tuple(
        NegativeListEntry(
            name=str(item["name"]),
            industries=frozenset(str(name) for name in item["industries"]),
            reason=str(item["reason"]),
            next_step=str(item["next_step"]),
        )
        for item in raw
    )


def _review_levels(raw: list[dict[str, Any]]) -> tuple[ReviewLevel, ...]:
    levels = tuple(
        ReviewLevel(
            code=str(item["code"]),
            level=str(item["level"]),
            working_days=int(item["working_days"]),
            max_staff=int(item["max_staff"]) if item.get("max_staff") is not None else None,
        )
        for item in raw
    )
    # Without an open-ended last tier a large company would have no reviewer at all.
    if not levels or levels[-1].max_staff is not None:
        raise ValueError("the last review level must have no max_staff")
    return levels




def load_rules(path: Path) -> WorkResumptionRules:
    """Read and check the YAML file; a broken file stops start-up with a clear message."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        rules = WorkResumptionRules(
            min_days_ahead=int(raw.get("min_days_ahead", 3)),
            min_supplies_days=int(raw.get("min_supplies_days", 3)),
            staff_per_isolation_room=int(raw["staff_per_isolation_room"]),
            min_isolation_rooms=int(raw.get("min_isolation_rooms", 1)),
            negative_list=_negative_list(raw.get("negative_list") or []),
            review_levels=_review_levels(raw["review_levels"]),
            commitment_text=str(raw["commitment_text"]).strip(),
            hotline=str(raw.get("hotline", "12345")),
            max_days_ahead=int(raw.get("max_days_ahead", 90)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"work resumption config {path} is invalid: {exc!r}") from exc
    if rules.staff_per_isolation_room < 1 or rules.min_days_ahead < 0:
        raise ValueError(f"work resumption config {path} is invalid: numbers out of range")
    return rules
