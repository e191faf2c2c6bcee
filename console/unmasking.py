"""What an unmask shows: one conversation's messages and slot values as the citizen and the assistant wrote them,
read from Rasa's live tracker, except its secrets.

An admin who states a reason sees personal values (name, ID number, phone) raw. Secrets and credentials are never
shown: identity tokens, verification ids, SMS codes, passwords, that is every field bot.masking masks as a secret
(its secret masker). They stay masked wherever they are: slot values (also inside a structured slot), what the
citizen typed (a bare code after the assistant asked for one, a payload, "密码是…"), what the assistant echoed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from bot.masking import (
    SECRET_MASK,
    asks_for_code,
    expected_reply_values,
    is_secret_field,
    mask_labelled_secrets,
    personal_values,
)

SHOWN_EVENTS = ("user", "bot", "slot")
REQUESTED_SLOT = "requested_slot"


def secret_values(events: Iterable[dict[str, Any]]) -> set[str]:
    """Every raw secret the conversation carries: secret slots and entities, payload fields, and the citizen's
    bare reply when the assistant had just asked for a secret (requested_slot, or "请输入验证码")."""
    found: set[str] = set()
    expecting: str | None = None  # the secret field the assistant has just asked for
    for event in events:
        kind = event.get("event")
        found.update(raw for raw, field in personal_values(event).items() if is_secret_field(field))
        if kind == "user" and expecting:
            found.update(expected_reply_values(expecting, event.get("text")))
        if kind == "slot" and event.get("name") == REQUESTED_SLOT:
            expecting = event.get("value") if is_secret_field(event.get("value")) else None
        elif kind == "bot" and asks_for_code(event.get("text")):
            expecting = "sms_code"
        elif kind == "user" or (kind == "active_loop" and not event.get("name")):
            expecting = None  # answered, or the form ended
    return {value for value in found if len(value) >= 2}


def hide_secrets(text: str, secrets: set[str]) -> str:
    """The text with every known secret, and every secret the text itself names ("验证码是482913", "密码：…"),
    replaced by SECRET_MASK; everything else stays raw."""
    for raw in sorted(secrets, key=len, reverse=True):
        if raw.isascii():  # "482913" must not hit the middle of a longer number
            text = re.sub(rf"(?<![0-9A-Za-z]){re.escape(raw)}(?![0-9A-Za-z])", SECRET_MASK, text)
        else:
            text = text.replace(raw, SECRET_MASK)
    return mask_labelled_secrets(text)


def shown_value(name: str, value: Any, secrets: set[str]) -> Any:
    """A slot value as the unmask page shows it: raw, except secrets (by field name, at any depth)."""
    if is_secret_field(name):
        return SECRET_MASK
    if isinstance(value, dict):
        return {key: shown_value(str(key), item, secrets) for key, item in value.items()}
    if isinstance(value, list):
        return [shown_value(name, item, secrets) for item in value]
    if isinstance(value, str):
        return hide_secrets(value, secrets)
    return value


def raw_rows(tracker: dict[str, Any], since: float, until: float) -> list[dict[str, Any]]:
    """The conversation's messages and slot values between `since` and `until`, raw except for secrets."""
    events = [event for event in tracker.get("events") or [] if isinstance(event, dict)]
    secrets = secret_values(events)
    rows = []
    for event in events:
        stamp = event.get("timestamp") or 0.0
        if event.get("event") not in SHOWN_EVENTS or not since <= stamp <= until:
            continue
        if event["event"] == "slot":
            name = str(event.get("name"))
            if event.get("value") is None or name == REQUESTED_SLOT:
                continue
            value = shown_value(name, event["value"], secrets)
            rows.append({"time": stamp, "who": "槽位", "text": f"{name} = {value}"})
        elif event.get("text"):
            who = "用户" if event["event"] == "user" else "助手"
            rows.append({"time": stamp, "who": who, "text": hide_secrets(str(event["text"]), secrets)})
    return rows
