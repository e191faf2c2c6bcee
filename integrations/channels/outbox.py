"""The outbox: where messages sent outside a turn (an operator's takeover reply, the notice that the assistant is
back) wait for channels whose client pulls them (web chat, REST), in the channel state, until the page or client
fetches them. Each channel's output.py names its own output channel; see common.py for how delivery fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel

from integrations.channels.common import DeliveryFailed
from integrations.channels.senders import ForeignSender, user_id
from integrations.channels.state import ChannelState

OUTBOX_TTL = 24 * 3600  # a citizen who comes back to the page within a day still gets the operator's answer
# Keys of Rasa's bot message worth passing on; "operator" and the timestamp are turned into "from" and "sent_at".
_MESSAGE_KEYS = ("text", "buttons", "quick_replies", "image", "attachment", "custom")


def outbox_key(channel: str, sender_id: str) -> str:
    return f"outbox:{channel}:{sender_id}"


def sender_of(message: dict[str, Any]) -> str:
    """Who speaks: an operator's reply carries metadata {"operator": username} (console/takeover.py)."""
    return "operator" if message.get("operator") and not message.get("handback") else "assistant"


def outbox_entry(recipient_id: str, message: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"recipient_id": recipient_id}
    entry.update({key: message[key] for key in _MESSAGE_KEYS if message.get(key)})
    entry["from"] = sender_of(message)
    entry["sent_at"] = message.get("timestamp") or time.time()
    return entry


class OutboxOutputChannel(OutputChannel):
    """Puts each bot message into the recipient's outbox instead of sending it anywhere."""

    def __init__(self, channel: str, state: Callable[[], ChannelState]) -> None:
        self.channel = channel
        self._state = state  # a getter: the channel creates its state lazily on the server's loop

    @classmethod
    def name(cls) -> str:
        return "outbox"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            user_id(self.channel, recipient_id)
        except ForeignSender as error:
            raise DeliveryFailed("该会话不属于此渠道，消息未发送。") from error
        entry = outbox_entry(recipient_id, message)
        if len(entry) > 3:  # more than recipient, from and time: something to show
            await self._state().push(outbox_key(self.channel, recipient_id), entry, OUTBOX_TTL)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})


async def drain_outbox(state: ChannelState, channel: str, sender_id: str) -> list[dict[str, Any]]:
    return [m for m in await state.drain(outbox_key(channel, sender_id)) if isinstance(m, dict)]
