"""Short-lived channel state: de-duplication keys, payload maps, per-user rate limits, outboxes.

Redis when `REDIS_URL` is set (shared by every Rasa replica), an in-process store otherwise.
Both backends expose the same small async interface, so channel code never checks which one it has.
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol

import redis.asyncio as aioredis
from pyrate_limiter import AbstractClock

from bot.settings import Settings
from integrations.channels.ratelimit import memory_limiter, redis_limiter

PREFIX = "govbot:channel:"
OUTBOX_LIMIT = 100  # messages kept per outbox: an outbox nobody reads must not grow without bound


class ChannelState(Protocol):
    async def claim(self, key: str, ttl: int) -> bool:
        """True the first time `key` is claimed within `ttl` seconds, False for every repeat."""

    async def put(self, key: str, value: Any, ttl: int) -> None:
        """Store a JSON-serialisable value for `ttl` seconds."""

    async def get(self, key: str) -> Any | None: ...

    async def hit(self, key: str, limit: int, window: int) -> bool:
        """True when fewer than `limit` events of `key` were allowed in the last `window` seconds (this one is then
        counted); False otherwise (not counted). Both backends decide alike (ratelimit.py)."""

    async def push(self, key: str, value: Any, ttl: int) -> None:
        """Append a JSON-serialisable value to the list `key` (kept `ttl` seconds after the last push; only the
        newest OUTBOX_LIMIT values are kept)."""

    async def drain(self, key: str) -> list[Any]:
        """Every value pushed to `key` and not drained yet, oldest first; the list is then empty."""


class MemoryChannelState:
    """In-process equivalent for the embedded default (one Rasa process, nothing shared)."""

    def __init__(self, clock: AbstractClock | None = None) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._lists: dict[str, tuple[float, list[Any]]] = {}
        self._limiter = memory_limiter(clock)

    def _sweep(self, now: float) -> None:
        # Cheap amortised clean-up so a long-running process does not grow without bound.
        if len(self._values) > 10_000:
            self._values = {k: v for k, v in self._values.items() if v[0] > now}
        if len(self._lists) > 10_000:
            self._lists = {k: v for k, v in self._lists.items() if v[0] > now}

    async def claim(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        self._sweep(now)
        current = self._values.get(key)
        if current is not None and current[0] > now:
            return False
        self._values[key] = (now + ttl, True)
        return True

    async def put(self, key: str, value: Any, ttl: int) -> None:
        self._values[key] = (time.monotonic() + ttl, json.loads(json.dumps(value)))

    async def get(self, key: str) -> Any | None:
        current = self._values.get(key)
        if current is None or current[0] <= time.monotonic():
            return None
        return current[1]

    async def hit(self, key: str, limit: int, window: int) -> bool:
        return await self._limiter.allow(key, limit, window)

    async def push(self, key: str, value: Any, ttl: int) -> None:
        now = time.monotonic()
        self._sweep(now)
        expires, items = self._lists.get(key, (0.0, []))
        items = items if expires > now else []
        items.append(json.loads(json.dumps(value)))
        self._lists[key] = (now + ttl, items[-OUTBOX_LIMIT:])

    async def drain(self, key: str) -> list[Any]:
        expires, items = self._lists.pop(key, (0.0, []))
        return items if expires > time.monotonic() else []


class RedisChannelState:
    def __init__(self, url: str, clock: AbstractClock | None = None) -> None:
        self.redis = aioredis.from_url(url)
        self._limiter = redis_limiter(self.redis, PREFIX + "rate:", clock)

    async def claim(self, key: str, ttl: int) -> bool:
        return bool(await self.redis.set(PREFIX + key, 1, nx=True, ex=ttl))

    async def put(self, key: str, value: Any, ttl: int) -> None:
        await self.redis.set(PREFIX + key, json.dumps(value, ensure_ascii=False), ex=ttl)

    async def get(self, key: str) -> Any | None:
        raw = await self.redis.get(PREFIX + key)
        return None if raw is None else json.loads(raw)

    async def hit(self, key: str, limit: int, window: int) -> bool:
        return await self._limiter.allow(key, limit, window)

    async def push(self, key: str, value: Any, ttl: int) -> None:
        name = PREFIX + "list:" + key
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(name, json.dumps(value, ensure_ascii=False))
            pipe.ltrim(name, -OUTBOX_LIMIT, -1)
            pipe.expire(name, ttl)
            await pipe.execute()

    async def drain(self, key: str) -> list[Any]:
        # Read and delete in one MULTI: a value pushed meanwhile lands in the next drain, never in none.
        name = PREFIX + "list:" + key
        async with self.redis.pipeline(transaction=True) as pipe:
            raw, _ = await pipe.lrange(name, 0, -1).delete(name).execute()
        return [json.loads(item) for item in raw]


def channel_state(settings: Settings | None = None) -> ChannelState:
    settings = settings or Settings.from_env()
    if settings.redis_url:
        return RedisChannelState(settings.redis_url)
    return MemoryChannelState()
