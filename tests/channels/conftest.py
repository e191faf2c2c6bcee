"""One running stack for every channel test, on the Redis column, with local fakes of WeChat's and Telegram's APIs.

The fakes listen on the ports fixed here; each channel's tests start its fake (session fixture) before using
`channel_stack`. The stack runs with REDIS_URL so de-duplication, payload maps, tokens and rate limits go through
the real local Redis (database 13, flushed first); tests/channels/test_state.py covers the in-process backend.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.channels.env import channel_environment
from tests.e2e.stack import ROOT, Stack

CHANNEL_REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="session")
def channel_env() -> dict[str, str]:
    return channel_environment(CHANNEL_REDIS_URL)


@pytest.fixture(scope="session")
def channel_stack(tmp_path_factory: pytest.TempPathFactory, channel_env: dict[str, str]) -> Iterator[Stack]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    redis.Redis.from_url(CHANNEL_REDIS_URL).flushdb()
    running = Stack(tmp_path_factory.mktemp("channel-stack"), extra_env=channel_env)
    try:
        yield running.start()
    finally:
        running.stop_all()
