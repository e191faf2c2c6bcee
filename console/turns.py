"""A conversation's masked events grouped into turns for the detail page.

A turn starts with a user message and holds what followed it until the next one: actions run, slot changes,
form changes, transaction results and bot replies. Its time is from the user message to the last bot reply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.names import SERVICE_LABELS, STATUS_LABELS, TRANSACTION_RESULT_SLOT, label

HIDDEN_ACTIONS = frozenset({"action_listen"})
TOP_ALTERNATIVES = 3


@dataclass
class Item:
    """One thing that happened after the user message, in order."""

    kind: str  # action | slot | form | result | bot | session
    event_id: int
    timestamp: float | None
    text: str = ""  # bot text, action or slot name, form name
    value: str = ""  # slot value (masked, as stored)
    buttons: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None


@dataclass
class UserMessage:
    event_id: int
    timestamp: float | None
    text: str
    intent: str | None
    confidence: float | None
    alternatives: list[tuple[str, float]]
    entities: list[dict[str, Any]]
    channel: str | None


@dataclass
class Turn:
    number: int  # 0 = what happened before the first user message
    user: UserMessage | None
    items: list[Item] = field(default_factory=list)

    @property
    def started_at(self) -> float | None:
        if self.user is not None:
            return self.user.timestamp
        return self.items[0].timestamp if self.items else None

    @property
    def response_seconds(self) -> float | None:
        """From the user message to the last bot reply of the turn."""
        replies = [i.timestamp for i in self.items if i.kind == "bot" and i.timestamp is not None]
        if self.user is None or self.user.timestamp is None or not replies:
            return None
        return max(0.0, max(replies) - self.user.timestamp)

    @property
    def results(self) -> list[dict[str, Any]]:
        return [i.result for i in self.items if i.result]


EXTERNAL_PREFIX = "EXTERNAL_"


def _value_text(value: Any) -> str:
    if value is None:
        return "（清空）"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _user(event_id: int, event: dict[str, Any]) -> UserMessage:
    parse_data = event.get("parse_data") if isinstance(event.get("parse_data"), dict) else {}
    intent = parse_data.get("intent") if isinstance(parse_data.get("intent"), dict) else {}
    name = intent.get("name")
    ranking = [r for r in parse_data.get("intent_ranking") or [] if isinstance(r, dict)]
    alternatives = [
        (str(r.get("name")), float(r.get("confidence") or 0)) for r in ranking if r.get("name") != name
    ][:TOP_ALTERNATIVES]
    entities = [e for e in parse_data.get("entities") or event.get("entities") or [] if isinstance(e, dict)]
    return UserMessage(
        event_id=event_id,
        timestamp=event.get("timestamp"),
        text=str(event.get("text") or ""),
        intent=name,
        confidence=intent.get("confidence"),
        alternatives=alternatives,
        entities=entities,
        channel=event.get("input_channel"),
    )


def _item(event_id: int, event: dict[str, Any]) -> Item | None:
    kind, ts = event.get("event"), event.get("timestamp")
    if kind == "action":
        name = str(event.get("name") or "")
        return None if name in HIDDEN_ACTIONS else Item("action", event_id, ts, name)
    if kind == "bot":
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        buttons = [str(b.get("title") or "") for b in data.get("buttons") or [] if isinstance(b, dict)]
        return Item("bot", event_id, ts, str(event.get("text") or ""), buttons=buttons)
    if kind == "slot":
        name, value = str(event.get("name") or ""), event.get("value")
        if name == TRANSACTION_RESULT_SLOT and isinstance(value, dict):
            result = {
                "service": label(SERVICE_LABELS, str(value.get("service"))),
                "status": str(value.get("status")),
                "status_label": label(STATUS_LABELS, str(value.get("status"))),
                "reference": value.get("reference"),
            }
            return Item("result", event_id, ts, name, _value_text(value), result=result)
        return Item("slot", event_id, ts, name, _value_text(value))
    if kind == "active_loop":
        return Item("form", event_id, ts, str(event.get("name") or ""))
    if kind in ("session_started", "restart", "pause", "resume"):
        return Item("session", event_id, ts, kind)
    return None


def is_external(intent: str | None) -> bool:
    """An intent a back-end process triggered (a progress notification, bot/notifier), not a citizen's message."""
    return bool(intent) and str(intent).startswith(EXTERNAL_PREFIX)


def build_turns(events: list[tuple[int, dict[str, Any]]]) -> list[Turn]:
    turns = [Turn(0, None)]
    for event_id, event in events:
        if event.get("event") == "user":
            user = _user(event_id, event)
            if is_external(user.intent):  # shown where it happened, not as something the citizen said
                turns[-1].items.append(Item("session", event_id, user.timestamp, "external"))
                continue
            turns.append(Turn(len(turns), user))
            continue
        item = _item(event_id, event)
        if item is not None:
            turns[-1].items.append(item)
    return turns if turns[0].items else turns[1:]
