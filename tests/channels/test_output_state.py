"""Outboxes in the channel state (push/drain), on both backends: what holds an operator's reply until it is fetched."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from integrations.channels.state import OUTBOX_LIMIT, MemoryChannelState, RedisChannelState

REDIS_URL = "redis://127.0.0.1:6379/12"  # keys are unique per test: no flush, other tests may share the database


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def state(request):
    return MemoryChannelState() if request.param == "memory" else RedisChannelState(REDIS_URL)


def key() -> str:
    return f"outbox:test:{uuid.uuid4()}"


async def test_values_come_out_once_in_order(state) -> None:
    box = key()
    for text in ("您好，我是工作人员", "请问您的申请编号是多少？"):
        await state.push(box, {"text": text, "from": "operator"}, 60)
    assert [m["text"] for m in await state.drain(box)] == ["您好，我是工作人员", "请问您的申请编号是多少？"]
    assert await state.drain(box) == []
    assert await state.drain(key()) == []  # never used


async def test_outboxes_are_separate(state) -> None:
    first, second = key(), key()
    await state.push(first, {"text": "给第一位市民"}, 60)
    await state.push(second, {"text": "给第二位市民"}, 60)
    assert await state.drain(second) == [{"text": "给第二位市民"}]
    assert await state.drain(first) == [{"text": "给第一位市民"}]


async def test_an_unread_outbox_keeps_only_the_newest(state) -> None:
    box = key()
    for number in range(OUTBOX_LIMIT + 5):
        await state.push(box, number, 60)
    assert await state.drain(box) == list(range(5, OUTBOX_LIMIT + 5))


async def test_an_outbox_expires(state) -> None:
    box = key()
    await state.push(box, "稍后就过期", 1)
    await asyncio.sleep(1.2)
    assert await state.drain(box) == []


async def test_concurrent_pushes_and_drains_lose_nothing(state) -> None:
    box = key()
    received: list[int] = []

    async def reader() -> None:
        for _ in range(20):
            received.extend(await state.drain(box))
            await asyncio.sleep(0)

    await asyncio.gather(reader(), *(state.push(box, n, 60) for n in range(50)))
    received.extend(await state.drain(box))
    assert sorted(received) == list(range(50))
