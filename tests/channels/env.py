"""The channel settings of a test or benchmark stack, with local fakes of WeChat's and Telegram's APIs."""

from __future__ import annotations

import base64

from tests.e2e.stack import free_port


def aes_key(seed: bytes) -> str:
    # An EncodingAESKey is 43 characters: base64 of 32 bytes without the trailing "=".
    return base64.b64encode(seed.ljust(32, b"k")[:32]).decode().rstrip("=")


def channel_environment(redis_url: str, rate_limit: str = "12/60") -> dict[str, str]:
    """Environment for a stack with every channel configured; the fake APIs listen on the ports chosen here."""
    wechat_api_port = free_port()
    telegram_api_port = free_port()
    return {
        "REDIS_URL": redis_url,
        "CHANNEL_RATE_LIMIT": rate_limit,
        "WECHAT_TOKEN": "govbot-test-token",
        "WECHAT_APP_ID": "wx1234567890abcdef",
        "WECHAT_APP_SECRET": "test-app-secret",
        "WECHAT_ENCODING_AES_KEY": aes_key(b"current-encoding-aes-key"),
        "WECHAT_PREVIOUS_ENCODING_AES_KEY": aes_key(b"previous-encoding-aes-key"),
        "WECHAT_API_BASE_URL": f"http://127.0.0.1:{wechat_api_port}/cgi-bin/",
        "TELEGRAM_BOT_TOKEN": "123456789:TEST-telegram-token",
        "TELEGRAM_SECRET_TOKEN": "test-telegram-secret-9f3a61c0b2e84d57",  # at least 32 characters, as required
        "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{telegram_api_port}/bot",
    }
