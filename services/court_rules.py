"""The court and procuratorate service's rules and wording, loaded from services/config/court.yml (configuration,
not constants). Read once at start-up (services/app.py): a broken file stops the start with a message naming it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_CONFIG = Path(__file__).resolve().parent / "config" / "court.yml"

# The case stages in their fixed order, and every FAQ answer the assistant relies on (the file must word each).
STAGE_CODES = ("filed", "pretrial", "hearing_scheduled", "mediation", "judged", "closed")
FAQ_KEYS = (
    "online_refusal",
    "online_how",
    "identity_check",
    "mediation_effect",
    "litigation_fee",
    "case_stages",
    "procuratorate_hearing",
    "reschedule",
)
MODES = ("pending", "online", "in_person")
HEARING_TEXTS = (
    "court_how_it_works",
    "procuratorate_how_it_works",
    "procuratorate_joining_instructions",
    "change_consent_court",
    "change_consent_procuratorate",
)
MEDIATION_TEXTS = ("me_to_sign", "others_signed", "others_waiting", "waiting_others", "waiting", "all_signed")


@dataclass(frozen=True)
class CaseStage:
    code: str
    name: str
    description: str
    next_step: str  # hearing_scheduled: a template with {when}, {place}, {mode_text}


@dataclass(frozen=True)
class CourtRules:
    hotline: str
    procuratorate_hotline: str
    case_number_example: str
    faq: dict[str, str]
    joining_instructions: str
    identity_recheck: str
    in_court_note: str
    procuratorate_note: str
    hearing: dict[str, str]
    stages: tuple[CaseStage, ...]
    mode_text: dict[str, str]
    review_days: int
    mediation: dict[str, str]

    def stage(self, code: str) -> CaseStage:
        return next(stage for stage in self.stages if stage.code == code)

    def as_public_dict(self) -> dict[str, Any]:
        return {
            "faq": dict(self.faq),
            "hotline": self.hotline,
            "joining_instructions": self.joining_instructions,
            "identity_recheck": self.identity_recheck,
            "in_court_note": self.in_court_note,
            "procuratorate_note": self.procuratorate_note,
            "sample_data": True,
        }


def _text(value: Any, name: str) -> str:
    if value is None or isinstance(value, dict | list):
        raise ValueError(f"{name} must be a text")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{name} must not be empty")
    return text


def _texts(raw: dict[str, Any], keys: tuple[str, ...], name: str) -> dict[str, str]:
    missing = [key for key in keys if key not in raw]
    if missing:
        raise ValueError(f"{name} missing: {missing}")
    return {key: _text(raw[key], f"{name}.{key}") for key in keys}


def _stages(raw: list[dict[str, Any]]) -> tuple[CaseStage, ...]:
    stages = tuple(
        CaseStage(
            code=str(item["code"]),
            name=_text(item["name"], "stage name"),
            description=_text(item["description"], "stage description"),
            next_step=_text(item["next_step"], "stage next_step"),
        )
        for item in raw
    )
    if tuple(stage.code for stage in stages) != STAGE_CODES:
        raise ValueError(f"stages must be exactly {STAGE_CODES} in this order")
    return stages


def _check_templates(rules: CourtRules) -> None:
    """Every placeholder must be one the service fills in: a typo would otherwise fail a citizen's request."""
    samples = {"when": "", "place": "", "mode_text": "", "version": 1, "waiting": "", "court": "", "days": 1,
               "decision": "", "others": ""}
    texts = [rules.stage("hearing_scheduled").next_step, *rules.mediation.values(),
             rules.hearing["change_consent_court"], rules.hearing["change_consent_procuratorate"]]
    for text in texts:
        try:
            text.format(**samples)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"unknown placeholder in {text[:30]!r}…: {exc!r}") from exc


def load_court_rules(path: Path | None = None) -> CourtRules:
    """Read and check the YAML file; a broken file raises a ValueError naming the file and the problem."""
    path = Path(path or DEFAULT_CONFIG)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        mediation = raw["mediation"]
        rules = CourtRules(
            hotline=_text(raw.get("hotline", "12368"), "hotline"),
            procuratorate_hotline=_text(raw.get("procuratorate_hotline", "12309"), "procuratorate_hotline"),
            case_number_example=_text(raw["case_number_example"], "case_number_example"),
            faq=_texts(raw["faq"], FAQ_KEYS, "faq"),
            joining_instructions=_text(raw["joining_instructions"], "joining_instructions"),
            identity_recheck=_text(raw["identity_recheck"], "identity_recheck"),
            in_court_note=_text(raw["in_court_note"], "in_court_note"),
            procuratorate_note=_text(raw["procuratorate_note"], "procuratorate_note"),
            hearing=_texts(raw["hearing"], HEARING_TEXTS, "hearing"),
            stages=_stages(raw["stages"]),
            mode_text=_texts(raw["mode_text"], MODES, "mode_text"),
            review_days=int(mediation["review_days"]),
            mediation=_texts(mediation, MEDIATION_TEXTS, "mediation"),
        )
        if rules.review_days < 1:
            raise ValueError("mediation.review_days must be at least 1")
        _check_templates(rules)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"court config {path} is invalid: {exc!r}") from exc
    return rules
