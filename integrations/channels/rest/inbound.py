"""The REST channel for tests, scripts and server-to-server integrations, in Rasa's request and reply format.

POST /webhooks/rest/webhook   {"sender": "<id>", "message": "..."} → [{"recipient_id": "<id>", "text": ..., ...}]
GET  /webhooks/rest/outbox?sender=<id>   messages sent outside a turn (an operator's takeover reply), each once

Unlike Rasa's own REST channel, the client chooses only its own id inside the `rest:` namespace: the conversation is
`rest:<id>` and the input channel is always "rest", so no request can continue a WeChat, Telegram or web chat
conversation. Client metadata is ignored, a typed payload counts only when it is a button this sender was shown,
and messages are length-checked and rate-limited before Rasa sees them.

Who may use it (everyone in development; in production only with REST_CHANNEL_ENABLED and a bearer token) is
settings.py's part; messages sent outside a turn wait in the client's outbox (output.py).
"""

from __future__ import annotations

import hmac
import json
import logging
from functools import partial
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.masking import hash_sender_id
from bot.settings import is_production
from integrations.channels.common import (
    SLOW_DOWN_TEXT,
    TOO_LONG_TEXT,
    BadRequest,
    OnNewMessage,
    RateLimit,
    allow_message,
    clean_text,
    collect_turn,
    json_object,
    limit_body,
    read_body,
    remember_buttons,
    too_long,
    trusted_text,
)
from integrations.channels.rest.output import RestOutput, for_client, pending
from integrations.channels.rest.settings import CHANNEL, MAX_BODY_BYTES, SENDER, RestSettings
from integrations.channels.senders import sender_id as conversation_id
from integrations.channels.state import ChannelState, channel_state

logger = logging.getLogger(__name__)

ERROR_DISABLED = "REST 渠道在生产环境中未开启（需设置 REST_CHANNEL_ENABLED 和 REST_CHANNEL_TOKEN）。"
ERROR_TOKEN = "REST 渠道需要访问令牌：请在请求头中提供 Authorization: Bearer <REST_CHANNEL_TOKEN>。"
ERROR_BAD_JSON = "请求格式不正确：请发送 JSON 对象，例如 {\"sender\": \"user-1\", \"message\": \"你好\"}。"
ERROR_TOO_LARGE = TOO_LONG_TEXT  # only an over-long message makes a body this large
ERROR_SENDER = "请提供会话标识 sender（1 至 128 个字符，可用字母、数字和 . _ : @ -）。"
ERROR_MESSAGE = "请提供文字消息 message。"
ERROR_TURN_FAILED = "抱歉，系统暂时繁忙，请稍后重试。"

_dumps = partial(json.dumps, ensure_ascii=False)


def error(message: str, status: int) -> HTTPResponse:
    return response.json({"error": message}, status=status, dumps=_dumps)


def parse_request(body: bytes) -> tuple[str, str]:
    """(client sender id, message text) from the body; BadRequest with a Chinese message otherwise."""
    data = json_object(body, MAX_BODY_BYTES, bad_json=ERROR_BAD_JSON, too_large=ERROR_TOO_LARGE)
    sender, message = data.get("sender"), data.get("message")
    if not isinstance(sender, str) or not SENDER.fullmatch(sender):
        raise BadRequest(ERROR_SENDER)
    if not isinstance(message, str) or not clean_text(message).strip():
        raise BadRequest(ERROR_MESSAGE)
    return sender, clean_text(message)


class RestInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        return cls()

    def __init__(self, state: ChannelState | None = None, settings: RestSettings | None = None) -> None:
        self._state = state
        self.settings = settings or RestSettings.from_env()
        self.rate = RateLimit.from_env()
        if is_production() and not self.settings.enabled:
            logger.info("REST channel is off in production (REST_CHANNEL_ENABLED and REST_CHANNEL_TOKEN not set)")

    @property
    def state(self) -> ChannelState:
        # Created on first use, inside the server's event loop (the Redis client binds to it).
        if self._state is None:
            self._state = channel_state()
        return self._state

    def get_output_channel(self) -> OutputChannel | None:
        return RestOutput(lambda: self.state)

    def refusal(self, request: Request) -> HTTPResponse | None:
        """Why this request may not use the channel (off in production, token missing), or None."""
        if not self.settings.enabled:
            return error(ERROR_DISABLED, 403)
        if self.settings.token is None:
            return None
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.settings.token.encode()):
            return None
        return error(ERROR_TOKEN, 401)

    async def answer(self, on_new_message: OnNewMessage, client_sender: str, text: str) -> list[dict[str, Any]]:
        sender = conversation_id(CHANNEL, client_sender)
        if too_long(text):
            return [{"text": TOO_LONG_TEXT}]
        if not await allow_message(self.state, CHANNEL, sender, self.rate):
            return [{"text": SLOW_DOWN_TEXT}]
        text = await trusted_text(self.state, sender, text)
        messages = await collect_turn(on_new_message, text=text, sender_id=sender, channel=CHANNEL)
        await remember_buttons(self.state, sender, messages)
        return messages

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        rest = Blueprint("govbot_rest", __name__)

        @rest.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return self.refusal(request) or response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            limit_body(request, MAX_BODY_BYTES)
            refused = self.refusal(request)
            if refused:
                return refused
            body = await read_body(request)
            if body is None:
                return error(ERROR_TOO_LARGE, 413)
            try:
                client_sender, text = parse_request(body)
            except BadRequest as bad:
                return error(bad.message, bad.status)
            try:
                messages = await self.answer(on_new_message, client_sender, text)
            except Exception:
                logger.exception("rest: turn failed for %s", hash_sender_id(conversation_id(CHANNEL, client_sender)))
                return error(ERROR_TURN_FAILED, 500)
            return response.json(for_client(client_sender, messages), dumps=_dumps)

        @rest.route("/outbox", methods=["GET"])
        async def outbox(request: Request) -> HTTPResponse:
            refused = self.refusal(request)
            if refused:
                return refused
            client_sender = request.args.get("sender", "")
            if not SENDER.fullmatch(client_sender):
                return error(ERROR_SENDER, 400)
            return response.json(await pending(self.state, client_sender), dumps=_dumps)

        return rest
