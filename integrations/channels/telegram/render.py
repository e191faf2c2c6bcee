"""Turn Rasa's collected bot messages into Telegram messages: 4096-character chunks and inline keyboards.

Pure layout functions (split_text, keyboard_rows) are kept apart from the one async step that needs the channel
state (storing button payloads under short ids, because callback_data may carry at most 64 bytes). A stored payload
belongs to the user the button was shown to: the Bot API warns that a bad client can send any callback_data, and a
short id pressed by anyone else finds nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from integrations.channels.state import ChannelState

TEXT_LIMIT = 4096  # Telegram's limit for one message, counted in UTF-16 code units
CALLBACK_PREFIX = "p:"  # callback_data = "p:" + short id of the stored payload
BUTTONS_ONLY_TEXT = "请您选择："
WIDE_TITLE = 8  # titles longer than this get a row of their own (Chinese text on a phone screen)
BUTTON_TTL = 7 * 24 * 3600  # a button in the chat history keeps working for a week


@dataclass(frozen=True)
class Outgoing:
    """One sendMessage call."""

    text: str
    keyboard: InlineKeyboardMarkup | None = None


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int) -> Iterator[str]:
    """Cut one over-long line into pieces of at most `limit` UTF-16 units, never inside a character."""
    piece, size = [], 0
    for char in line:
        width = utf16_len(char)
        if size + width > limit:
            yield "".join(piece)
            piece, size = [], 0
        piece.append(char)
        size += width
    if piece:
        yield "".join(piece)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split a text into chunks Telegram accepts, at line breaks where possible; joining them with the removed
    line breaks gives the text back."""
    if utf16_len(text) <= limit:
        return [text]
    chunks: list[str] = []
    current: str | None = None  # None: no chunk started (an empty string is a real, empty line)
    for line in text.split("\n"):
        candidate = line if current is None else f"{current}\n{line}"
        if utf16_len(candidate) <= limit:
            current = candidate
            continue
        if current is not None:
            chunks.append(current)
        pieces = list(_hard_split(line, limit)) or [""]
        chunks.extend(pieces[:-1])
        current = pieces[-1]
    if current is not None:
        chunks.append(current)
    return chunks


def keyboard_rows(titles: list[str]) -> list[list[int]]:
    """Indexes of the buttons per keyboard row: two per row when every title is short, else one per row."""
    per_row = 2 if all(len(t) <= WIDE_TITLE for t in titles) else 1
    return [list(range(i, min(i + per_row, len(titles)))) for i in range(0, len(titles), per_row)]


def _button_key(owner: str, short_id: str) -> str:
    return f"telegram:button:{owner}:{short_id}"


async def store_button(state: ChannelState, owner: str, payload: str) -> str:
    """Keep a button's payload for the Telegram user `owner` under a new short id."""
    short_id = secrets.token_urlsafe(9)
    await state.put(_button_key(owner, short_id), payload, BUTTON_TTL)
    return short_id


async def load_button(state: ChannelState, owner: str, short_id: str) -> str | None:
    """The payload of a button shown to `owner`; None when it expired or was shown to someone else."""
    if not short_id or len(short_id) > 64:  # callback_data is at most 64 bytes
        return None
    payload = await state.get(_button_key(owner, short_id))
    return payload if isinstance(payload, str) else None


async def _button(button: dict[str, Any], state: ChannelState, owner: str) -> InlineKeyboardButton | None:
    title = str(button.get("title") or button.get("payload") or "").strip()
    if not title:
        return None
    if button.get("url"):
        return InlineKeyboardButton(title, url=str(button["url"]))
    payload = str(button.get("payload") or title)
    # Every payload goes through the store: callback_data stays short, and a user can only press what was offered.
    return InlineKeyboardButton(title, callback_data=CALLBACK_PREFIX + await store_button(state, owner, payload))


async def inline_keyboard(
    buttons: list[dict[str, Any]], state: ChannelState, owner: str
) -> InlineKeyboardMarkup | None:
    """The keyboard for the Telegram user `owner` (the buttons work for them only)."""
    rendered = [b for b in [await _button(button, state, owner) for button in buttons] if b is not None]
    if not rendered:
        return None
    rows = keyboard_rows([b.text for b in rendered])
    return InlineKeyboardMarkup([[rendered[i] for i in row] for row in rows])


def _message_text(message: dict[str, Any]) -> str:
    parts = [message.get("text")]
    # Images and attachments are sent as their links: the assistant's replies are text, this is a fallback.
    parts += [message.get(key) for key in ("image", "attachment") if isinstance(message.get(key), str)]
    return "\n".join(str(p) for p in parts if p).strip()


async def render(messages: list[dict[str, Any]], state: ChannelState, owner: str) -> list[Outgoing]:
    """Rasa's collected messages → sendMessage calls to the Telegram user `owner`, in order; buttons go on the last
    chunk of their message."""
    outgoing: list[Outgoing] = []
    for message in messages:
        text = _message_text(message)
        keyboard = await inline_keyboard(message.get("buttons") or [], state, owner)
        if not text and keyboard is None:
            continue  # custom JSON and other shapes Telegram cannot show
        chunks = [c for c in split_text(text or BUTTONS_ONLY_TEXT) if c.strip()]  # Telegram rejects empty texts
        outgoing += [Outgoing(chunk) for chunk in chunks[:-1]]
        outgoing.append(Outgoing(chunks[-1], keyboard))
    return outgoing
