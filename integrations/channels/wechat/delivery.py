"""WeChat's 5-second rule: each message's turn runs once, its answer reaches the user once.

WeChat waits 5 s for the HTTP answer, then retries the same message (same MsgId) up to three times. The first
delivery claims the message and starts the turn. If the turn finishes within WECHAT_PASSIVE_TIMEOUT, the answer
goes back passively in the HTTP response; otherwise the response is "success" and the answer follows through
the customer-service API once it is ready. Retries never start a turn. WeChat listens only to its latest
delivery, so a retry waits for the turn within its own window and answers passively with the same answer; if the
first delivery already gave the answer up to customer-service messages, the retry answers "success".

Who answers is settled by one claim ("decided", taken by the first delivery when the turn ends or its window
closes, or by a retry whose window closes first), so there is never a passive answer and a customer-service
message both, or neither.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import requests
from tenacity import wait_incrementing
from wechatpy.exceptions import WeChatClientException

from bot.masking import hash_sender_id
from integrations.channels.state import ChannelState
from integrations.channels.wechat.api import WeChatApi
from integrations.retry import RetryPolicy

logger = logging.getLogger(__name__)

ERROR_TEXT = "抱歉，系统暂时繁忙，您的消息没有处理成功。请您稍后再发送一次，或回复“转人工”联系工作人员。"
# Customer-service errors after which further messages to this user would fail the same way.
FINAL_ERRORS = {
    45015: "reply window closed (48 h since the user's last message)",
    45047: "customer-service quota for this user message used up",
    45002: "content too long",
    48001: "API not authorised for this account",
}
TRANSIENT_ATTEMPTS = 3
RETRY_POLL_SECONDS = 0.05

Turn = Callable[[], Awaitable[list[str]]]  # returns the reply texts, each within WeChat's byte limit


def _busy(error: BaseException) -> bool:
    """WeChat busy (errcode -1) or the HTTP call failed (errcode None, a connection error): it may pass. Any other
    errcode would fail the same way again."""
    if isinstance(error, WeChatClientException):
        return error.errcode in (None, -1)
    return isinstance(error, requests.RequestException | OSError)


# Pauses of 0.5 s, then 1 s: WeChat's "busy" passes quickly, and the user is waiting for the answer.
SEND_POLICY = RetryPolicy(transient=_busy, wait=wait_incrementing(start=0.5, increment=0.5),
                          attempts=TRANSIENT_ATTEMPTS)


class Deliveries:
    def __init__(self, state: ChannelState, api: WeChatApi, passive_timeout: float, ttl: int) -> None:
        self.state = state
        self.api = api
        self.passive_timeout = passive_timeout
        self.ttl = ttl
        self._background: set[asyncio.Task] = set()

    async def answer(
        self, key: str, openid: str, turn: Turn, received_at: float, first_sight: bool = True
    ) -> str | None:
        """The passive answer for this delivery, or None for "success". A request seen before (`first_sight`
        False: the same signed request again) is answered like a retry whatever the state says: it never starts a
        turn, even once the message's own claim has expired."""
        if not first_sight or not await self.state.claim(f"wechat:claim:{key}", self.ttl):
            return await self._answer_retry(key, received_at)
        passive: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._spawn(self._deliver(key, openid, turn, received_at, passive))
        # Shielded: if WeChat hangs up, the delivery still finishes and the answer still goes out.
        return await asyncio.shield(passive)

    async def _answer_retry(self, key: str, received_at: float) -> str | None:
        # The turn may run in another replica: poll the shared state until it is decided or this window closes.
        deadline = received_at + self.passive_timeout
        while time.monotonic() < deadline:
            if await self.state.get(f"wechat:decided:{key}"):
                return await self.state.get(f"wechat:passive:{key}")
            await asyncio.sleep(RETRY_POLL_SECONDS)
        if await self.state.claim(f"wechat:decided:{key}", self.ttl):
            return None  # no answer in time: the first delivery will send it as customer-service messages
        return await self.state.get(f"wechat:passive:{key}")

    async def _deliver(
        self, key: str, openid: str, turn: Turn, received_at: float, passive: asyncio.Future[str | None]
    ) -> None:
        pending: list[str] = []
        try:
            task = asyncio.ensure_future(self._run(turn, openid))
            remaining = self.passive_timeout - (time.monotonic() - received_at)
            done, _ = await asyncio.wait({task}, timeout=max(0.0, remaining))
            if task in done:
                texts = task.result()
                if texts:
                    await self.state.put(f"wechat:passive:{key}", texts[0], self.ttl)
                if await self.state.claim(f"wechat:decided:{key}", self.ttl):
                    passive.set_result(texts[0] if texts else None)
                    pending = texts[1:]
                else:  # a retry came first: the connection waiting for this answer is gone
                    passive.set_result(None)
                    pending = texts
            else:
                await self.state.claim(f"wechat:decided:{key}", self.ttl)
                passive.set_result(None)
                pending = await task
        except Exception:
            logger.exception("WeChat delivery failed for %s", hash_sender_id(openid))
        finally:
            if not passive.done():
                passive.set_result(None)
        if pending:
            await asyncio.to_thread(self.send, openid, pending)

    async def _run(self, turn: Turn, openid: str) -> list[str]:
        try:
            return await turn()
        except Exception:
            logger.exception("WeChat turn failed for %s", hash_sender_id(openid))
            return [ERROR_TEXT]

    def _spawn(self, coroutine: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def send(self, openid: str, texts: list[str]) -> int:
        """Customer-service messages, in order (runs in a thread). Stops at the first error that would repeat;
        transient failures are retried a bounded number of times (SEND_POLICY). Returns how many were sent."""
        user = hash_sender_id(openid)
        for sent, text in enumerate(texts):
            if not self._send_one(openid, user, text):
                return sent
        return len(texts)

    def _send_one(self, openid: str, user: str, text: str) -> bool:
        def on_retry(error: BaseException, attempt: int, _pause: float) -> None:
            logger.warning("WeChat customer-service message to %s failed (%s), attempt %d of %d",
                           user, _reason(error), attempt, TRANSIENT_ATTEMPTS)

        try:
            SEND_POLICY.run(lambda: self.api.send_text(openid, text), on_retry)
            return True
        except Exception as error:  # e.g. the token lock could not be taken: give up on this reply, keep serving
            _log_unsent(user, error)
            return False


def _reason(error: BaseException) -> str:
    return f"errcode {error.errcode}" if isinstance(error, WeChatClientException) else type(error).__name__


def _log_unsent(user: str, error: Exception) -> None:
    errcode = getattr(error, "errcode", None)
    if isinstance(error, WeChatClientException) and errcode in FINAL_ERRORS:
        logger.warning("WeChat customer-service message to %s not sent: %s (errcode %s)",
                       user, FINAL_ERRORS[errcode], errcode)
    elif _busy(error):
        logger.warning("WeChat customer-service message to %s failed (%s), attempt %d of %d; giving up",
                       user, _reason(error), TRANSIENT_ATTEMPTS, TRANSIENT_ATTEMPTS)
    elif isinstance(error, WeChatClientException):
        logger.error("WeChat customer-service message to %s rejected: errcode %s", user, errcode)
    else:
        logger.error("WeChat customer-service message to %s failed", user, exc_info=error)
