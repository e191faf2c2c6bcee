"""What the sandbox posts (docs/notifications.md), checked field by field, and the row the notifier keeps of it.

The subscriber is opened here (bot/sealing.py): the row keeps it sealed, plus the log's keyed hash of the
conversation (for opt-outs and the console's link) and its channel. An event whose subscriber cannot be opened (the
assistant's PII_SEAL_KEY changed) or names no channel is kept as undeliverable, so operators see it; asking the
back end to send it again would not help.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.masking import hash_sender_id, mask_text
from bot.notifier.models import UNDELIVERABLE
from bot.notifier.store import NewNotification
from bot.sealing import InvalidSeal, unseal
from integrations.channels.senders import channel_of

EVENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
LIMITS = {"service": 40, "reference": 64, "state": 40, "subscriber": 4000}
MAX_DETAIL_CHARS = 1000

NOT_JSON = "事件格式不正确：请发送 JSON 对象。"
BAD_FIELD = "事件字段 {field} 缺失或格式不正确。"
UNSEALABLE = "无法解开订阅方标识（订阅后 PII_SEAL_KEY 可能已更换），无法确定市民的会话，提醒未发送。"
NO_CHANNEL = "订阅方标识不是任何渠道的会话，提醒未发送。"


class BadEvent(ValueError):
    """The body is not an event; the message (Chinese) is the answer's text."""


@dataclass(frozen=True)
class Event:
    event_id: str
    service: str
    reference: str
    state: str
    detail: str
    subscriber: str
    occurred_at: float | None


def _text(data: dict[str, Any], field: str, limit: int, *, empty: bool = False) -> str:
    value = data.get(field, "" if empty else None)
    if not isinstance(value, str) or len(value) > limit or (not empty and not value.strip()):
        raise BadEvent(BAD_FIELD.format(field=field))
    return value.strip()


def _moment(value: Any) -> float | None:
    if value in (None, ""):
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise BadEvent(BAD_FIELD.format(field="occurred_at")) from error
    if moment.tzinfo is None:
        raise BadEvent(BAD_FIELD.format(field="occurred_at"))
    return moment.timestamp()


def parse(body: bytes) -> Event:
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadEvent(NOT_JSON) from error
    if not isinstance(data, dict):
        raise BadEvent(NOT_JSON)
    event_id = data.get("event_id")
    if not isinstance(event_id, str) or not EVENT_ID.fullmatch(event_id):
        raise BadEvent(BAD_FIELD.format(field="event_id"))
    return Event(
        event_id=event_id,
        service=_text(data, "service", LIMITS["service"]),
        reference=_text(data, "reference", LIMITS["reference"]),
        state=_text(data, "state", LIMITS["state"]),
        detail=_text(data, "detail", MAX_DETAIL_CHARS, empty=True),
        subscriber=_text(data, "subscriber", LIMITS["subscriber"]),
        occurred_at=_moment(data.get("occurred_at")),
    )


def to_notification(event: Event) -> NewNotification:
    """The row to keep: queued for delivery, or undeliverable at once when the conversation cannot be known."""
    known = {
        "event_id": event.event_id, "service": event.service, "reference": event.reference, "state": event.state,
        # Written by the back end for the citizen; masked all the same, like everything operators read.
        "detail": mask_text(event.detail), "occurred_at": event.occurred_at, "sealed_sender": event.subscriber,
    }
    try:
        conversation = unseal(event.subscriber)
    except InvalidSeal:
        return NewNotification(**known, sender_hash="", channel=None, status=UNDELIVERABLE, reason=UNSEALABLE)
    channel = channel_of(conversation)
    if channel is None:
        return NewNotification(**known, sender_hash=hash_sender_id(conversation), channel=None,
                               status=UNDELIVERABLE, reason=NO_CHANNEL)
    return NewNotification(**known, sender_hash=hash_sender_id(conversation), channel=channel)
