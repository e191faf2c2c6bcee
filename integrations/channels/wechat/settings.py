"""WeChat channel settings: the variables are declared with the product's others in bot/settings.py (secrets come
from the environment only, never from credentials.yml)."""

from __future__ import annotations

from bot.settings import WeChatSettings

CHANNEL = "wechat"

__all__ = ["CHANNEL", "WeChatSettings"]
