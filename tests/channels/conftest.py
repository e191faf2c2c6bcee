"""One running stack for every channel test, on the Redis column, with local fakes of WeChat's and Telegram's APIs.

The fakes listen on the ports fixed here; each channel's tests start its fake (session fixture) before using
`channel_stack`. The stack runs with REDIS_URL so de-duplication, payload maps, tokens and rate limits go through
the real local Redis (database 13, flushed first); tests/channels/test_state.py covers the in-process backend.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
import redis

from tests.e2e.stack import ROOT, Stack, free_port

CHANNEL_REDIS_URL = "redis://127.0.0.1:6379/13"


def _aes_key(seed: bytes) -> str:
    # An EncodingAESKey is 43 characters: base64 of 32 bytes without the trailing "=".
    return base64.b64encode(seed.ljust(32, b"k")[:32]).decode().rstrip("=")


@pytest.fixture(scope="session")
def channel_env() -> dict[str, str]:
    wechat_api_port = free_port()
    telegram_api_port = free_port()
    return {
        "REDIS_URL": CHANNEL_REDIS_URL,
        "CHANNEL_RATE_LIMIT": "12/60",
        "WECHAT_TOKEN": "govbot-test-token",
        "WECHAT_APP_ID": "wx1234567890abcdef",
        "WECHAT_APP_SECRET": "test-app-secret",
        "WECHAT_ENCODING_AES_KEY": _aes_key(b"current-encoding-aes-key"),
        "WECHAT_PREVIOUS_ENCODING_AES_KEY": _aes_key(b"previous-encoding-aes-key"),
        "WECHAT_API_BASE_URL": f"http://127.0.0.1:{wechat_api_port}/cgi-bin/",
        "TELEGRAM_BOT_TOKEN": "123456789:TEST-telegram-token",
        "TELEGRAM_SECRET_TOKEN": "test-telegram-secret",
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{telegram_api_port}/bot",
    }


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
