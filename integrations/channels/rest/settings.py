"""REST channel settings: whether it serves, with which token, and what a request may hold.

Development mode (the default) serves everyone. In production the channel is off unless REST_CHANNEL_ENABLED=true,
and then every request must carry `Authorization: Bearer <REST_CHANNEL_TOKEN>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.settings import ChannelSettings, is_production

CHANNEL = "rest"
# Room for a message at the length cap written as JSON escapes (up to 12 bytes a character for emoji): a larger
# body cannot hold an acceptable message, and is refused as it is announced, without being read.
MAX_BODY_BYTES = 32 * 1024
# Characters Rasa's HTTP API carries in a path as they are, so the console can address the conversation.
SENDER = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


@dataclass(frozen=True)
class RestSettings:
    enabled: bool
    token: str | None  # required by every request when set (always set when enabled in production)

    @classmethod
    def from_env(cls) -> RestSettings:
        channel = ChannelSettings.from_env()
        if not is_production():
            return cls(True, channel.rest_token)
        return cls(channel.rest_enabled and channel.rest_token is not None, channel.rest_token)
