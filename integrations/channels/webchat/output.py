"""Messages outside a turn (an operator's takeover reply, "the assistant is back") wait in the browser's outbox until
the page polls GET /webhooks/webchat/updates; each is returned once, shown like a turn's replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.channels.outbox import OutboxOutputChannel, drain_outbox
from integrations.channels.senders import sender_id as conversation_id
from integrations.channels.state import ChannelState
from integrations.channels.webchat.settings import CHANNEL


class WebChatOutput(OutboxOutputChannel):
    """Puts the message into the outbox of the conversation web:<browser id>; other channels' ids are refused."""

    def __init__(self, state: Callable[[], ChannelState]) -> None:
        super().__init__(CHANNEL, state)


def for_browser(message: dict[str, Any]) -> dict[str, Any]:
    """Keep what the page shows (text and buttons); the recipient id is not the browser's business."""
    shown: dict[str, Any] = {}
    if message.get("text"):
        shown["text"] = str(message["text"])
    buttons = message.get("buttons") or message.get("quick_replies") or []
    if buttons:
        shown["buttons"] = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in buttons
        ]
    return shown


async def pending(state: ChannelState, browser_id: str) -> list[dict[str, Any]]:
    """What waits for this browser, oldest first, each with who wrote it; the outbox is empty afterwards."""
    waiting = await drain_outbox(state, CHANNEL, conversation_id(CHANNEL, browser_id))
    return [{**for_browser(m), "from": m.get("from", "assistant")} for m in waiting if for_browser(m)]
