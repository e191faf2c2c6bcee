"""Web chat channel: a small chat page and its JSON endpoint, served by the Rasa server itself.

GET  /webhooks/webchat/          the page (static files under /webhooks/webchat/static/)
POST /webhooks/webchat/webhook   {"sender": "<browser id>", "message": "..."} → [{"text": ..., "buttons": [...]}, ...]
GET  /webhooks/webchat/updates?sender=<browser id>   messages sent outside a turn (an operator's takeover reply,
                                 "the assistant is back"), each returned once: [{"text": ..., "from": "operator"}, ...]

No secrets are needed, so the channel always loads. The page is plain HTML, CSS and JavaScript shipped in
`static/` (settings.py), served with a Content-Security-Policy that allows only this origin.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.masking import hash_sender_id
from integrations.channels.common import (
    SLOW_DOWN_TEXT,
    TOO_LONG_TEXT,
    BadRequest,
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
from integrations.channels.senders import sender_id as conversation_id
from integrations.channels.state import ChannelState, channel_state
from integrations.channels.webchat.output import WebChatOutput, for_browser, pending
from integrations.channels.webchat.settings import CHANNEL, MAX_BODY_BYTES, SENDER_PATTERN, STATIC_DIR

logger = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}

ERROR_BAD_JSON = "请求格式不正确，请刷新页面后重试。"
ERROR_SENDER = "会话标识无效，请刷新页面或点击“新对话”后重试。"
ERROR_NO_MESSAGE = "请输入您要咨询的内容后再发送。"
ERROR_NOT_TEXT = "消息内容必须是文字，请重新输入。"
ERROR_TOO_LONG = TOO_LONG_TEXT  # also for a body over MAX_BODY_BYTES: only an over-long message makes one
ERROR_TURN_FAILED = "抱歉，系统暂时繁忙，请稍后重试。"
ERROR_NOT_FOUND = "页面不存在，请访问聊天首页。"

_dumps = partial(json.dumps, ensure_ascii=False)


@dataclass(frozen=True)
class ChatRequest:
    sender: str
    message: str


def error(message: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": message}, status=status, headers=SECURITY_HEADERS, dumps=_dumps)


def parse_request(body: bytes) -> ChatRequest:
    """Validate the endpoint's JSON body; every problem becomes a BadRequest with a Chinese message."""
    data = json_object(body, MAX_BODY_BYTES, bad_json=ERROR_BAD_JSON, too_large=ERROR_TOO_LONG)
    sender = data.get("sender")
    if not isinstance(sender, str) or not SENDER_PATTERN.fullmatch(sender):
        raise BadRequest(ERROR_SENDER)
    message = data.get("message")
    if message is None:
        raise BadRequest(ERROR_NO_MESSAGE)
    if not isinstance(message, str):
        raise BadRequest(ERROR_NOT_TEXT)
    message = clean_text(message).strip()
    if not message:
        raise BadRequest(ERROR_NO_MESSAGE)
    if too_long(message):
        raise BadRequest(ERROR_TOO_LONG)
    return ChatRequest(sender, message)


def load_static() -> dict[str, tuple[bytes, str]]:
    """Read the page's files once; only these names are ever served, so no path can escape the folder."""
    return {
        path.name: (path.read_bytes(), CONTENT_TYPES[path.suffix])
        for path in STATIC_DIR.iterdir()
        if path.suffix in CONTENT_TYPES
    }


class WebChatInput(InputChannel):
    """Registered in credentials.yml as `integrations.channels.webchat.WebChatInput:` (no settings)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebChatInput:
        return cls()

    def __init__(self) -> None:
        self.files = load_static()
        self.rate = RateLimit.from_env()
        self._state: ChannelState | None = None

    @property
    def state(self) -> ChannelState:
        # Created on first use, inside the server's event loop (the Redis client binds to it).
        if self._state is None:
            self._state = channel_state()
        return self._state

    def get_output_channel(self) -> OutputChannel | None:
        """Where Rasa sends messages outside a turn: the browser's outbox, fetched by the page's polling."""
        return WebChatOutput(lambda: self.state)

    async def updates(self, browser_id: str) -> HTTPResponse:
        return response.json(await pending(self.state, browser_id), headers=SECURITY_HEADERS, dumps=_dumps)

    def serve_file(self, name: str) -> HTTPResponse:
        found = self.files.get(name)
        if found is None:
            return error(ERROR_NOT_FOUND, 404)
        body, content_type = found
        return response.raw(body, headers=SECURITY_HEADERS, content_type=content_type)

    async def answer(self, on_new_message: Callable[[UserMessage], Awaitable[Any]], chat: ChatRequest) -> HTTPResponse:
        # The web chat's own namespace (web:<browser id>): a visitor can never reach another channel's conversation.
        sender_id = conversation_id(CHANNEL, chat.sender)
        if not await allow_message(self.state, CHANNEL, sender_id, self.rate):
            logger.info("webchat: rate limit reached for %s", hash_sender_id(sender_id))
            return response.json([{"text": SLOW_DOWN_TEXT}], headers=SECURITY_HEADERS, dumps=_dumps)
        try:
            text = await trusted_text(self.state, sender_id, chat.message)
            messages = await collect_turn(on_new_message, text=text, sender_id=sender_id, channel=CHANNEL)
            await remember_buttons(self.state, sender_id, messages)
        except Exception:
            logger.exception("webchat: turn failed for %s", hash_sender_id(sender_id))
            return error(ERROR_TURN_FAILED, 500)
        shown = [m for m in map(for_browser, messages) if m]
        return response.json(shown, headers=SECURITY_HEADERS, dumps=_dumps)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webchat = Blueprint("webchat_channel", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            # The page links its files relatively ("static/…"), which needs the trailing slash.
            if not request.path.endswith("/"):
                return response.redirect(request.path + "/", headers=SECURITY_HEADERS)
            return self.serve_file("index.html")

        @webchat.route("/static/<name:str>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            return self.serve_file(name)

        @webchat.route("/webhook", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            limit_body(request, MAX_BODY_BYTES)
            body = await read_body(request)
            if body is None:
                return error(ERROR_TOO_LONG, 413)
            try:
                chat = parse_request(body)
            except BadRequest as bad:
                return error(bad.message, bad.status)
            return await self.answer(on_new_message, chat)

        @webchat.route("/updates", methods=["GET"])
        async def updates(request: Request) -> HTTPResponse:
            sender = request.args.get("sender", "")
            if not SENDER_PATTERN.fullmatch(sender):
                return error(ERROR_SENDER)
            return await self.updates(sender)

        return webchat
