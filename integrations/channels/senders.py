"""Conversation ids by channel: each channel owns a prefix that no other channel can produce.

Rasa keys a conversation (tracker, identity verification, takeover) by its sender id alone. A channel turns its
own user id into `<prefix>:<user id>` and nothing else, and the input channel is always the channel's own name,
never a value from the request, so a REST client cannot continue a WeChat user's conversation by sending their
OpenID, nor a web visitor a Telegram user's. Output channels take the prefix off again, and refuse an id from
another channel rather than deliver a message to the wrong person.
"""

from __future__ import annotations

PREFIXES = {"rest": "rest", "webchat": "web", "wechat": "wechat", "telegram": "tg"}


class ForeignSender(ValueError):
    """The sender id does not belong to the channel that was asked to deliver to it."""


def sender_id(channel: str, user_id: str) -> str:
    """The conversation id of `user_id` on `channel` (e.g. wechat:oAbC…, tg:123456789)."""
    return f"{PREFIXES[channel]}:{user_id}"


def user_id(channel: str, conversation_id: str) -> str:
    """The channel's own user id inside a conversation id of that channel; ForeignSender for any other id."""
    prefix = PREFIXES[channel] + ":"
    if not conversation_id.startswith(prefix) or len(conversation_id) == len(prefix):
        raise ForeignSender(f"{conversation_id[:12]!r}… is not a {channel} conversation")
    return conversation_id[len(prefix):]


def channel_of(conversation_id: str) -> str | None:
    """The channel a conversation id belongs to, or None for ids no channel produces."""
    prefix = conversation_id.split(":", 1)[0]
    return next((channel for channel, own in PREFIXES.items() if own == prefix and ":" in conversation_id), None)
