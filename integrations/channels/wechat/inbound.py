"""The Rasa input channel for a WeChat Official Account (公众号), at /webhooks/wechat/.

GET is WeChat's URL verification; POST carries messages and events, in safe mode whenever an EncodingAESKey is
set (plaintext only without one). The checks live in checks.py, the once-only rule for signed requests in
replay.py, what a message becomes in routing.py, the text form of answers in replies.py and the 5-second rule in
delivery.py; this module wires them into Sanic. Settings (WECHAT_* variables) are settings.py's, messages outside a
turn output.py's, the menu command commands.py's.

The conversation id Rasa sees is `wechat:<OpenID>` (integrations/channels/senders.py); everything the channel keeps
per user (rate limit, numbered menu, de-duplication) is keyed by the OpenID inside the channel's own keys.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from wechatpy.messages import BaseMessage

from integrations.channels.common import (
    SLOW_DOWN_TEXT,
    UNSUPPORTED_TEXT,
    OnNewMessage,
    RateLimit,
    UnavailableOutputChannel,
    allow_message,
    collect_turn,
    limit_body,
    read_body,
    without_payload_marks,
)
from integrations.channels.senders import sender_id
from integrations.channels.state import ChannelState, channel_state
from integrations.channels.wechat.api import WeChatApi
from integrations.channels.wechat.checks import (
    Rejected,
    check_body,
    dedup_key,
    open_envelope,
    parse_inbound,
    refuse_plaintext,
    verify_request,
)
from integrations.channels.wechat.delivery import Deliveries
from integrations.channels.wechat.menu import load_menu
from integrations.channels.wechat.output import WeChatOutput
from integrations.channels.wechat.replay import admit, replay_ttl
from integrations.channels.wechat.replies import (
    LETTER_HINT_TEXT,
    cap,
    choose,
    fit,
    needs_letter,
    passive_xml,
    render,
)
from integrations.channels.wechat.routing import Ignore, Reply, Route, Turn, route
from integrations.channels.wechat.settings import CHANNEL, WeChatSettings

logger = logging.getLogger(__name__)

SUCCESS = "success"  # WeChat's "received, nothing to say now": no retry, nothing shown to the user


class WeChatInput(InputChannel):
    _warned = False

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        return cls(WeChatSettings.from_env())  # secrets come from the environment, never from credentials.yml

    def __init__(self, config: WeChatSettings | None = None) -> None:
        self.config = config or WeChatSettings.from_env()
        self.rate = RateLimit.from_env()
        self.menu = load_menu()
        self._state: ChannelState | None = None
        self._deliveries: Deliveries | None = None
        if not self.config.configured and not WeChatInput._warned:
            WeChatInput._warned = True
            logger.warning("WeChat channel not configured (missing %s): /webhooks/wechat/ answers 503",
                           ", ".join(self.config.missing))

    @property
    def state(self) -> ChannelState:
        if self._state is None:  # created on the server's loop, at the first request
            self._state = channel_state()
        return self._state

    @property
    def deliveries(self) -> Deliveries:
        if self._deliveries is None:
            api = WeChatApi.from_config(self.config)
            # A repeat of a signed request is answered from its message's claim until the signature expires.
            ttl = max(self.config.dedup_ttl, replay_ttl(self.config.timestamp_window))
            self._deliveries = Deliveries(self.state, api, self.config.passive_timeout, ttl)
        return self._deliveries

    def get_output_channel(self) -> OutputChannel | None:
        """Messages outside a turn (an operator's takeover reply) as customer-service messages."""
        if not self.config.configured:
            return UnavailableOutputChannel("微信公众号渠道未配置，无法发送消息：请设置环境变量 "
                                            + ", ".join(self.config.missing))
        return WeChatOutput(self.deliveries, self.state, self.config)

    def _not_configured(self) -> HTTPResponse:
        missing = ", ".join(self.config.missing)
        return response.text(f"微信公众号渠道未配置：请设置环境变量 {missing}（WeChat channel not configured）",
                             status=503)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        webhook = Blueprint("wechat_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if not self.config.configured:
                return self._not_configured()
            query = _query(request)
            try:
                verify_request(self.config, query)
            except Rejected as rejected:
                logger.warning("WeChat URL verification refused: %s", rejected.reason)
                return response.text(rejected.reason, status=rejected.status)
            return response.text(query.get("echostr", ""))

        # Streamed: the body is read by the handler, up to WECHAT_MAX_BODY_BYTES, not buffered by Sanic (100 MB).
        @webhook.route("/", methods=["POST"], stream=True)
        async def receive(request: Request) -> HTTPResponse:
            limit_body(request, self.config.max_body_bytes)
            if not self.config.configured:
                return self._not_configured()
            return await self._receive(request, on_new_message)

        return webhook

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        received_at = time.monotonic()
        query = _query(request)
        try:
            body = await read_body(request)
            if body is None:
                raise Rejected(413, "body too large")
            verify_request(self.config, query)
            refuse_plaintext(self.config, query)
            envelope = open_envelope(self.config, query, check_body(body, self.config.max_body_bytes))
            first_sight = await admit(self.state, query, body, self.config.timestamp_window)
            message = parse_inbound(envelope.xml)
        except Rejected as rejected:
            logger.warning("WeChat message refused (%s): %s", rejected.status, rejected.reason)
            return response.text(rejected.reason, status=rejected.status)
        action = route(message, self.menu)
        if isinstance(action, Ignore):
            return response.text(SUCCESS)
        openid = message.source

        async def turn() -> list[str]:
            return await self._turn(action, message, on_new_message)

        content = await self.deliveries.answer(dedup_key(message), openid, turn, received_at, first_sight)
        if content is None:
            return response.text(SUCCESS)
        xml = passive_xml(message.target, openid, content, envelope.crypto, query.get("nonce", ""))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    async def _turn(self, action: Route, message: BaseMessage, on_new_message: OnNewMessage) -> list[str]:
        """Run once per message (never for retries): rate limit, then a fixed reply or a Rasa turn."""
        limit = self.config.text_limit_bytes
        if not await allow_message(self.state, CHANNEL, message.source, self.rate):
            return fit([SLOW_DOWN_TEXT], limit)
        if isinstance(action, Turn):
            return await self._rasa_turn(action, message, on_new_message)
        return fit([action.text], limit) if isinstance(action, Reply) else []

    @staticmethod
    def _typed_text(typed: str, menu: list[dict[str, str]] | None) -> tuple[str | None, str | None]:
        """(text for Rasa, None) or (None, a reply of the channel's own) for what the user typed."""
        chosen = choose(typed, menu)
        if chosen:
            return chosen, None
        if needs_letter(typed, menu):
            return None, LETTER_HINT_TEXT
        text = without_payload_marks(typed)
        return (text, None) if text else (None, UNSUPPORTED_TEXT)

    async def _rasa_turn(self, action: Turn, message: BaseMessage, on_new_message: OnNewMessage) -> list[str]:
        openid, limit = message.source, self.config.text_limit_bytes
        menu_key = f"wechat:menu:{openid}"
        text: str | None = action.text
        if action.typed:
            text, own_reply = self._typed_text(action.text, await self.state.get(menu_key))
            if own_reply:
                return fit([own_reply], limit)
        messages = await collect_turn(
            on_new_message, text=str(text), sender_id=sender_id(CHANNEL, openid), channel=CHANNEL,
            message_id=str(message._data.get("MsgId") or "") or None,
        )
        rendered = render(messages)
        await self.state.put(menu_key, rendered.menu, self.config.menu_ttl)  # an empty menu clears the old one
        parts = rendered.parts
        if action.prefix:
            parts = [action.prefix + ("\n" + parts[0] if parts else ""), *parts[1:]]
        return cap(fit(parts, limit), self.config.max_service_messages, limit)


def _query(request: Request) -> dict[str, str]:
    return {key: str(request.args.get(key, "")) for key in request.args}


