"""Channel state on both backends: the in-process default and the real local Redis."""

from __future__ import annotations

import uuid

import pytest
import redis

from integrations.channels.state import MemoryChannelState, RedisChannelState

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
