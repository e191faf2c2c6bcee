"""What every channel does the same way: run one turn, collect the replies, limit floods, check requests, and fail
visibly when a message sent outside a turn cannot be delivered."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel, UserMessage
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.settings import ChannelSettings
from integrations.channels.state import ChannelState

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

SLOW_DOWN_TEXT = "您发送消息的速度有点快，请稍等片刻再发送，我会继续为您服务。"
# Checked on every channel before anything else looks at the text (NLU, masking, the conversation log).
MAX_MESSAGE_CHARS = 2000
TOO_LONG_TEXT = (
    f"您的消息超过了{MAX_MESSAGE_CHARS}字，我暂时无法处理这么长的内容。请精简后重新发送，或分几次发送，"
    "我会继续为您服务。"
)
BUTTONS_TTL = 24 * 3600  # a button shown today may still be clicked later today
MAX_REMEMBERED_BUTTONS = 50
UNSUPPORTED_TEXT = "抱歉，我暂时只能理解文字消息。请您直接输入想办理的事项，例如“申请租房补贴”或“查询入境管控措施”。"


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window: int

    @classmethod
    def from_env(cls) -> RateLimit:
        # CHANNEL_RATE_LIMIT="20/60": at most 20 messages per user in any 60-second window (ratelimit.py).
        return cls(*ChannelSettings.from_env().rate)


async def allow_message(state: ChannelState, channel: str, sender_id: str, rate: RateLimit) -> bool:
    """Count this message against the user's budget; False means answer with SLOW_DOWN_TEXT only."""
    return await state.hit(f"{channel}:{sender_id}", rate.limit, rate.window)


# C0 controls other than tab and newline, DEL and C1 controls (NEL \x85 among them): PostgreSQL's jsonb refuses
# \u0000, and line breaks YAML and logs do not expect let a text break out of the line it was written into.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")
# A lone surrogate (JSON "\ud800") cannot be encoded as UTF-8: the conversation log would refuse the whole batch.
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """A user's text without control characters (\r\n and \r become \n) and without lone surrogates."""
    text = _SURROGATE.sub("\ufffd", text)
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


class BadRequest(Exception):
    """A request a channel refuses: `message` (Chinese) is the answer's text, `status` its HTTP status."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def json_object(body: bytes, max_bytes: int, *, bad_json: str, too_large: str) -> dict[str, Any]:
    """The request body as a JSON object, or BadRequest: too large (413, checked before parsing) or not an object."""
    if len(body) > max_bytes:
        raise BadRequest(too_large, 413)
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest(bad_json) from exc
    if not isinstance(data, dict):
        raise BadRequest(bad_json)
    return data


def limit_body(request: Request, max_bytes: int) -> None:
    """For a route declared with `stream=True`, first thing in the handler: Sanic then reads no body by itself
    (it would buffer up to its own limit before any check), and this limit also bounds what it discards after a
    refusal. A body announced or found larger is refused without being read."""
    if request.stream is not None:
        request.stream.request_max_size = max_bytes


async def read_body(request: Request) -> bytes | None:
    """The body of a streamed request; None when it is larger than the limit set with `limit_body`."""
    try:
        await request.receive_body()
    except PayloadTooLarge:
        return None
    return request.body


def too_long(text: str) -> bool:
    return len(text) > MAX_MESSAGE_CHARS


def _offered_key(sender_id: str) -> str:
    return f"buttons:{sender_id}"


async def remember_buttons(state: ChannelState, sender_id: str, messages: list[dict[str, Any]]) -> None:
    """Keep the payloads of the buttons just shown to this user: only these may come back as payloads."""
    shown = [
        button["payload"]
        for message in messages
        for button in (message.get("buttons") or message.get("quick_replies") or [])
        if isinstance(button, dict) and isinstance(button.get("payload"), str) and button["payload"].startswith("/")
    ]
    if shown:
        earlier = await state.get(_offered_key(sender_id)) or []
        kept = [p for p in earlier if p not in shown][-(MAX_REMEMBERED_BUTTONS - len(shown)):] + shown
        await state.put(_offered_key(sender_id), kept[-MAX_REMEMBERED_BUTTONS:], BUTTONS_TTL)


async def trusted_text(state: ChannelState, sender_id: str, text: str) -> str:
    """What Rasa may see of a user's text. A payload ("/intent{...}") skips NLU and sets entities at will, so it
    passes only when it is a button this user was shown; a typed one loses its slash and is read as words."""
    stripped = text.strip()
    if not stripped.startswith("/"):
        return text
    if stripped in (await state.get(_offered_key(sender_id)) or []):
        return stripped
    return without_payload_marks(stripped)


def without_payload_marks(text: str) -> str:
    """A typed "/intent{...}" as plain words. Rasa strips the text before looking for the slash, so slashes and
    whitespace come off together until neither leads ("/ /inform{...}" must not become "/inform{...}")."""
    text = text.strip()
    while text.startswith("/"):
        text = text[1:].strip()
    return text


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


# -- messages outside a turn -------------------------------------------------------------------------------------
# An operator's takeover reply or the notice that the assistant is back: Rasa sends them through
# `InputChannel.get_output_channel()` when the console appends a bot event with
# `?output_channel=latest&execute_side_effects=true` (see console/rasa_client.py).


class DeliveryFailed(RuntimeError):
    """The message did not reach the user; the text (Chinese) is shown to the operator. Rasa then answers the console
    with an error and does not store the message, so an operator never believes an undelivered reply arrived."""


class UnavailableOutputChannel(OutputChannel):
    """For a channel that is not configured: every message fails with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    @classmethod
    def name(cls) -> str:
        return "unavailable"

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        raise DeliveryFailed(self.reason)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        raise DeliveryFailed(self.reason)
