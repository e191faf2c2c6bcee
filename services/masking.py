"""Masking of personal data for logs and responses: raw ID or phone numbers never leave in clear."""

from __future__ import annotations

import re

_PHONE_IN_TEXT = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")
_ID_IN_TEXT = re.compile(r"(?<![\dXx])(\d{3})\d{13}([\dXx]{2})(?![\dXx])")


def mask_id_number(id_number: str) -> str:
    """First 3 + last 2 characters: 330*************23."""
    if len(id_number) < 6:
        return "*" * len(id_number)
    return id_number[:3] + "*" * (len(id_number) - 5) + id_number[-2:]


def mask_phone(phone: str) -> str:
    """138****0001."""
    if len(phone) != 11:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """Keep the family name only: 陈晓 → 陈*."""
    if not name:
        return name
    return name[0] + "*" * max(1, len(name) - 1)


def mask_account(account: str) -> str:
    """Bank card: 6222 **** **** 1234."""
    digits = account.replace(" ", "")
    if len(digits) < 8:
        return "****"
    return f"{digits[:4]} **** **** {digits[-4:]}"


def mask_text(text: str) -> str:
    """Mask anything in free text that looks like an ID or mobile number (used by the log filter)."""
    text = _ID_IN_TEXT.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
