"""What every channel does the same way: run one turn, collect the replies, limit floods."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from integrations.channels.state import ChannelState

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

SLOW_DOWN_TEXT = "您发送消息的速度有点快，请稍等片刻再发送，我会继续为您服务。"
UNSUPPORTED_TEXT = "抱歉，我暂时只能理解文字消息。请您直接输入想办理的事项，例如“申请租房补贴”或“查询入境管控措施”。"


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window: int

    @classmethod
    def from_env(cls) -> RateLimit:
        # CHANNEL_RATE_LIMIT="20/60": at most 20 messages per user in any 60-second window.
        raw = os.environ.get("CHANNEL_RATE_LIMIT", "20/60")
        limit, window = raw.split("/", 1)
        return cls(int(limit), int(window))


async def allow_message(state: ChannelState, channel: str, sender_id: str, rate: RateLimit) -> bool:
    """Count this message against the user's budget; False means answer with SLOW_DOWN_TEXT only."""
    return await state.hit(f"{channel}:{sender_id}", rate.limit, rate.window)


async def collect_turn(
    on_new_message: OnNewMessage,
    *,
    text: str,
    sender_id: str,
    channel: str,
    metadata: dict[str, Any] | None = None,
    message_id: str | None = None,
) -> list[dict[str, Any]]:
    """Run one turn through Rasa and return the bot's messages (text, buttons, ...) in order."""
    collector = CollectingOutputChannel()
    await on_new_message(
        UserMessage(
            text,
            collector,
            sender_id,
            input_channel=channel,
            metadata=metadata,
            message_id=message_id,
        )
    )
    return collector.messages
