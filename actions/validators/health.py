"""Validators of the health declaration and the daily check-in (actions/health_code.py)."""

from __future__ import annotations

import re

from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    FULLWIDTH,
    Invalid,
    Result,
    Valid,
)

NONE = "none"  # "no symptoms": a slot needs a value, and an empty list would read as "not answered"
SYMPTOM_WORDS = {
    "fever": r"发烧|发热|高烧|低烧|烧",
    "cough": r"咳嗽|咳",
    "fatigue": r"乏力|没力气|没劲|疲劳|无力|疲倦|累",
}
# "不发烧" / "没有咳嗽" name a symptom to deny it: removed before looking for symptoms.
NEGATED_SYMPTOM = re.compile(r"(没有|没|不|无|未)(?:怎么)?(" + "|".join(SYMPTOM_WORDS.values()) + ")")
NO_SYMPTOMS = re.compile(r"没有|没|无|正常|健康|都好|挺好|良好|很好|没事|none", re.IGNORECASE)
# "算了不办了" is no answer to a yes/no or symptoms question: the form must see the cancel, not a "no".
STOP_WORDS = re.compile(r"不办|不弄|不填|取消|算了|退出|不想")
# 36.5 / 36.5℃ / 36度5 / 36点5度: a plausible reading is 34 to 43 degrees Celsius.
TEMPERATURE = re.compile(r"(?<![\d.])(\d{2})(?:(?:[.．。点]|度)(\d))?(?![\d.])")
TEMPERATURE_RANGE = (34.0, 43.0)
UNSURE = re.compile(r"不清楚|不确定|不知道|不记得|记不清|说不好|不太清楚")
NO = re.compile(r"没有|没去|没接触|没|未|否|不是|不曾|无")
YES = re.compile(r"有|是|去过|到过|接触过|对|嗯|yes", re.IGNORECASE)


def validate_symptoms(text: str) -> Result:
    """Symptom codes ("fever,cough") or NONE."""
    if STOP_WORDS.search(text):
        return Invalid("utter_invalid_symptoms")
    rest = NEGATED_SYMPTOM.sub("", text)
    found = [code for code, words in SYMPTOM_WORDS.items() if re.search(words, rest)]
    if found:
        return Valid(",".join(found))
    if rest != text or NO_SYMPTOMS.search(text):
        return Valid(NONE)
    return Invalid("utter_invalid_symptoms")


def symptom_codes(value: str | None) -> list[str]:
    return [] if not value or value == NONE else value.split(",")


def validate_temperature(text: str) -> Result:
    found = TEMPERATURE.search(text.translate(FULLWIDTH))
    if not found:
        return Invalid("utter_invalid_temperature")
    value = float(f"{found.group(1)}.{found.group(2) or 0}")
    low, high = TEMPERATURE_RANGE
    if not low <= value <= high:
        return Invalid("utter_invalid_temperature_range", {"value": f"{value:g}"})
    return Valid(f"{value:.1f}")


def validate_yes_no(text: str) -> Result:
    """A yes or no in words ("没去过", "接触过"); buttons and yes/no intents arrive as CONFIRMED / DECLINED."""
    if text in (CONFIRMED, DECLINED):
        return Valid(text)
    if STOP_WORDS.search(text):
        return Invalid("utter_invalid_yes_no")
    if UNSURE.search(text):
        return Invalid("utter_invalid_yes_no_unsure")
    if NO.search(text):
        return Valid(DECLINED)
    if YES.search(text):
        return Valid(CONFIRMED)
    return Invalid("utter_invalid_yes_no")


def validate_appeal_reason(text: str) -> Result:
    value = text.strip()
    if len(value) < 4:
        return Invalid("utter_invalid_appeal_reason_short")
    if len(value) > 500:
        return Invalid("utter_invalid_appeal_reason_long", {"length": len(value)})
    return Valid(value)
