"""Per-chat ordered processing: one worker per busy chat, updates taken in update_id order.

The webhook answers Telegram at once and leaves the turn to this queue. Rasa's lock store serialises the turns
of a conversation, but not the sendMessage calls after them, and near-simultaneous webhook requests may arrive in
any order; one worker per chat keeps "turn, then its replies" strictly sequential, ordered by update_id (the order
Telegram received the messages in). Different chats run concurrently.

This orders only the updates that reached this process; with several replicas the `order` (ordering.py) makes
each update also wait for the chat's earlier updates held by other replicas.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Awaitable, Callable

from bot.masking import hash_sender_id
from integrations.channels.telegram.ordering import LocalTurnOrder, TurnOrder
from integrations.channels.telegram.updates import Inbound

logger = logging.getLogger(__name__)

MAX_PENDING_PER_CHAT = 50  # beyond this a chat is flooding; the rate limit would only answer "slow down" anyway

Pending = list[tuple[int, int, Inbound]]  # a heap of (update_id, arrival sequence, update)


class ChatQueues:
    def __init__(self, process: Callable[[Inbound], Awaitable[None]], order_window: float = 0.1,
                 order: TurnOrder | None = None) -> None:
        self._process = process
        self._order_window = order_window
        self._order = order or LocalTurnOrder()
        self._pending: dict[int, Pending] = {}
        self._workers: dict[int, asyncio.Task] = {}
        self._sequence = itertools.count()  # tie-breaker, so equal update_ids never compare Inbounds

    def submit(self, item: Inbound) -> bool:
        """Queue an update (no await: arrival order is kept); False when the chat's queue is full."""
        pending = self._pending.setdefault(item.chat_id, [])
        if len(pending) >= MAX_PENDING_PER_CHAT:
            logger.warning("Telegram chat %s has %d pending updates; dropped update %d",
                           hash_sender_id(item.chat_id), len(pending), item.update_id)
            return False
        heapq.heappush(pending, (item.update_id, next(self._sequence), item))
        self._order.register(item.chat_id, item.update_id)  # now, so other replicas see it within their window
        if item.chat_id not in self._workers:
            self._workers[item.chat_id] = asyncio.create_task(self._work(item.chat_id))
        return True

    async def _work(self, chat_id: int) -> None:
        # A short wait on an idle chat lets updates sent together arrive, so they run in update_id order.
        await asyncio.sleep(self._order_window)
        pending = self._pending[chat_id]
        try:
            while pending:
                entry = heapq.heappop(pending)
                item = entry[2]
                if not await self._order.wait_turn(chat_id, item.update_id, _earlier_queued(pending, item.update_id)):
                    heapq.heappush(pending, entry)  # an earlier update reached this queue meanwhile: it goes first
                    continue
                await self._run(item)
        finally:
            self._order.forget(chat_id)  # holds nothing unless the worker was cancelled with updates still queued
            # No await between the last check and the clean-up: a new submit either saw this worker busy
            # (and its item was taken above) or finds no worker and starts one.
            self._pending.pop(chat_id, None)
            self._workers.pop(chat_id, None)

    async def _run(self, item: Inbound) -> None:
        try:
            await self._process(item)
        except Exception:  # one bad update must not stop the chat's later updates
            logger.exception("Telegram update %d failed", item.update_id)
        finally:
            await self._order.done(item.chat_id, item.update_id)

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    async def drain(self, timeout: float) -> None:
        """Let queued turns finish (server shutdown); cancel what is still running after `timeout` seconds."""
        workers = list(self._workers.values())
        if not workers:
            return
        _, still_running = await asyncio.wait(workers, timeout=timeout)
        for task in still_running:
            task.cancel()
        if still_running:
            logger.warning("Telegram: %d chats still busy at shutdown; their queued updates are dropped",
                           len(still_running))


def _earlier_queued(pending: Pending, update_id: int) -> Callable[[], bool]:
    return lambda: bool(pending) and pending[0][0] < update_id
