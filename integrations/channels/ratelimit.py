"""Per-user message limits (CHANNEL_RATE_LIMIT) with pyrate-limiter: at most `limit` accepted messages in any
`window` seconds, decided the same way in memory (one process) and in Redis (shared by every replica).

pyrate-limiter keeps, per key, a log of the messages it accepted and counts those inside the window: a list in
memory, a sorted set and one Lua script in Redis. A refused message is not logged, so a user who keeps flooding still
gets `limit` messages through per window, and never more in any stretch of `window` seconds.

The library's own bucket factories clean every bucket from a background task and keep each bucket for good, which
with one bucket per user grows without bound (pyrate-limiter issues #156 and #180). Here a user's log is trimmed
when the user writes again, and an idle user's log goes away: in memory at the next sweep, in Redis when its key
expires.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from inspect import isawaitable

import redis.asyncio as aioredis
from pyrate_limiter import (
    AbstractClock,
    BucketFactory,
    InMemoryBucket,
    Limiter,
    MonotonicClock,
    Rate,
    RateItem,
    RedisBucket,
    TimeClock,
)
from pyrate_limiter.buckets.redis_bucket import LuaScript
from redis.exceptions import NoScriptError

SWEEP_ABOVE = 10_000  # in-memory users kept before the idle ones are dropped
# Replicas' clocks differ a little: Redis keeps a second more than the window, so a replica whose clock is behind
# still finds every entry that is inside the window by its own clock.
CLOCK_SKEW_MS = 1000
# pyrate-limiter's script counts the entries up to the new one's own time: messages of one user taking their time
# before one another reaches Redis (25 at once: 14 admitted at a limit of 12) are not counted by those that take an
# earlier time. Ours counts every entry of the window, later ones included.
PUT_ITEM = LuaScript.PUT_ITEM.replace(
    "ZCOUNT', bucket, now - interval, now)", "ZCOUNT', bucket, now - interval, '+inf')"
)
assert PUT_ITEM != LuaScript.PUT_ITEM, "pyrate-limiter's PUT_ITEM script changed: review ExpiringRedisBucket"
PUT_ITEM_SHA = hashlib.sha1(PUT_ITEM.encode()).hexdigest()  # what SCRIPT LOAD answers for the script


class MemoryBuckets(BucketFactory):
    """One in-memory bucket per user; times from the process's monotonic clock (immune to clock steps)."""

    def __init__(self, rate: Rate, clock: AbstractClock | None = None) -> None:
        self.rate = rate
        self.clock = clock or MonotonicClock()
        self.buckets: dict[str, InMemoryBucket] = {}
        self._next_sweep = 0

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, self.clock.now(), weight)

    def get(self, item: RateItem) -> InMemoryBucket:
        if len(self.buckets) > SWEEP_ABOVE and item.timestamp >= self._next_sweep:
            self._sweep(item.timestamp)
        bucket = self.buckets.get(item.name)
        if bucket is None:
            bucket = self.buckets[item.name] = InMemoryBucket([self.rate])
        # Drops only entries older than now - interval; the bucket counts from now - interval on, edge included.
        bucket.leak(item.timestamp)
        return bucket

    def _sweep(self, now: int) -> None:
        # At most once per window: with that many users active, sweeping on every message would cost a lot for nothing.
        self._next_sweep = now + self.rate.interval
        for name, bucket in list(self.buckets.items()):
            bucket.leak(now)
            if not bucket.count():
                del self.buckets[name]


class ExpiringRedisBucket(RedisBucket):
    """pyrate-limiter's Redis bucket, plus what a bucket per user needs: the key expires once idle, old entries are
    trimmed, and the script is loaded again when Redis lost it (a restart empties the script cache)."""

    async def put(self, item: RateItem) -> bool:  # type: ignore[override]  # the async form of RedisBucket.put
        try:
            accepted = await super().put(item)
        except NoScriptError:
            self.script_hash = await self.redis.script_load(PUT_ITEM)
            accepted = await super().put(item)
        await self._trim(item.timestamp)
        return bool(accepted)

    async def _trim(self, now: int) -> None:
        # After the script's ZADD, so that the first entry of a new key gets its expiry too.
        keep_ms = self.rates[-1].interval + CLOCK_SKEW_MS
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(self.bucket_key, 0, now - keep_ms - 1)
            pipe.pexpire(self.bucket_key, keep_ms)
            await pipe.execute()


class RedisBuckets(BucketFactory):
    """One sorted set per user under `prefix`; times from the wall clock, which all replicas share."""

    def __init__(self, redis: aioredis.Redis, prefix: str, rate: Rate, clock: AbstractClock | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.rate = rate
        self.clock = clock or TimeClock()

    def wrap_item(self, name: str, weight: int = 1) -> RateItem:
        return RateItem(name, self.clock.now(), weight)

    def get(self, item: RateItem) -> ExpiringRedisBucket:
        # A bucket object per call: it is a handle on the key (its failing_rate must not be shared between calls).
        return ExpiringRedisBucket([self.rate], self.redis, self.prefix + item.name, PUT_ITEM_SHA)


BucketMaker = Callable[[Rate], BucketFactory]


class UserRateLimiter:
    """Decides for each message whether its key is within `limit` per `window` seconds (one Limiter per rate)."""

    def __init__(self, make_buckets: BucketMaker) -> None:
        self._make_buckets = make_buckets
        self._limiters: dict[tuple[int, int], Limiter] = {}

    async def allow(self, key: str, limit: int, window: int) -> bool:
        limiter = self._limiters.get((limit, window))
        if limiter is None:
            buckets = self._make_buckets(Rate(limit, window * 1000))
            limiter = self._limiters[(limit, window)] = Limiter(buckets, raise_when_fail=False)
        accepted = limiter.try_acquire(key)
        return bool(await accepted if isawaitable(accepted) else accepted)


def memory_limiter(clock: AbstractClock | None = None) -> UserRateLimiter:
    return UserRateLimiter(lambda rate: MemoryBuckets(rate, clock))


def redis_limiter(redis: aioredis.Redis, prefix: str, clock: AbstractClock | None = None) -> UserRateLimiter:
    return UserRateLimiter(lambda rate: RedisBuckets(redis, prefix, rate, clock))
