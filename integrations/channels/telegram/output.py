"""Messages outside a turn (an operator's takeover reply) go to the Telegram chat via sendMessage."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from rasa.core.channels.channel import OutputChannel
from telegram.error import Forbidden, TelegramError

from bot.masking import hash_sender_id
from integrations.channels.common import DeliveryFailed
from integrations.channels.senders import ForeignSender, user_id
from integrations.channels.telegram.render import render
from integrations.channels.telegram.settings import CHANNEL

if TYPE_CHECKING:
    from integrations.channels.telegram.inbound import TelegramRuntime

logger = logging.getLogger(__name__)

BLOCKED_TEXT = "Telegram 消息未能送达：该用户已屏蔽机器人或删除了对话。请改用其他方式联系该用户。"
FAILED_TEXT = "Telegram 消息未能送达：Telegram 接口暂时无法访问，请稍后重试。"
NOT_A_CHAT_TEXT = "Telegram 消息未发送：该会话不是 Telegram 渠道的会话，无法送达。请在该会话所属的渠道回复用户。"


def private_chat_of(conversation_id: str) -> int:
    """The private chat of a Telegram conversation (tg:<user id>: a private chat's id is its user's id).
    DeliveryFailed for an id of another channel, or one that is no Telegram user."""
    try:
        user = user_id(CHANNEL, conversation_id)
    except ForeignSender as error:
        raise DeliveryFailed(NOT_A_CHAT_TEXT) from error
    # Only ASCII digits: user ids are positive (negative ids are groups and channels).
    if not (user.isascii() and user.isdigit()) or int(user) <= 0:
        raise DeliveryFailed(NOT_A_CHAT_TEXT)
    return int(user)


class TelegramOutput(OutputChannel):
    """sendMessage to the private chat of the conversation Rasa names (tg:<user id>); nothing else is sent."""

    def __init__(self, runtime: TelegramRuntime) -> None:
        self.runtime = runtime

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        chat_id = private_chat_of(recipient_id)
        await self.runtime.ensure_initialised()
        for outgoing in await render([message], self.runtime.handler.state, str(chat_id)):
            try:
                await self.runtime.bot.send_message(chat_id, outgoing.text, reply_markup=outgoing.keyboard)
            except Forbidden as error:
                raise DeliveryFailed(BLOCKED_TEXT) from error
            except TelegramError as error:  # errors are shown to the operator, who may try again
                logger.warning("Telegram message to %s not sent: %s", hash_sender_id(recipient_id), error)
                raise DeliveryFailed(FAILED_TEXT) from error

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})
