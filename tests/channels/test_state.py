"""Channel state on both backends: the in-process default and the real local Redis."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import pytest
import redis
from pyrate_limiter import AbstractClock, Limiter, Rate

from integrations.channels import ratelimit
from integrations.channels.state import PREFIX, ChannelState, MemoryChannelState, RedisChannelState

REDIS_URL = "redis://127.0.0.1:6379/12"


@pytest.fixture(params=["memory", "redis"])
def state(request):
    if request.param == "memory":
        return MemoryChannelState()
    redis.Redis.from_url(REDIS_URL).flushdb()
    return RedisChannelState(REDIS_URL)


async def test_a_key_is_claimed_once(state) -> None:
    key = f"dedup:{uuid.uuid4()}"
    results = [await state.claim(key, 60) for _ in range(3)]
    assert results == [True, False, False]
    assert await state.claim(f"dedup:{uuid.uuid4()}", 60)


async def test_a_flooding_user_is_limited_and_others_are_not(state) -> None:
    key = f"wechat:{uuid.uuid4()}"
    allowed = [await state.hit(key, 5, 60) for _ in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    assert await state.hit(f"wechat:{uuid.uuid4()}", 5, 60)


# -- the rate limit decides alike on every backend ---------------------------------------------------------------


class SetClock(AbstractClock):
    """A clock the test sets, in milliseconds as pyrate-limiter counts."""

    def __init__(self) -> None:
        self.ms = 0

    def now(self) -> int:
        return self.ms


class Backend:
    """One or more channel states sharing one clock; message i goes to state i % len(states) (a replica). Keys get
    a prefix of the run's own, so that no run finds another's log in Redis."""

    def __init__(self, make: Callable[[SetClock], list[ChannelState]]) -> None:
        self.clock = SetClock()
        self.states = make(self.clock)
        self.run = uuid.uuid4().hex

    async def decide(self, messages: list[tuple[int, str]], limit: int, window: int) -> list[bool]:
        decisions = []
        for index, (at_ms, key) in enumerate(messages):
            self.clock.ms = at_ms
            decisions.append(await self.states[index % len(self.states)].hit(f"{self.run}:{key}", limit, window))
        return decisions


BACKENDS: dict[str, Callable[[SetClock], list[ChannelState]]] = {
    "memory": lambda clock: [MemoryChannelState(clock)],
    "redis": lambda clock: [RedisChannelState(REDIS_URL, clock)],
    "redis, two replicas": lambda clock: [RedisChannelState(REDIS_URL, clock), RedisChannelState(REDIS_URL, clock)],
}
# Wall-clock milliseconds: Redis expires the keys relative to its own clock, so test times stay near the real time.
START_MS = 1_900_000_000_000


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_limit_is_a_sliding_window_of_accepted_messages(backend: str) -> None:
    """3 messages per 10 s. A refused message does not count; the window's edge (exactly 10 s ago) still counts."""
    user, other = "webchat:visitor", "webchat:another-visitor"
    script = [  # (seconds after the start, whose message, allowed?)
        (0, user, True), (1, user, True), (2, user, True),
        (3, user, False), (3, other, True),  # the other user has a budget of their own
        (9, user, False),
        (10, user, False),  # the first message is exactly 10 s old: still inside the window
        (10.001, user, True),  # now it is out, and the refused ones never counted
        (10.5, user, False),
        (11.001, user, True),
        (60, user, True), (60, user, True), (60, user, True), (60, user, False),  # a burst after a pause
    ]
    messages = [(START_MS + round(at * 1000), key) for at, key, _ in script]
    decisions = await Backend(BACKENDS[backend]).decide(messages, limit=3, window=10)
    assert decisions == [allowed for _, _, allowed in script]


@pytest.mark.parametrize("backend", ["redis", "redis, two replicas"])
async def test_a_message_whose_time_was_taken_later_but_arrived_first_still_counts(backend: str) -> None:
    """Messages sent at once take their time before their turn in Redis (or on replicas whose clocks differ a
    little): one stamped later that arrives first must count for those stamped earlier. pyrate-limiter's own script
    counted only entries up to the new one's time, and let 14 of 25 simultaneous messages through a limit of 12."""
    messages = [(START_MS + offset, "webchat:flooder") for offset in (300, 200, 100, 0)]
    decisions = await Backend(BACKENDS[backend]).decide(messages, limit=2, window=10)
    assert decisions == [True, True, False, False]


def reference(messages: list[tuple[int, str]], limit: int, window_ms: int) -> list[bool]:
    """The rule written out: allowed when fewer than `limit` allowed messages lie within the last window."""
    accepted: dict[str, list[int]] = {}
    decisions = []
    for at_ms, key in messages:
        inside = [t for t in accepted.get(key, []) if t >= at_ms - window_ms]
        decisions.append(len(inside) < limit)
        if decisions[-1]:
            accepted.setdefault(key, []).append(at_ms)
    return decisions


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_backend_makes_the_same_decisions_for_the_same_messages(seed: int) -> None:
    rng = random.Random(seed)
    users = ["tg:1", "tg:2", "tg:3"]
    at_ms, messages = START_MS, []
    for _ in range(300):
        at_ms += rng.choice([0, 1, 50, 400, 999, 1000, 1001, 2500])  # bursts, and steps onto the window's edge
        messages.append((at_ms, rng.choice(users)))
    expected = reference(messages, limit=4, window_ms=5000)
    assert False in expected and expected.count(True) > 100, "the sequence must exercise both answers"
    for backend in BACKENDS:
        assert await Backend(BACKENDS[backend]).decide(messages, limit=4, window=5) == expected, backend


async def test_a_redis_rate_key_expires_and_survives_a_lost_script() -> None:
    client, user = redis.Redis.from_url(REDIS_URL), f"rest:{uuid.uuid4()}"
    state = RedisChannelState(REDIS_URL)
    assert await state.hit(user, 2, 30)
    ttl = client.pttl(f"{PREFIX}rate:{user}")
    assert 30_000 < ttl <= 31_000, "an idle user's log goes away one window (and a second of clock skew) later"
    client.script_flush()  # what a Redis restart does to the script cache
    assert await state.hit(user, 2, 30)
    assert not await state.hit(user, 2, 30)


def test_idle_users_are_forgotten_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratelimit, "SWEEP_ABOVE", 3)
    clock = SetClock()
    buckets = ratelimit.MemoryBuckets(Rate(2, 10_000), clock)
    limiter = Limiter(buckets, raise_when_fail=False)
    for second, user in enumerate("abcde"):
        clock.ms = second * 1000
        assert limiter.try_acquire(user)
    # The sweep that ran at e's message (4 s) comes again one window later; e's message is then exactly 10 s old.
    clock.ms = 14_000
    assert limiter.try_acquire("f")
    assert sorted(buckets.buckets) == ["e", "f"]
