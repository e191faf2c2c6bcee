"""Masking of personal data for logs and responses: raw ID, phone or card numbers never leave in clear."""

from __future__ import annotations

import re
import unicodedata


def _ascii_table() -> dict[int, str]:
    """Full-width forms (１３８…), other decimal digits, Unicode spaces and dashes as ASCII, one char for one."""
    table = {code: chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)}
    for digit in re.findall(r"\d", "".join(map(chr, range(0x80, 0x20000)))):
        table[ord(digit)] = str(unicodedata.digit(digit))
    table.update(dict.fromkeys([0x00A0, 0x200B, 0x200C, 0x200D, 0x2060, 0x3000, 0xFEFF, *range(0x2000, 0x200B)], " "))
    table.update(dict.fromkeys([0x00AD, 0x2212, 0xFE58, 0xFE63, *range(0x2010, 0x2016)], "-"))
    return table


_ASCII = _ascii_table()
_SEP = r"[\s\-]?"  # one space or dash between the blocks of a number
# Query strings and bytes reprs carry text escaped: %2B86%20138… or \xe5\xbc\xa0
_ESCAPED_BYTES = re.compile(r"(?:\\x[0-9a-fA-F]{2}|%[0-9a-fA-F]{2})+")
# GB 11643 in 6/8/4 or 6/4/4/4 blocks; mobile numbers with +86/0086/86 and 3/4/4 blocks; bank cards.
# Each pattern is a fixed sequence of bounded pieces: linear on any input.
_ID_IN_TEXT = re.compile(rf"(?<![\dXx])\d{{6}}{_SEP}\d{{4}}{_SEP}\d{{4}}{_SEP}\d{{3}}[\dXx](?![\dXx])")
_PHONE_IN_TEXT = re.compile(rf"(?<!\d)(?P<prefix>(?:\+|00)?86[\s\-]?)?1\d{{2}}{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)")
_CARD_IN_TEXT = re.compile(r"(?<!\d)(?:\d{16,19}|\d{4}([ \-])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?)(?!\d)")
# Plates (桂A12345) and VINs or VIN tails after a label (vin_tail=123456, 车架号…): the vehicle-transfer URLs carry
# them and the access log writes URLs. Bounded pieces only, so linear too.
_PLATE_IN_TEXT = re.compile(
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Za-hj-np-z][\s·•\-]?"
    r"[A-HJ-NP-Za-hj-np-z0-9]{5,6}(?![0-9A-Za-z])"
)
_VIN_IN_TEXT = re.compile(
    r"(?:(?<![A-Za-z])(?:vin_tail|vin)|车架号|车辆识别代号)[\s:：=]{0,3}(?P<value>[A-Za-z0-9]{6,17})(?![0-9A-Za-z])",
    re.IGNORECASE,
)
VIN_LENGTH = 17


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


def mask_vin(vin: str) -> str:
    """A full VIN keeps its first 3 characters (the manufacturer code, not personal); a tail or anything shorter is
    masked whole, because the last 6 prove ownership to the vehicle-transfer service."""
    if len(vin) == VIN_LENGTH:
        return vin[:3] + "*" * (VIN_LENGTH - 3)
    return "*" * len(vin)


def _decode_escaped(match: re.Match[str]) -> str:
    raw = bytes.fromhex(match.group(0).replace("\\x", "").replace("%", ""))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group(0)
    return text if text.isprintable() else match.group(0)  # never a line break into a log line


def _star(view: str, pattern: re.Pattern[str], head: int, tail: int, group: str | None = None) -> str:
    """The view with each match's digits (and X) starred except the first `head` and last `tail`; starred
    digits are no longer there for the next pattern (an ID is not a bank card too)."""
    chars = list(view)
    for match in pattern.finditer(view):
        start = match.end(group) if group and match.group(group) else match.start()
        positions = [i for i in range(start, match.end()) if view[i].isalnum()]
        for i in positions[head : len(positions) - tail]:
            chars[i] = "*"
    return "".join(chars)


def mask_text(text: str) -> str:
    """Mask anything in free text that looks like an ID, mobile or bank card number, a plate or a labelled VIN
    (used by the log filter)."""
    if "%" in text or "\\x" in text:
        text = _ESCAPED_BYTES.sub(_decode_escaped, text)
    view = text if text.isascii() else text.translate(_ASCII)
    masked = _star(view, _ID_IN_TEXT, 3, 2)
    masked = _star(masked, _PHONE_IN_TEXT, 3, 4, "prefix")
    masked = _star(masked, _CARD_IN_TEXT, 0, 4)
    masked = _star(masked, _PLATE_IN_TEXT, 2, 2)
    masked = _VIN_IN_TEXT.sub(lambda m: m.group(0)[: m.start("value") - m.start()] + mask_vin(m.group("value")), masked)
    if masked == view:
        return text
    # the writer's own characters (１３８) wherever the mask keeps them
    return "".join("*" if new == "*" else own for own, new in zip(text, masked, strict=True))
