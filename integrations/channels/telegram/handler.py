"""Handle one Telegram update: de-duplicate, answer the button press, limit floods, run the turn, send the replies.

Rasa sees the conversation id tg:<user id>; the channel's own keys (de-duplication, rate limit, buttons) use the
Telegram user id inside the channel's key space.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from tenacity import RetryCallState

from bot.masking import hash_sender_id
from integrations.channels.common import (
    SLOW_DOWN_TEXT,
    TOO_LONG_TEXT,
    UNSUPPORTED_TEXT,
    OnNewMessage,
    RateLimit,
    allow_message,
    collect_turn,
)
from integrations.channels.state import ChannelState
from integrations.channels.telegram.render import Outgoing, load_button, render
from integrations.channels.telegram.settings import CHANNEL
from integrations.channels.telegram.updates import Inbound, Kind
from integrations.retry import RetryPolicy

logger = logging.getLogger(__name__)

DEDUP_TTL = 24 * 3600  # Telegram stops redelivering an update well within a day
GROUP_NOTICE_TTL = 600  # tell a group at most every 10 minutes that the assistant works in private chats
SEND_ATTEMPTS = 3

EXPIRED_BUTTON_TEXT = "抱歉，这个按钮已失效。请您直接输入想办理的事项，或发送 /help 查看可以办理的业务。"
UNKNOWN_COMMAND_TEXT = (
    "抱歉，我不认识这个指令。您可以使用：\n/start 开始使用\n/help 查看服务清单\n/cancel 取消当前业务\n"
    "/human 转人工服务\n也可以直接输入您想办理的事项，例如“申请租房补贴”。"
)
ERROR_TEXT = (
    "抱歉，系统暂时出了点问题，请您稍后再试。如需帮助，可发送 /human 转人工，或拨打12345政务服务便民热线。"
)
GROUP_TEXT = "您好！为保护您的个人信息，政务服务助手只在私聊中办理业务。请{where}与我私聊，发送 /start 即可开始。"


def _unsent(error: BaseException) -> bool:
    """A send that certainly did not happen and may work later: flood control (RetryAfter) or no connection.
    BadRequest will fail the same way again; TimedOut may have been delivered, and a reply must not arrive twice."""
    return isinstance(error, RetryAfter | NetworkError) and not isinstance(error, BadRequest | TimedOut)


def _send_pause(state: RetryCallState) -> float:
    """As long as Telegram's flood control asks (RetryAfter, at most a minute); else 1 s, then 2 s."""
    error = state.outcome.exception() if state.outcome else None
    return _seconds(error.retry_after) if isinstance(error, RetryAfter) else float(state.attempt_number)


SEND_POLICY = RetryPolicy(transient=_unsent, wait=_send_pause, attempts=SEND_ATTEMPTS)


def group_text(username: str | None) -> str:
    where = f"点击 https://t.me/{username} " if username else "在 Telegram 中搜索本助手，"
    return GROUP_TEXT.format(where=where)


class UpdateHandler:
    def __init__(
        self, bot: Bot, state: ChannelState, on_new_message: OnNewMessage, rate: RateLimit, bot_id: str = ""
    ) -> None:
        self.bot = bot
        self.state = state
        self.on_new_message = on_new_message
        self.rate = rate
        self.bot_id = bot_id

    async def __call__(self, item: Inbound) -> None:
        try:
            await self._handle(item)
        except Exception:  # Rasa, Redis or the action server failed: say so rather than stay silent
            logger.exception("Telegram update %d from %s failed", item.update_id, hash_sender_id(item.user_id))
            if item.kind is not Kind.GROUP:
                await self.send(item.chat_id, [Outgoing(ERROR_TEXT)])

    def _dedup_key(self, item: Inbound) -> str:
        # update_ids are sequential per bot, so easy to predict: keyed with the bot and the sender, a redelivery is
        # still recognised, but no update can take the key of another user's (or another bot's) update.
        return f"{CHANNEL}:update:{self.bot_id}:{item.user_id}:{item.update_id}"

    async def _handle(self, item: Inbound) -> None:
        if not await self.state.claim(self._dedup_key(item), DEDUP_TTL):
            logger.info("Telegram update %d delivered again; ignored", item.update_id)
            return
        if item.callback_query_id:
            await self._answer_callback(item.callback_query_id)
        if item.kind is Kind.GROUP:
            await self._tell_group(item.chat_id)
            return
        if not await allow_message(self.state, CHANNEL, item.user_id, self.rate):
            await self._slow_down(item)
            return
        await self._reply(item)

    async def _reply(self, item: Inbound) -> None:
        fixed = {Kind.UNSUPPORTED: UNSUPPORTED_TEXT, Kind.UNKNOWN_COMMAND: UNKNOWN_COMMAND_TEXT,
                 Kind.TOO_LONG: TOO_LONG_TEXT}
        if item.kind in fixed:
            await self.send(item.chat_id, [Outgoing(fixed[item.kind])])
        elif item.kind is Kind.CALLBACK:
            payload = await load_button(self.state, item.user_id, item.text)  # only a button shown to this user
            if payload is None:
                await self.send(item.chat_id, [Outgoing(EXPIRED_BUTTON_TEXT)])
            else:
                await self._turn(item, payload)
        else:
            await self._turn(item, item.text)

    async def _turn(self, item: Inbound, text: str) -> None:
        messages = await collect_turn(
            self.on_new_message,
            text=text,
            sender_id=item.conversation_id,
            channel=CHANNEL,
            metadata={"telegram_update_id": item.update_id, "telegram_kind": item.kind.value},
            message_id=f"tg-{item.update_id}",
        )
        await self.send(item.chat_id, await render(messages, self.state, item.user_id))

    async def _slow_down(self, item: Inbound) -> None:
        # One notice per window: answering every flooded message would flood Telegram's API in turn.
        if await self.state.claim(f"{CHANNEL}:slowdown:{item.user_id}", self.rate.window):
            await self.send(item.chat_id, [Outgoing(SLOW_DOWN_TEXT)])
        logger.info("Telegram user %s over the rate limit; update %d not processed",
                    hash_sender_id(item.user_id), item.update_id)

    async def _tell_group(self, chat_id: int) -> None:
        if await self.state.claim(f"{CHANNEL}:group-notice:{chat_id}", GROUP_NOTICE_TTL):
            await self.send(chat_id, [Outgoing(group_text(self._username()))])

    def _username(self) -> str | None:
        try:
            return self.bot.username
        except RuntimeError:  # getMe has not succeeded yet
            return None

    async def _answer_callback(self, query_id: str) -> None:
        try:
            await self.bot.answer_callback_query(query_id)
        except TelegramError as error:  # an old query (> 15 min) cannot be answered; the press is still handled
            logger.warning("Telegram answerCallbackQuery failed: %s", error)

    async def send(self, chat_id: int, messages: list[Outgoing]) -> None:
        """Send in order; a message that cannot be delivered is logged and the next one still tried."""
        for message in messages:
            if not await self._send_one(chat_id, message):
                return

    async def _send_one(self, chat_id: int, message: Outgoing) -> bool:
        """False when the chat cannot receive anything (blocked bot, deleted chat)."""
        try:
            await SEND_POLICY.run_async(
                lambda: self.bot.send_message(chat_id, message.text, reply_markup=message.keyboard), _log_retry
            )
        except Forbidden as error:
            logger.info("Telegram chat %s cannot be messaged: %s", hash_sender_id(chat_id), error)
            return False
        except (BadRequest, TimedOut) as error:
            logger.warning("Telegram sendMessage to %s failed: %s", hash_sender_id(chat_id), error)
        except (RetryAfter, NetworkError):
            logger.error("Telegram sendMessage to %s gave up after %d attempts", hash_sender_id(chat_id), SEND_ATTEMPTS)
        return True


def _log_retry(error: BaseException, attempt: int, pause: float) -> None:
    logger.warning("Telegram sendMessage attempt %d failed (%s); trying again in %.1f s", attempt, error, pause)


def _seconds(value: Any) -> float:
    seconds = value.total_seconds() if isinstance(value, datetime.timedelta) else float(value)
    return min(max(seconds, 0.0), 60.0)
