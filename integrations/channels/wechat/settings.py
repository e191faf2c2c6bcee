"""WeChat channel settings, read from the environment only (secrets never live in the repo)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

CHANNEL = "wechat"
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com/cgi-bin/"
REQUIRED = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET")


@dataclass(frozen=True)
class WeChatConfig:
    token: str
    app_id: str
    app_secret: str
    encoding_aes_key: str | None
    previous_encoding_aes_key: str | None
    api_base_url: str
    redis_url: str | None
    passive_timeout: float = 4.5  # WeChat gives up after 5 s and retries
    timestamp_window: int = 300  # requests signed longer ago than this are replays
    max_body_bytes: int = 64 * 1024  # real messages are a few KB even in safe mode
    text_limit_bytes: int = 2048  # one text message, passive or customer-service
    max_service_messages: int = 5  # customer-service messages per user message
    menu_ttl: int = 1800  # how long "reply 2" keeps meaning the second button
    dedup_ttl: int = 600  # WeChat's retries come within ~15 s; keep keys well beyond that
    api_timeout: float = 5.0
    missing: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        return not self.missing

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WeChatConfig:
        env = os.environ if environ is None else environ

        def text(name: str) -> str:
            return env.get(name, "").strip()

        def number(name: str, default: float) -> float:
            raw = text(name)
            return float(raw) if raw else default

        base_url = text("WECHAT_API_BASE_URL") or DEFAULT_API_BASE_URL
        return cls(
            token=text("WECHAT_TOKEN"),
            app_id=text("WECHAT_APP_ID"),
            app_secret=text("WECHAT_APP_SECRET"),
            encoding_aes_key=text("WECHAT_ENCODING_AES_KEY") or None,
            previous_encoding_aes_key=text("WECHAT_PREVIOUS_ENCODING_AES_KEY") or None,
            api_base_url=base_url if base_url.endswith("/") else base_url + "/",
            redis_url=text("REDIS_URL") or None,
            passive_timeout=number("WECHAT_PASSIVE_TIMEOUT", 4.5),
            timestamp_window=int(number("WECHAT_TIMESTAMP_WINDOW", 300)),
            max_body_bytes=int(number("WECHAT_MAX_BODY_BYTES", 64 * 1024)),
            text_limit_bytes=int(number("WECHAT_TEXT_LIMIT_BYTES", 2048)),
            menu_ttl=int(number("WECHAT_MENU_TTL", 1800)),
            api_timeout=number("WECHAT_API_TIMEOUT", 5.0),
            missing=tuple(name for name in REQUIRED if not text(name)),
        )
