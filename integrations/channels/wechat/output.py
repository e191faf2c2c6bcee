"""Messages outside a turn (an operator's takeover reply) go to the WeChat user as customer-service messages.

Rasa names the recipient by the conversation id (`wechat:<OpenID>`); an id of another channel is refused, never
delivered to a WeChat user who happens to have that id."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa.core.channels.channel import OutputChannel

from integrations.channels.common import DeliveryFailed
from integrations.channels.senders import ForeignSender, user_id
from integrations.channels.state import ChannelState
from integrations.channels.wechat.delivery import Deliveries
from integrations.channels.wechat.replies import cap, fit, render
from integrations.channels.wechat.settings import CHANNEL, WeChatSettings

NOT_DELIVERED_TEXT = (
    "微信客服消息未能送达：用户超过48小时未发消息、已取消关注，或接口调用受限。请改用其他方式联系该用户。"
)
FOREIGN_TEXT = "微信消息未发送：该会话不是微信公众号渠道的会话，不能通过微信发送。请在该会话所属的渠道回复用户。"


class WeChatOutput(OutputChannel):
    """Customer-service text messages, sent off the event loop like the channel's own late answers."""

    def __init__(self, deliveries: Deliveries, state: ChannelState, config: WeChatSettings) -> None:
        self.deliveries = deliveries
        self.state = state
        self.config = config

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        try:
            openid = user_id(CHANNEL, recipient_id)
        except ForeignSender as error:
            raise DeliveryFailed(FOREIGN_TEXT) from error
        rendered = render([message])
        limit = self.config.text_limit_bytes
        parts = cap(fit(rendered.parts, limit), self.config.max_service_messages, limit)
        if not parts:
            return
        if rendered.menu:  # "回复数字选择" must then pick from these buttons
            await self.state.put(f"wechat:menu:{openid}", rendered.menu, self.config.menu_ttl)
        sent = await asyncio.to_thread(self.deliveries.send, openid, parts)
        if sent < len(parts):
            raise DeliveryFailed(NOT_DELIVERED_TEXT)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})
