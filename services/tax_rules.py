"""The e-tax guidance rules, loaded from services/config/tax.yml (configuration, not constants).

Pure calculations only (deadlines, surcharges, names); the database side is services/tax.py.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from services import tax_calendar

FEN = Decimal("0.01")
QUARTER_FILING_MONTHS = (1, 4, 7, 10)


def shift_month(year: int, month: int, delta: int) -> tuple[int, int]:
    """(2026, 1) shifted by -1 → (2025, 12)."""
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has none (1月31日 + 1 → 2月28日)."""
    year, month = shift_month(day.year, day.month, months)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class TaxKind:
    name: str  # 增值税
    aliases: frozenset[str]  # normalised (lower case, no spaces)
    cycle: str  # monthly / quarterly
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "cycle": self.cycle, "note": self.note}


@dataclass(frozen=True)
class TaxpayerKind:
    name: str  # 小规模纳税人
    description: str


@dataclass(frozen=True)
class HowToFile:
    title: str
    steps: tuple[str, ...]
    tips: str

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "steps": list(self.steps), "tips": self.tips}


@dataclass(frozen=True)
class Reconciliation:
    """个人综合所得年度汇算: the window in the year after the tax year."""

    tax: str
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]
    period_suffix: str  # 年度综合所得汇算

    def window(self, tax_year: int) -> tuple[date, date]:
        return date(tax_year + 1, *self.start), date(tax_year + 1, *self.end)


@dataclass(frozen=True)
class TaxRules:
    hotline: str
    filing_day: int
    long_holiday_min_days: int
    deadline_rule_text: str
    uncovered_note: str
    daily_rate: Decimal
    rate_text: str  # 万分之五
    max_amount: Decimal
    max_days: int
    surcharge_basis: str
    deferral_max_months: int
    deferral_decision_days: int
    deferral_rule_text: str
    deferral_approval_note: str
    deferral_conditions: tuple[str, ...]
    taxpayer_kinds: dict[str, TaxpayerKind]
    cycle_texts: dict[str, str]
    taxes: tuple[TaxKind, ...]
    reconciliation: Reconciliation
    how_to_file: HowToFile

    @property
    def rate_percent(self) -> str:
        """0.0005 → "0.05%"."""
        return f"{(self.daily_rate * 100).normalize():f}%"

    def tax(self, raw: str | None) -> TaxKind | None:
        wanted = normalise_tax_name(raw or "")
        matches = (tax for tax in self.taxes if wanted == normalise_tax_name(tax.name) or wanted in tax.aliases)
        return next(matches, None)

    def deadline(self, year: int, month: int) -> tax_calendar.Deadline:
        return tax_calendar.filing_deadline(year, month, self.filing_day, self.long_holiday_min_days)

    def current_filing_month(self, today: date) -> tuple[int, int]:
        """The filing month whose deadline has not passed yet: this month until its deadline, then the next one."""
        if self.deadline(today.year, today.month).deadline >= today:
            return today.year, today.month
        return shift_month(today.year, today.month, 1)

    def surcharge(self, amount: Decimal, days: int) -> Decimal:
        """amount × daily rate × days, rounded half up to the fen."""
        return (amount * self.daily_rate * days).quantize(FEN, rounding=ROUND_HALF_UP)

    def uncovered_text(self, years: list[int]) -> str:
        first, last = tax_calendar.covered_years()
        listed = "、".join(str(year) for year in sorted(set(years)))
        return self.uncovered_note.format(years=listed, first=first, last=last)

    def taxpayer_kind_text(self, code: str | None) -> str | None:
        kind = self.taxpayer_kinds.get(code or "")
        return kind.name if kind else None


def normalise_tax_name(name: str) -> str:
    return "".join(name.split()).lower()


def _taxes(raw: list[dict[str, Any]]) -> tuple[TaxKind, ...]:
    taxes = tuple(
        TaxKind(
            name=str(item["name"]),
            aliases=frozenset(normalise_tax_name(str(alias)) for alias in item.get("aliases") or []),
            cycle=str(item.get("cycle", "monthly")),
            note=str(item.get("note") or ""),
        )
        for item in raw
    )
    if not taxes or any(tax.cycle not in ("monthly", "quarterly") for tax in taxes):
        raise ValueError("taxes must list at least one tax, each monthly or quarterly")
    return taxes


def _month_day(value: Any) -> tuple[int, int]:
    month, day = (int(part) for part in str(value).split("-"))
    date(2000, month, day)  # a leap year: 02-29 is allowed, 02-30 is not
    return month, day


def _reconciliation(raw: dict[str, Any]) -> Reconciliation:
    return Reconciliation(
        tax=str(raw["tax"]),
        start=_month_day(raw["start"]),
        end=_month_day(raw["end"]),
        period_suffix=str(raw["period_suffix"]),
    )


def _deadline_part(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "filing_day": int(raw["filing_day"]),
        "long_holiday_min_days": int(raw["long_holiday_min_days"]),
        "deadline_rule_text": str(raw["rule_text"]).strip(),
        "uncovered_note": str(raw["uncovered_note"]).strip(),
    }


def _surcharge_part(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "daily_rate": Decimal(str(raw["daily_rate"])),
        "rate_text": str(raw["rate_text"]),
        "max_amount": Decimal(str(raw["max_amount"])),
        "max_days": int(raw["max_days"]),
        "surcharge_basis": str(raw.get("basis", "")),
    }


def _deferral_part(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "deferral_max_months": int(raw["max_months"]),
        "deferral_decision_days": int(raw["decision_days"]),
        "deferral_rule_text": str(raw["rule_text"]).strip(),
        "deferral_approval_note": str(raw["approval_note"]).strip(),
        "deferral_conditions": tuple(str(item) for item in raw.get("conditions") or []),
    }


def _check(rules: TaxRules, path: Path) -> None:
    problems = []
    if not 1 <= rules.filing_day <= 28:
        problems.append("deadline.filing_day must be 1–28")
    if rules.long_holiday_min_days < 1:
        problems.append("deadline.long_holiday_min_days must be at least 1")
    if not Decimal(0) < rules.daily_rate < Decimal(1) or rules.max_amount <= 0 or rules.max_days < 1:
        problems.append("surcharge numbers out of range")
    if rules.deferral_max_months < 1:
        problems.append("deferral.max_months must be at least 1")
    if problems:
        raise ValueError(f"tax config {path} is invalid: {'; '.join(problems)}")


def load_tax_rules(path: Path) -> TaxRules:
    """Read and check the YAML file; a broken file stops start-up with a clear message."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    try:
        how = raw["how_to_file"]
        rules = TaxRules(
            hotline=str(raw.get("hotline", "12366")),
            **_deadline_part(raw["deadline"]),
            **_surcharge_part(raw["surcharge"]),
            **_deferral_part(raw["deferral"]),
            taxpayer_kinds={
                str(code): TaxpayerKind(str(item["name"]), str(item["description"]))
                for code, item in raw["taxpayer_kinds"].items()
            },
            cycle_texts={str(code): str(text) for code, text in raw["cycles"].items()},
            taxes=_taxes(raw["taxes"]),
            reconciliation=_reconciliation(raw["annual_reconciliation"]),
            how_to_file=HowToFile(str(how["title"]), tuple(str(step) for step in how["steps"]), str(how["tips"])),
        )
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as exc:
        raise ValueError(f"tax config {path} is invalid: {exc!r}") from exc
    _check(rules, path)
    return rules
