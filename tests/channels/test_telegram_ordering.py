"""A chat's updates keep their order when they reach different Rasa replicas (telegram/ordering.py).

Each "replica" is a ChatQueues with its own RedisTurnOrder and its own Redis client on the same database, as two
processes would have. The processing stands in for a turn and its sendMessage calls and records when it ran.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import pytest
import redis
from redis.asyncio import Redis

from integrations.channels.telegram.ordering import LocalTurnOrder, RedisTurnOrder, TurnOrder
from integrations.channels.telegram.queues import ChatQueues
from integrations.channels.telegram.updates import Inbound, Kind
from tests.e2e.stack import free_port

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/15"
BOT_ID = "123456789"
WINDOW = 0.15  # the order window: every test submits its updates well within it
CHAT = 770012345


@dataclass
class Run:
    chat_id: int
    update_id: int
    start: float
    end: float = 0.0


@dataclass
class Recorder:
    """Processes updates like a turn followed by its sends, taking `seconds`; records each run."""

    seconds: float = 0.02
    runs: list[Run] = field(default_factory=list)
    running: dict[int, int] = field(default_factory=dict)  # chat id -> updates of it running now
    max_running: dict[int, int] = field(default_factory=dict)

    async def __call__(self, item: Inbound) -> None:
        run = Run(item.chat_id, item.update_id, time.monotonic())
        self.runs.append(run)
        self.running[item.chat_id] = self.running.get(item.chat_id, 0) + 1
        self.max_running[item.chat_id] = max(self.max_running.get(item.chat_id, 0), self.running[item.chat_id])
        await asyncio.sleep(self.seconds)
        self.running[item.chat_id] -= 1
        run.end = time.monotonic()

    def order(self, chat_id: int) -> list[int]:
        return [run.update_id for run in self.runs if run.chat_id == chat_id]

    def run_of(self, chat_id: int, update_id: int) -> Run:
        return next(run for run in self.runs if (run.chat_id, run.update_id) == (chat_id, update_id))


@pytest.fixture(autouse=True)
def clean_db() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()  # database 15 is this file's alone


@pytest.fixture
async def clients() -> AsyncIterator[Callable[[], Redis]]:
    """A new Redis client per call (one per replica); all closed afterwards."""
    made: list[Redis] = []

    def client() -> Redis:
        made.append(Redis.from_url(REDIS_URL))
        return made[-1]

    yield client
    for each in made:
        await each.close(close_connection_pool=True)


def update(update_id: int, chat_id: int = CHAT) -> Inbound:
    return Inbound(update_id, Kind.TEXT, chat_id, str(chat_id), "您好")


def replica(process: Callable[[Inbound], Awaitable[None]], order: TurnOrder, window: float = WINDOW) -> ChatQueues:
    return ChatQueues(process, order_window=window, order=order)


def redis_order(client: Redis, lease: float = 5.0, max_stall: float = 10.0) -> RedisTurnOrder:
    return RedisTurnOrder(client, BOT_ID, lease=lease, poll=0.01, max_stall=max_stall)


async def drain(*replicas: ChatQueues) -> None:
    await asyncio.gather(*(queues.drain(10) for queues in replicas))


async def later_update_first_on_the_other_replica(order_a: TurnOrder, order_b: TurnOrder) -> Recorder:
    """Update 6 reaches replica B, 5 reaches replica A a few ms later; 5's sends are slow (~200 ms)."""
    recorder = Recorder(seconds=0.2)
    a, b = replica(recorder, order_a), replica(recorder, order_b)
    b.submit(update(6))
    await asyncio.sleep(0.02)
    a.submit(update(5))
    await drain(a, b)
    return recorder


async def test_a_later_update_on_another_replica_waits_until_the_earlier_one_is_sent(clients) -> None:
    recorder = await later_update_first_on_the_other_replica(redis_order(clients()), redis_order(clients()))
    assert recorder.order(CHAT) == [5, 6]
    assert recorder.run_of(CHAT, 6).start >= recorder.run_of(CHAT, 5).end
    assert redis.Redis.from_url(REDIS_URL).dbsize() == 0  # every place was released


async def test_without_the_shared_order_each_replica_only_orders_its_own_updates() -> None:
    """The same scenario with the in-process order only (what one replica alone needs): the replies overtake."""
    recorder = await later_update_first_on_the_other_replica(LocalTurnOrder(), LocalTurnOrder())
    assert recorder.order(CHAT) == [6, 5]
    assert recorder.run_of(CHAT, 5).start < recorder.run_of(CHAT, 6).end


async def test_a_chat_spread_over_two_replicas_runs_each_update_once_in_order_one_at_a_time(clients) -> None:
    recorder = Recorder(seconds=0.02)
    replicas = [replica(recorder, redis_order(clients())), replica(recorder, redis_order(clients()))]
    update_ids = list(range(100, 112))
    shuffled = random.Random(7).sample(update_ids, len(update_ids))
    for update_id in shuffled:
        replicas[update_id % 2].submit(update(update_id))  # alternately, as round robin would spread them
        await asyncio.sleep(0.003)
    await drain(*replicas)
    assert recorder.order(CHAT) == update_ids
    assert recorder.max_running[CHAT] == 1
    runs = sorted(recorder.runs, key=lambda run: run.start)
    assert all(earlier.end <= later.start for earlier, later in zip(runs, runs[1:], strict=False))


async def test_different_chats_do_not_wait_for_each_other(clients) -> None:
    recorder = Recorder(seconds=0.3)
    a, b = replica(recorder, redis_order(clients())), replica(recorder, redis_order(clients()))
    a.submit(update(7, chat_id=1))
    b.submit(update(3, chat_id=2))  # a smaller update_id, but of another chat
    a.submit(update(2, chat_id=3))
    await drain(a, b)
    chat_1, chat_2, chat_3 = (recorder.run_of(chat, u) for chat, u in [(1, 7), (2, 3), (3, 2)])
    assert max(chat_1.start, chat_2.start, chat_3.start) < min(chat_1.end, chat_2.end, chat_3.end)


async def test_an_update_held_by_a_replica_that_died_blocks_the_chat_only_until_its_lease_expires(clients) -> None:
    lease = 0.5
    started = time.monotonic()
    dead = redis_order(clients(), lease=lease)
    dead.register(CHAT, 5)  # accepted update 5, then the process died: nobody renews or releases its place
    dead.forget(CHAT)
    await asyncio.sleep(0.05)
    recorder = Recorder()
    survivor = replica(recorder, redis_order(clients(), lease=lease))
    survivor.submit(update(6))
    await drain(survivor)
    waited = recorder.run_of(CHAT, 6).start - started
    assert recorder.order(CHAT) == [6]
    assert lease <= waited < lease + 0.5  # it did wait for the place ahead, but not longer than the lease
    db = redis.Redis.from_url(REDIS_URL)
    assert all(db.pttl(key) > 0 for key in db.scan_iter())  # whatever is left expires


async def test_a_live_replica_keeps_its_place_for_longer_than_the_lease(clients) -> None:
    """A slow turn (longer than the lease) keeps later updates on other replicas waiting: its lease is renewed."""
    recorder = Recorder(seconds=0.7)
    a, b = (replica(recorder, redis_order(clients(), lease=0.2)) for _ in range(2))
    a.submit(update(5))
    b.submit(update(6))
    await drain(a, b)
    assert recorder.order(CHAT) == [5, 6]
    assert recorder.run_of(CHAT, 6).start >= recorder.run_of(CHAT, 5).end


async def test_a_waiting_update_gives_way_to_an_earlier_one_that_arrives_meanwhile(clients) -> None:
    """B waits with update 8 for A's 7 when 6 reaches B: B must run 6 first, or A (waiting for 6) and B would wait
    for each other until the stall limit."""
    recorder = Recorder()
    a = replica(recorder, redis_order(clients(), max_stall=5), window=0.3)
    b = replica(recorder, redis_order(clients(), max_stall=5), window=0)
    a.submit(update(7))
    await asyncio.sleep(0.01)
    b.submit(update(8))  # B's worker starts at once and waits for 7
    await asyncio.sleep(0.05)
    b.submit(update(6))
    started = time.monotonic()
    await drain(a, b)
    assert recorder.order(CHAT) == [6, 7, 8]
    assert time.monotonic() - started < 2


async def test_an_update_stuck_ahead_holds_the_chat_up_only_until_the_stall_limit(clients, caplog) -> None:
    stuck = redis_order(clients(), lease=0.3)
    stuck.register(CHAT, 5)  # held and renewed, but never processed
    recorder = Recorder()
    b = replica(recorder, redis_order(clients(), lease=0.3, max_stall=0.5))
    started = time.monotonic()
    b.submit(update(6))
    with caplog.at_level(logging.WARNING):
        await drain(b)
    assert recorder.order(CHAT) == [6]
    assert 0.5 < recorder.run_of(CHAT, 6).start - started < 1.5
    assert "waited" in caplog.text and str(CHAT) not in caplog.text  # logged, with the chat id hashed
    stuck.forget(CHAT)


async def test_without_redis_the_update_is_still_processed_and_logged(caplog) -> None:
    client = Redis.from_url(f"redis://127.0.0.1:{free_port()}/15")  # nothing listens there
    recorder = Recorder()
    queues = replica(recorder, redis_order(client))
    with caplog.at_level(logging.WARNING):
        queues.submit(update(5))
        queues.submit(update(6))
        await drain(queues)
    await client.close(close_connection_pool=True)
    assert recorder.order(CHAT) == [5, 6]
    assert "runs unordered" in caplog.text and str(CHAT) not in caplog.text
