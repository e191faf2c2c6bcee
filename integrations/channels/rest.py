"""Rasa's REST channel plus an outbox: POST /webhooks/rest/webhook works exactly as in Rasa; messages sent outside
a turn (an operator's takeover reply, the notice that the assistant is back) wait at
GET /webhooks/rest/outbox?sender=<sender id> until the client fetches them (each message is returned once).

credentials.yml: `integrations.channels.rest.RestInput:` in place of `rest:` (same channel name "rest").
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from integrations.channels.common import OnNewMessage
from integrations.channels.output import OutboxOutputChannel, drain_outbox
from integrations.channels.state import ChannelState, channel_state

MAX_SENDER_CHARS = 256
ERROR_NO_SENDER = "请在查询参数 sender 中提供会话标识（发送消息时使用的 sender）。"

_dumps = partial(json.dumps, ensure_ascii=False)


class RestInput(RasaRestInput):
    """Registered in credentials.yml as `integrations.channels.rest.RestInput:` (no settings)."""

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        return cls()

    def __init__(self, state: ChannelState | None = None) -> None:
        self._state = state

    @property
    def state(self) -> ChannelState:
        # Created on first use, inside the server's event loop (the Redis client binds to it).
        if self._state is None:
            self._state = channel_state()
        return self._state

    def get_output_channel(self) -> OutputChannel | None:
        return OutboxOutputChannel(self.name(), lambda: self.state)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = super().blueprint(on_new_message)

        @webhook.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            sender = request.args.get("sender", "")
            if not sender or len(sender) > MAX_SENDER_CHARS:
                return response.json({"error": ERROR_NO_SENDER}, status=400, dumps=_dumps)
            return response.json(await drain_outbox(self.state, self.name(), sender), dumps=_dumps)

        return webhook

