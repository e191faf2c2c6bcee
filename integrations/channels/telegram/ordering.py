"""Per-chat update order across Rasa replicas: a "turn order" on the shared Redis.

ChatQueues (queues.py) orders a chat's updates by update_id, but only those that reached its own process. Behind a
round-robin load balancer Telegram's parallel webhook connections spread one chat's updates over the replicas:
update 5 may reach replica A and update 6 replica B, and each replica's queue would happily run its own update at
once, so 6's replies could be sent before (or interleaved with) 5's. Rasa's lock store serialises the turns but
neither the replies after them nor the update_id order.

So with Redis each chat has a sorted set of the update_ids that some replica accepted and has not finished, each
entry with a lease (a key with a TTL) that its replica renews while it holds the update:

- submit: the entry is added at once (before the order window elapses), so an earlier update that arrives on
  another replica within the window is seen by the replica holding a later one;
- before processing: wait until no live entry with a smaller update_id is left. An entry whose lease expired
  belongs to a replica that died (or lost Redis); the waiter removes it rather than wait for it forever;
- after processing (the turn and its sendMessage calls): remove the entry, which lets the next update go.

The chat's own earlier updates are ordered by the local queue, so a replica never waits for its own entries; and a
worker waiting for update 8 gives way to an earlier update 6 that reached its queue meanwhile, otherwise it could
wait for replica A's 7 while A waits for that 6 (a deadlock until the stall limit). If the same update stays ahead
for MAX_STALL_SECONDS although its lease is renewed, the waiter logs and goes on: one stuck chat never stalls a
worker forever. Redis errors never lose an update: they are logged and the update is processed anyway, unordered.

Without Redis there is one process and the local queue is enough: LocalTurnOrder does nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.masking import hash_sender_id
from integrations.channels.state import PREFIX, ChannelState, RedisChannelState
from integrations.channels.telegram.settings import CHANNEL

logger = logging.getLogger(__name__)

LEASE_SECONDS = 30.0  # a dead replica holds its chats up for at most this long; renewed every third of it
POLL_SECONDS = 0.05  # how often a waiting update looks again: short against a turn, cheap for Redis
MAX_STALL_SECONDS = 120.0  # a slow turn (~30 s) plus sends waiting out Telegram's flood control (up to a minute)
REDIS_ERRORS = (RedisError, OSError)


class TurnOrder(Protocol):
    def register(self, chat_id: int, update_id: int) -> None:
        """Take a place in the chat's order as soon as the update is accepted (no await: called from submit)."""

    async def wait_turn(self, chat_id: int, update_id: int, give_way: Callable[[], bool]) -> bool:
        """True when the update may be processed now; False as soon as `give_way()` is true (then try again)."""

    async def done(self, chat_id: int, update_id: int) -> None:
        """The update was processed (turn and replies): the next one may go."""

    def forget(self, chat_id: int) -> None:
        """Stop holding the chat's places (its queued updates were dropped at shutdown): they expire with the lease."""


class LocalTurnOrder:
    """One process: the in-process queue already orders each chat's updates."""

    def register(self, chat_id: int, update_id: int) -> None:
        pass

    async def wait_turn(self, chat_id: int, update_id: int, give_way: Callable[[], bool]) -> bool:
        return True

    async def done(self, chat_id: int, update_id: int) -> None:
        pass

    def forget(self, chat_id: int) -> None:
        pass


class RedisTurnOrder:
    """The order shared by every replica using the same Redis (and bot)."""

    def __init__(self, redis: Redis, bot_id: str, lease: float = LEASE_SECONDS, poll: float = POLL_SECONDS,
                 max_stall: float = MAX_STALL_SECONDS) -> None:
        self._redis = redis
        self._bot_id = bot_id
        self._lease_ms = int(lease * 1000)
        self._poll = poll
        self._max_stall = max_stall
        # chat id -> update id -> the task adding its entry: the places this replica holds and renews
        self._held: dict[int, dict[int, asyncio.Task]] = {}
        self._renewer: asyncio.Task | None = None

    def _order_key(self, chat_id: int) -> str:
        return f"{PREFIX}{CHANNEL}:order:{self._bot_id}:{chat_id}"

    def _lease_key(self, chat_id: int, update_id: int) -> str:
        return f"{self._order_key(chat_id)}:{update_id}"

    def register(self, chat_id: int, update_id: int) -> None:
        places = self._held.setdefault(chat_id, {})
        if update_id not in places:  # a redelivery already queued here holds the same place
            places[update_id] = asyncio.create_task(self._enter(chat_id, update_id))
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.create_task(self._renew())

    async def _enter(self, chat_id: int, update_id: int) -> None:
        # Entry and lease in one MULTI: a waiter never sees an entry without its lease and takes it for dead.
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zadd(self._order_key(chat_id), {str(update_id): update_id})
                pipe.pexpire(self._order_key(chat_id), 2 * self._lease_ms)  # outlives every lease in it
                pipe.set(self._lease_key(chat_id, update_id), 1, px=self._lease_ms)
                await pipe.execute()
        except REDIS_ERRORS as error:
            self._log_unordered(chat_id, update_id, error)

    async def _renew(self) -> None:
        """Keep the leases of every held place alive while this process is; ends when none is held."""
        while self._held:
            await asyncio.sleep(self._lease_ms / 3000)
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for chat_id, places in self._held.items():
                        for update_id in places:
                            # xx: never bring back a place that done() removed meanwhile, it would block the chat
                            pipe.set(self._lease_key(chat_id, update_id), 1, px=self._lease_ms, xx=True)
                        pipe.pexpire(self._order_key(chat_id), 2 * self._lease_ms)
                    await pipe.execute()
            except REDIS_ERRORS as error:
                logger.warning("Telegram: renewing update order leases failed (%s); retrying in %.0f s",
                               type(error).__name__, self._lease_ms / 3000)

    async def wait_turn(self, chat_id: int, update_id: int, give_way: Callable[[], bool]) -> bool:
        entering = self._held.get(chat_id, {}).get(update_id)
        if entering is not None:
            await entering  # so that done() can never run before the entry is added
        blocker, since = None, time.monotonic()
        while not give_way():
            try:
                ahead = await self._first_live_ahead(chat_id, update_id)
            except REDIS_ERRORS as error:
                self._log_unordered(chat_id, update_id, error)
                return True
            if ahead is None:
                return True
            if ahead != blocker:  # the chat made progress: the stall clock starts again
                blocker, since = ahead, time.monotonic()
            elif time.monotonic() - since > self._max_stall:
                logger.warning("Telegram chat %s: update %d waited %g s for update %d on another replica; going on",
                               hash_sender_id(chat_id), update_id, self._max_stall, ahead)
                return True
            await asyncio.sleep(self._poll)
        return False

    async def _first_live_ahead(self, chat_id: int, update_id: int) -> int | None:
        """The smallest earlier update another replica still holds; expired places are removed on the way."""
        key = self._order_key(chat_id)
        mine = self._held.get(chat_id, {})
        ahead = [int(m) for m in await self._redis.zrangebyscore(key, "-inf", f"({update_id}")]
        ahead = [other for other in ahead if other not in mine]  # the local queue orders our own
        if not ahead:
            return None
        leases = await self._redis.mget([self._lease_key(chat_id, other) for other in ahead])
        expired = [other for other, lease in zip(ahead, leases, strict=True) if lease is None]
        if expired:
            await self._redis.zrem(key, *map(str, expired))
        live = [other for other, lease in zip(ahead, leases, strict=True) if lease is not None]
        return min(live, default=None)

    async def done(self, chat_id: int, update_id: int) -> None:
        self._release(chat_id, update_id)  # first: even if Redis fails below, the lease is no longer renewed
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(self._order_key(chat_id), str(update_id))
                pipe.delete(self._lease_key(chat_id, update_id))
                await pipe.execute()
        except REDIS_ERRORS as error:
            logger.warning("Telegram chat %s: could not release update %d (%s); it expires within %.0f s",
                           hash_sender_id(chat_id), update_id, type(error).__name__, self._lease_ms / 1000)

    def _release(self, chat_id: int, update_id: int) -> None:
        places = self._held.get(chat_id, {})
        places.pop(update_id, None)
        if not places:
            self._held.pop(chat_id, None)

    def forget(self, chat_id: int) -> None:
        self._held.pop(chat_id, None)

    @staticmethod
    def _log_unordered(chat_id: int, update_id: int, error: BaseException) -> None:
        logger.warning("Telegram chat %s: update order across replicas unavailable (%s); update %d runs unordered",
                       hash_sender_id(chat_id), type(error).__name__, update_id)


def turn_order(state: ChannelState, bot_id: str) -> TurnOrder:
    """The Redis order when the channel state is shared by replicas, the local no-op otherwise."""
    if isinstance(state, RedisChannelState):
        return RedisTurnOrder(state.redis, bot_id)
    return LocalTurnOrder()
