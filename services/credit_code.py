"""Unified social credit codes (GB 32100-2015): format and check character.

The check character comes from python-stdnum (`stdnum.cn.uscc`), like the assistant's validator
(actions/validators/). The format check is our own: stdnum's validate() also wants 8 leading digits, which
refuses codes of registering authorities written with a letter (e.g. Y for "other").
"""

from __future__ import annotations

import re

from stdnum.cn import uscc

# 18 characters of the GB 32100 alphabet (digits and capitals without I, O, S, V, Z).
_PATTERN = re.compile(r"^[0-9ABCDEFGHJKLMNPQRTUWXY]{18}$")
FORMAT, CHECKSUM = "format", "checksum"


def normalize(code: str) -> str:
    """Upper case, no spaces or dashes: citizens type codes in blocks and in lower case."""
    return re.sub(r"[\s\-]", "", code or "").upper()


def problem(code: str) -> str | None:
    """None for a valid (normalised) code, else FORMAT or CHECKSUM."""
    if not _PATTERN.match(code):
        return FORMAT
    return None if uscc.calc_check_digit(code) == code[17] else CHECKSUM


def is_valid(code: str) -> bool:
    return problem(normalize(code)) is None
