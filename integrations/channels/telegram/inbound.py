"""Telegram input channel (python-telegram-bot 22): webhook inside Rasa's Sanic app, or long polling for development.

credentials.yml: `integrations.channels.telegram.TelegramInput:` (no keys; settings come from the environment, see
settings.py). Route: POST /webhooks/telegram/webhook. The webhook checks Telegram's secret-token header,
reads the body (streamed, refused past MAX_UPDATE_BYTES without buffering more), queues the update and answers 200
at once; the turn runs in the background and the replies go out via sendMessage.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, Update
from telegram.error import Conflict, TelegramError
from tenacity import wait_exponential

from integrations.channels.common import OnNewMessage, RateLimit, UnavailableOutputChannel, limit_body, read_body
from integrations.channels.state import ChannelState, channel_state
from integrations.channels.telegram.handler import UpdateHandler
from integrations.channels.telegram.ordering import turn_order
from integrations.channels.telegram.output import TelegramOutput
from integrations.channels.telegram.queues import ChatQueues
from integrations.channels.telegram.settings import CHANNEL, TelegramSettings, make_bot, redact_token_in_logs
from integrations.channels.telegram.updates import (
    ALLOWED_UPDATES,
    MAX_UPDATE_BYTES,
    Inbound,
    MalformedUpdate,
    classify,
    parse_update,
)
from integrations.retry import RetryPolicy

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAIN_SECONDS = 10.0
# Polling goes on whatever fails (cancelling the task ends it): pauses of 2, 4, 8, 16, then 30 s.
POLL_POLICY = RetryPolicy(
    transient=lambda error: isinstance(error, Exception), wait=wait_exponential(multiplier=2, max=30)
)


class TelegramRuntime:
    """Everything that lives as long as the server: the Bot, the channel state, the per-chat queues, the poller."""

    def __init__(self, config: TelegramSettings, on_new_message: OnNewMessage, state: ChannelState | None = None):
        self.config = config
        self.on_new_message = on_new_message
        self._state = state
        self.bot: Bot | None = None
        self.queues: ChatQueues | None = None
        self.handler: UpdateHandler | None = None
        self._poller: asyncio.Task | None = None
        self._initialised = False

    async def start(self) -> None:
        """before_server_start: create the Bot on the server's loop. A Bot API outage must not stop Rasa."""
        redact_token_in_logs(self.config.token)
        self.bot = make_bot(self.config)
        state = self._state or channel_state()
        # With Redis several replicas may share the webhook: their queues then also keep each chat's order between them.
        self.queues = ChatQueues(self._handle, self.config.order_window, turn_order(state, self.config.bot_id))
        self.handler = UpdateHandler(self.bot, state, self.on_new_message, RateLimit.from_env(), self.config.bot_id)
        await self.ensure_initialised()
        logger.info("Telegram channel ready (%s mode)", self.config.mode)

    async def _handle(self, item: Inbound) -> None:
        await self.ensure_initialised()
        await self.handler(item)

    async def ensure_initialised(self) -> None:
        """getMe (and the HTTP pool); retried on later updates when the Bot API was unreachable at start."""
        if self._initialised or self.bot is None:
            return
        try:
            await self.bot.initialize()
            self._initialised = True
        except TelegramError as error:
            logger.warning("Telegram getMe failed (%s); will retry with the next update", type(error).__name__)

    def start_polling(self) -> None:
        """after_server_start: in polling mode, feed getUpdates results through the same queues."""
        if self.config.mode == "polling" and self._poller is None:
            self._poller = asyncio.create_task(self._poll())

    async def _poll(self) -> None:
        offset: int | None = None
        while True:
            for update in await self._fetch(offset):
                offset = update.update_id + 1  # acknowledges it; a redelivery would still be de-duplicated
                self.accept(update)

    async def _fetch(self, offset: int | None) -> tuple[Update, ...]:
        """getUpdates until it answers: trouble with the network or the Bot API backs off, never ends the poller."""
        return await POLL_POLICY.run_async(
            lambda: self.bot.get_updates(
                offset=offset, timeout=self.config.poll_timeout, allowed_updates=ALLOWED_UPDATES
            ),
            _log_poll_failure,
        )

    def accept(self, update: Any) -> None:
        try:
            item = classify(update)
        except MalformedUpdate as error:
            logger.warning("Telegram update %s ignored: %s", getattr(update, "update_id", "?"), error)
            return
        if item is not None:
            self.queues.submit(item)

    async def stop_accepting(self) -> None:
        """before_server_stop (Rasa's agent is still loaded): stop polling, let queued turns finish."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        if self.queues is not None:
            await self.queues.drain(DRAIN_SECONDS)

    async def shutdown(self) -> None:
        """after_server_stop: close the Bot's HTTP pools on the loop that opened them."""
        if self.bot is not None:
            await self.bot.shutdown()


class TelegramInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> TelegramInput:
        return cls(TelegramSettings.from_env())

    def __init__(self, config: TelegramSettings | None = None, state: ChannelState | None = None) -> None:
        self.config = config or TelegramSettings.from_env()
        self.state = state
        self.problem = self.config.problem()
        self.runtime: TelegramRuntime | None = None
        if self.problem:
            logger.warning("Telegram channel disabled: %s. Its endpoints answer 503.", self.problem)

    def get_output_channel(self) -> OutputChannel | None:
        """Messages outside a turn (an operator's takeover reply) via sendMessage."""
        if self.runtime is None or self.runtime.bot is None:
            return UnavailableOutputChannel(f"Telegram 渠道未配置，无法发送消息：{self.problem or '渠道尚未启动'}")
        return TelegramOutput(self.runtime)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("govbot_telegram", __name__)
        runtime = None if self.problem else TelegramRuntime(self.config, on_new_message, self.state)
        self.runtime = runtime
        if runtime is not None:
            _register_listeners(bp, runtime)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if self.problem:
                return _unavailable(self.problem)
            return response.json({"status": "ok", "mode": self.config.mode})

        @bp.route("/webhook", methods=["POST"], stream=True)
        async def webhook(request: Request) -> HTTPResponse:
            limit_body(request, MAX_UPDATE_BYTES)
            if self.problem:
                return _unavailable(self.problem)
            if self.config.mode != "webhook":
                return _unavailable("TELEGRAM_MODE=polling: updates are fetched with getUpdates, not received here")
            if not self._secret_matches(request.headers.get(SECRET_HEADER)):
                return response.json({"ok": False, "error": "forbidden"}, status=403)
            body = await read_body(request)
            return _too_large() if body is None else _accept(body, runtime)

        return bp

    def _secret_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given.encode(), self.config.secret_token.encode())


def _log_poll_failure(error: BaseException, _attempt: int, pause: float) -> None:
    if isinstance(error, Conflict):
        logger.error("Telegram getUpdates conflicts with a webhook or another poller; run "
                     "`python -m integrations.channels.telegram.commands delete` to use polling")
    else:
        logger.warning("Telegram getUpdates failed: %s; trying again in %.0f s", error, pause)


def _register_listeners(bp: Blueprint, runtime: TelegramRuntime) -> None:
    async def before_start(_app: Any, _loop: Any) -> None:
        await runtime.start()

    async def after_start(_app: Any, _loop: Any) -> None:
        runtime.start_polling()

    async def before_stop(_app: Any, _loop: Any) -> None:
        await runtime.stop_accepting()

    async def after_stop(_app: Any, _loop: Any) -> None:
        await runtime.shutdown()

    bp.listener(before_start, "before_server_start")
    bp.listener(after_start, "after_server_start")
    bp.listener(before_stop, "before_server_stop")
    bp.listener(after_stop, "after_server_stop")


def _unavailable(reason: str) -> HTTPResponse:
    return response.json({"ok": False, "error": f"Telegram channel not configured: {reason}"}, status=503)


def _too_large() -> HTTPResponse:
    return response.json({"ok": False, "error": "update too large"}, status=413)


def _accept(body: bytes, runtime: TelegramRuntime) -> HTTPResponse:
    """Validate and queue the update without awaiting anything; 200 at once. (Requests read concurrently may reach
    this in another order than they arrived: the chat queue orders each chat's updates by update_id.)"""
    if len(body) > MAX_UPDATE_BYTES:
        return _too_large()
    try:
        update = parse_update(json.loads(body), runtime.bot)
        item = classify(update)
    except ValueError as error:  # MalformedUpdate, JSONDecodeError and UnicodeDecodeError alike
        return response.json({"ok": False, "error": str(error) or "malformed JSON"}, status=400)
    if item is not None:
        runtime.queues.submit(item)
    return response.json({"ok": True})
