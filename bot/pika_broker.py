"""Rasa's PikaEventBroker, with events that could not be published sent again in order until they are.

Rasa's broker keeps an event whose publication failed (RabbitMQ restarting, the connection lost) and publishes the
kept ones once, from the connection's reconnect callback. Measured with a RabbitMQ restart under traffic
(tests/cluster): that one attempt often runs before the channel and exchange are restored, fails again, and the
events then wait for the next reconnect, possibly forever; meanwhile new events overtake them. And each failure is
logged with the whole event (what a citizen typed, slot values) at ERROR level.

Here, once an event failed, it and every later event wait in one queue that a single task publishes in order,
retrying with a growing pause until RabbitMQ takes them; failures are logged without content. The queue is bounded
(MAX_KEPT): beyond it the oldest events are dropped and counted in the log. Events still queued when the process is
killed are lost (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from typing import Any

from rasa.core.brokers.pika import PikaEventBroker

from bot.rasa_compat import check_rasa_version

logger = logging.getLogger(__name__)
check_rasa_version()  # overrides PikaEventBroker's internals (bot/rasa_compat.py)

MAX_KEPT = 100_000
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 10.0

Kept = tuple[int, dict[str, Any], "dict[str, str] | None"]  # (order of publication, event, headers)


class ReliablePikaEventBroker(PikaEventBroker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept: list[Kept] = []  # a heap: the earliest published first, whatever order the failures came in
        self._order = itertools.count()
        self._dropped = 0
        self._flusher: asyncio.Task | None = None

    def publish(self, event: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        item = (next(self._order), event, headers)
        if self._kept:  # behind the events still waiting: the order of a conversation's events is kept
            self._keep(item)
            return
        self._track(self._loop.create_task(self._send(item)))

    async def _send(self, item: Kept) -> None:
        _, event, headers = item
        try:
            if self._exchange is None:
                raise ConnectionError("not connected yet")
            await self._exchange.publish(self._message(event, headers), "")
        except Exception as error:  # noqa: BLE001 - whatever the cause, the event is kept and sent again
            logger.warning("RabbitMQ did not take a %s event (%s); it is kept and sent again.",
                           event.get("event"), type(error).__name__)
            self._keep(item)

    def _publish_unpublished_messages(self, *_: Any, **__: Any) -> None:
        """Rasa's reconnect callback: the queue's task is already retrying; make sure it runs."""
        self._start_flusher()

    def _keep(self, item: Kept) -> None:
        if len(self._kept) >= MAX_KEPT:
            heapq.heappop(self._kept)
            self._dropped += 1
            if self._dropped % 1000 == 1:
                logger.error("RabbitMQ unreachable for long: %d events dropped so far (the queue keeps %d).",
                             self._dropped, MAX_KEPT)
        heapq.heappush(self._kept, item)
        self._start_flusher()

    def _start_flusher(self) -> None:
        if self._kept and (self._flusher is None or self._flusher.done()):
            self._flusher = self._loop.create_task(self._flush())
            self._track(self._flusher)

    def _track(self, task: asyncio.Task) -> None:
        # Rasa's own set of running publications: awaited on shutdown, and a reference so the task is not collected.
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def _flush(self) -> None:
        pause = RETRY_FIRST_SECONDS
        while self._kept:
            item = self._kept[0]
            _, event, headers = item
            try:
                if self._exchange is None:
                    raise ConnectionError("not connected yet")
                await self._exchange.publish(self._message(event, headers), "")
            except Exception as error:  # noqa: BLE001
                logger.info("RabbitMQ: %d events waiting (%s); next try in %.1f s.", len(self._kept),
                            type(error).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, RETRY_MAX_SECONDS)
                continue
            if self._kept[0] is item:
                heapq.heappop(self._kept)
            else:  # an earlier event failed meanwhile and went ahead of this one
                self._kept.remove(item)
                heapq.heapify(self._kept)
            pause = RETRY_FIRST_SECONDS
        logger.info("RabbitMQ: every waiting event is published.")
