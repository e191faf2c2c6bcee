"""Messages outside a turn (an operator's takeover reply) wait in the client's outbox until it asks for them with
GET /webhooks/rest/outbox?sender=<id>; each is returned once, in the same format as a turn's replies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from integrations.channels.outbox import OutboxOutputChannel, drain_outbox
from integrations.channels.rest.settings import CHANNEL
from integrations.channels.senders import sender_id as conversation_id
from integrations.channels.state import ChannelState


class RestOutput(OutboxOutputChannel):
    """Puts the message into the outbox of the conversation rest:<client id>; other channels' ids are refused."""

    def __init__(self, state: Callable[[], ChannelState]) -> None:
        super().__init__(CHANNEL, state)


def for_client(client_sender: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's reply format, addressed to the id the client knows (not the namespaced conversation id)."""
    return [{**message, "recipient_id": client_sender} for message in messages]


async def pending(state: ChannelState, client_sender: str) -> list[dict[str, Any]]:
    """What waits for this client, oldest first; the outbox is empty afterwards."""
    return for_client(client_sender, await drain_outbox(state, CHANNEL, conversation_id(CHANNEL, client_sender)))
