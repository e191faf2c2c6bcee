"""The notifier's worker: takes queued notifications, delivers each through Rasa, records what became of it.

It runs on the notifier's event loop; the database is used from threads and Rasa through an async client, so a
slow delivery never holds up the webhook or the others (at most NOTIFIER_CONCURRENCY at once). A notification is
claimed before it is delivered (bot/notifier/store.py), so two notifier replicas never deliver it twice at once,
and one whose worker died (process killed mid-delivery) is taken over when its lease ends.

For each notification: opted out ("退订") → recorded, nothing sent; delivered → recorded; refused by the channel →
undeliverable with the channel's reason, except WeChat, which gets a template message when one is configured
(bot/notifier/wechat_template.py); any other failure → again after NOTIFIER_RETRY_BACKOFF, doubling up to
NOTIFIER_RETRY_MAX, and recorded as failed after NOTIFIER_MAX_ATTEMPTS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from sqlalchemy.engine import Engine

from bot.notifier import store
from bot.notifier.delivery import Outcome, RasaDelivery
from bot.notifier.models import DELIVERED, DELIVERED_TEMPLATE, FAILED, OPTED_OUT, UNDELIVERABLE, Notification
from bot.notifier.wechat_template import NO_TEMPLATE, NOT_SENT, SENT, TemplateFallback
from bot.sealing import InvalidSeal, unseal
from bot.settings import NotifierSettings
from integrations.channels.senders import user_id

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
LEASE_MARGIN = 30.0  # a lease outlives the longest delivery (NOTIFIER_RASA_TIMEOUT) by this much
OPTED_OUT_TEXT = "市民已回复“退订”，不再发送进度提醒。"
GAVE_UP = "尝试{attempts}次仍未送达，已停止重试：{reason}"
UNSEALABLE = "无法解开订阅方标识（PII_SEAL_KEY 可能已更换），提醒未发送。"


class Worker:
    def __init__(
        self, settings: NotifierSettings, engine: Engine, rasa: RasaDelivery, templates: TemplateFallback | None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.rasa = rasa
        self.templates = templates
        self._wakeup = asyncio.Event()
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._running: set[asyncio.Task] = set()

    def wake(self) -> None:
        """Something new is queued (the webhook accepted an event): look now, not at the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                await self.run_once()
            except Exception:  # the database away for a moment: the next round tries again
                logger.exception("notifier round failed")
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), POLL_SECONDS)

    async def run_once(self) -> int:
        """Start delivering every due notification; how many were started."""
        started = 0
        lease = self.settings.rasa_timeout + LEASE_MARGIN
        for row_id in await asyncio.to_thread(store.due, self.engine, self.settings.concurrency * 4):
            await self._slots.acquire()
            row = await asyncio.to_thread(store.claim, self.engine, row_id, lease)
            if row is None:  # another replica took it
                self._slots.release()
                continue
            task = asyncio.create_task(self._deliver(row))
            self._running.add(task)
            task.add_done_callback(self._done)
            started += 1
        return started

    def _done(self, task: asyncio.Task) -> None:
        self._running.discard(task)
        self._slots.release()

    async def drain(self) -> None:
        """Wait for the deliveries under way (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _deliver(self, row: Notification) -> None:
        try:
            await self._handle(row)
        except Exception:
            logger.exception("notification %s: delivery failed unexpectedly", row.event_id)
            await self._again(row, Outcome(reason="通知服务内部错误，稍后重试。"))

    async def _handle(self, row: Notification) -> None:
        try:
            conversation = unseal(row.sealed_sender)
        except InvalidSeal:
            return await self._finish(row, UNDELIVERABLE, UNSEALABLE)
        if await asyncio.to_thread(store.opted_out, self.engine, row.sender_hash):
            return await self._finish(row, OPTED_OUT, OPTED_OUT_TEXT)
        outcome = await self.rasa.deliver(conversation, row.channel or "", row)
        if outcome.delivered:
            return await self._finish(row, DELIVERED, None)
        if not outcome.refused:
            return await self._again(row, outcome)
        if row.channel == "wechat":
            return await self._after_wechat_refusal(row, conversation, outcome.reason)
        return await self._finish(row, UNDELIVERABLE, outcome.reason)

    async def _after_wechat_refusal(self, row: Notification, conversation: str, reason: str) -> None:
        if self.templates is None:
            return await self._finish(row, UNDELIVERABLE, NO_TEMPLATE.format(reason=_sentence(reason)))
        error = await self.templates.send(user_id("wechat", conversation), row)
        if error is None:
            return await self._finish(row, DELIVERED_TEMPLATE, SENT.format(reason=reason.rstrip("。")))
        return await self._finish(row, UNDELIVERABLE, NOT_SENT.format(reason=reason.rstrip("。"), error=error))

    async def _finish(self, row: Notification, status: str, reason: str | None) -> None:
        await asyncio.to_thread(store.finish, self.engine, row.id, status, reason)
        logger.info("notification %s for %s: %s", row.event_id, row.sender_hash or "?", status)

    async def _again(self, row: Notification, outcome: Outcome) -> None:
        if row.attempts >= self.settings.max_attempts:
            reason = GAVE_UP.format(attempts=row.attempts, reason=outcome.reason)
            return await self._finish(row, FAILED, reason)
        pause = min(self.settings.retry_max, self.settings.retry_backoff * 2 ** (row.attempts - 1))
        await asyncio.to_thread(store.retry_later, self.engine, row.id, time.time() + pause, outcome.reason)
        logger.info("notification %s: attempt %d not delivered, again in %.0f s", row.event_id, row.attempts, pause)


def _sentence(reason: str) -> str:
    return reason if reason.endswith(("。", "；")) else reason + "；"
