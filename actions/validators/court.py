"""Validators of the court services (actions/court.py): case numbers, consent to an online hearing, a choice."""

from __future__ import annotations

import re

from actions.validators.common import CONFIRMED, DECLINED, FULLWIDTH, REFUSAL, Invalid, Result, Valid
from bot.case_numbers import normalise_case_number

AGREED, REFUSED = "agreed", "refused"
# "不同意在线开庭，我去法院" holds 同意: a refusal is looked for first.
CONSENT_REFUSAL = re.compile(
    r"不同意|不想|不要|不愿|拒绝|不接受|不方便|到庭|到法院|去法院|到检察院|去检察院|现场|线下|当面"
)
CONSENT_AGREEMENT = re.compile(r"同意|可以|愿意|接受|没问题|好的|行|在线|线上|网上|视频|远程")
ORDINAL = re.compile(r"^\s*第?\s*([1-9])\s*(?:个|场|件|号)?\s*$")


def validate_case_number(text: str) -> Result:
    """A case number in its usual writings, as the courts write it with half-width brackets: (2020)浙0106民初1234号."""
    value = normalise_case_number(text.translate(FULLWIDTH))
    return Valid(value) if value else Invalid("utter_invalid_case_number")


def validate_consent(text: str) -> Result:
    """Agree to an online (video) hearing, or attend in person; buttons and yes/no arrive as CONFIRMED/DECLINED."""
    if text in (CONFIRMED, AGREED):
        return Valid(AGREED)
    if text in (DECLINED, REFUSED) or CONSENT_REFUSAL.search(text) or REFUSAL.search(text):
        return Valid(REFUSED)
    if CONSENT_AGREEMENT.search(text):
        return Valid(AGREED)
    return Invalid("utter_invalid_court_consent")


def validate_choice(text: str) -> Result:
    """A position in a list the assistant showed ("2", "第2个"), or a case number."""
    found = ORDINAL.match(text.translate(FULLWIDTH))
    if found:
        return Valid(found.group(1))
    value = normalise_case_number(text.translate(FULLWIDTH))
    return Valid(value) if value else Invalid("utter_invalid_court_choice_format")
