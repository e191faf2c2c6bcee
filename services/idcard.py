"""Resident ID numbers (GB 11643-1999): format and check digit."""

from __future__ import annotations

import re
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_PATTERN = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """The 18th character for the given first 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def normalize(id_number: str) -> str:
    """Upper-case the check character and drop surrounding spaces: users type 'x' as often as 'X'."""
    return id_number.strip().upper()


def is_valid(id_number: str) -> bool:
    """True for an 18-character number with a real birth date and a matching check digit."""
    value = normalize(id_number)
    if not _PATTERN.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return check_digit(value[:17]) == value[17]
