"""Turn Rasa's collected bot messages into Telegram messages: 4096-character chunks and inline keyboards.

Pure layout functions (split_text, keyboard_rows) are kept apart from the one async step that needs the channel
state (storing button payloads under short ids, because callback_data may carry at most 64 bytes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from integrations.channels.state import ChannelState, store_payload

TEXT_LIMIT = 4096  # Telegram's limit for one message, counted in UTF-16 code units
CALLBACK_PREFIX = "p:"  # callback_data = "p:" + short id of the stored payload
BUTTONS_ONLY_TEXT = "请您选择："
WIDE_TITLE = 8  # titles longer than this get a row of their own (Chinese text on a phone screen)


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


async def _button(button: dict[str, Any], state: ChannelState) -> InlineKeyboardButton | None:
    title = str(button.get("title") or button.get("payload") or "").strip()
    if not title:
        return None
    if button.get("url"):
        return InlineKeyboardButton(title, url=str(button["url"]))
    payload = str(button.get("payload") or title)
    # Every payload goes through the store: callback_data stays short, and a user can only press what was offered.
    return InlineKeyboardButton(title, callback_data=CALLBACK_PREFIX + await store_payload(state, payload))


async def inline_keyboard(buttons: list[dict[str, Any]], state: ChannelState) -> InlineKeyboardMarkup | None:
    rendered = [b for b in [await _button(button, state) for button in buttons] if b is not None]
    if not rendered:
        return None
    rows = keyboard_rows([b.text for b in rendered])
    return InlineKeyboardMarkup([[rendered[i] for i in row] for row in rows])


def _message_text(message: dict[str, Any]) -> str:
    parts = [message.get("text")]
    # Images and attachments are sent as their links: the assistant's replies are text, this is a fallback.
    parts += [message.get(key) for key in ("image", "attachment") if isinstance(message.get(key), str)]
    return "\n".join(str(p) for p in parts if p).strip()


async def render(messages: list[dict[str, Any]], state: ChannelState) -> list[Outgoing]:
    """Rasa's collected messages → sendMessage calls, in order; buttons go on the last chunk of their message."""
    outgoing: list[Outgoing] = []
    for message in messages:
        text = _message_text(message)
        keyboard = await inline_keyboard(message.get("buttons") or [], state)
        if not text and keyboard is None:
            continue  # custom JSON and other shapes Telegram cannot show
        chunks = [c for c in split_text(text or BUTTONS_ONLY_TEXT) if c.strip()]  # Telegram rejects empty texts
        outgoing += [Outgoing(chunk) for chunk in chunks[:-1]]
        outgoing.append(Outgoing(chunks[-1], keyboard))
    return outgoing
