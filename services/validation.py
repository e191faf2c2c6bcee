"""Reusable pydantic (v1) validators for citizen input."""

from __future__ import annotations

import re

from services import idcard

_PHONE = re.compile(r"^1[3-9]\d{9}$")


def clean_phone(value: str) -> str:
    """Accept common ways of typing a mobile number (spaces, dashes, +86) and return the 11 digits."""
    digits = re.sub(r"[\s-]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    if not _PHONE.match(digits):
        raise ValueError("invalid phone")
    return digits


def clean_id_number(value: str) -> str:
    normalized = idcard.normalize(value or "")
    if not idcard.is_valid(normalized):
        raise ValueError("invalid id number")
    return normalized


def clean_name(value: str) -> str:
    name = (value or "").strip()
    if not 1 <= len(name) <= 30 or any(char.isdigit() for char in name):
        raise ValueError("invalid name")
    return name
