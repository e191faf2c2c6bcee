"""Resident ID numbers (GB 11643-1999): format and check digit.

The check digit comes from python-stdnum (`stdnum.cn.ric`), like the assistant's validator (actions/validators/);
the sandbox keeps its own rules around it: 18 characters only, a real calendar date, no look-up of the region code.
"""

from __future__ import annotations

import re

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

_PATTERN = re.compile(r"^\d{17}[\dX]$")


def check_digit(first17: str) -> str:
    """The 18th character for the given first 17 digits (ISO 7064 MOD 11-2)."""
    # stdnum computes it from a whole number and ignores the last character: give it a placeholder.
    return ric.calc_check_digit(f"{first17}0")


def normalize(id_number: str) -> str:
    """Upper-case the check character and drop surrounding spaces: users type 'x' as often as 'X'."""
    return id_number.strip().upper()


def is_valid(id_number: str) -> bool:
    """True for an 18-character number with a real birth date and a matching check digit.

    Not `ric.is_valid`: that one also requires the region code to be in its own table, and the sandbox's made-up
    people need not live in a real county.
    """
    value = normalize(id_number)
    if not _PATTERN.match(value):
        return False
    try:
        ric.get_birth_date(value)
    except ValidationError:
        return False
    return check_digit(value[:17]) == value[17]
