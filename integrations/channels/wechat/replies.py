"""The bot's messages as WeChat text: buttons as a numbered menu, merged and split to WeChat's byte limits."""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

MENU_HEADER = "回复数字选择："
LETTER_MENU_HEADER = "回复字母选择："
LETTER_HINT_TEXT = "请回复选项前的字母（例如“A”）进行选择，或直接告诉我您要办理的事项。"
TRUNCATED_NOTE = "……（内容较多，未能全部显示。您可以缩小查询范围后再问我。）"
SEPARATOR = "\n\n"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# A text with its own numbered list ("1. 杭州数字经济人才专场招聘会") would make "3" ambiguous: the buttons under
# it are lettered instead (A. 报名第1场), so a number never picks a button the user did not mean.
_OWN_NUMBERED_LIST = re.compile(r"^\s*\d{1,2}\s*[.．、)）]", re.MULTILINE)


@dataclass(frozen=True)
class Rendered:
    parts: list[str] = field(default_factory=list)  # one text per bot message
    menu: list[dict[str, str]] = field(default_factory=list)  # {"key": "2" or "B", "title", "payload"}


def _options(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [b for b in (message.get("buttons") or message.get("quick_replies") or []) if isinstance(b, dict)]


def _next_key(menu: list[dict[str, str]], numbered: bool) -> str:
    # One sequence per kind across the turn's messages, so "2" or "B" always means one button.
    used = sum(1 for option in menu if option["key"].isdigit() == numbered)
    return str(used + 1) if numbered else LETTERS[used % len(LETTERS)]


def render(messages: list[dict[str, Any]]) -> Rendered:
    """Texts of one turn, each with its buttons as a numbered (or, under a numbered text, lettered) menu."""
    parts: list[str] = []
    menu: list[dict[str, str]] = []
    for message in messages:
        text = str(message.get("text") or "").strip()
        lines = [text] if text else []
        if message.get("image"):
            lines.append(f"图片：{message['image']}")
        numbered = not _OWN_NUMBERED_LIST.search(text)
        offered, links = [], []
        for button in _options(message):
            title = str(button.get("title", "")).strip()
            if title and button.get("payload"):
                key = _next_key(menu, numbered)
                menu.append({"key": key, "title": title, "payload": str(button["payload"])})
                offered.append(f"{key}. {title}")
            elif title and button.get("url"):
                links.append(f"{title}：{button['url']}")
        if offered:
            lines.append((MENU_HEADER if numbered else LETTER_MENU_HEADER) + "\n" + "\n".join(offered))
        lines.extend(links)
        if lines:
            parts.append("\n".join(lines))
    return Rendered(parts, menu)


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def _cut(text: str, limit: int) -> tuple[str, str]:
    """The longest head of `text` within `limit` bytes (never inside a character), and the rest."""
    used = 0
    for index, char in enumerate(text):
        used += size(char)
        if used > limit:
            index = max(index, 1)  # a limit below one character still makes progress
            return text[:index], text[index:]
    return text, ""


def split_text(text: str, limit: int) -> list[str]:
    """One text as pieces of at most `limit` bytes, cut at line ends where possible."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if size(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = line
        while size(current) > limit:
            head, current = _cut(current, limit)
            pieces.append(head)
    if current:
        pieces.append(current)
    return pieces


def fit(parts: list[str], limit: int) -> list[str]:
    """Merge the bot's texts into as few messages of at most `limit` bytes as possible, in order."""
    chunks: list[str] = []
    for part in parts:
        for piece in split_text(part, limit):
            if chunks and size(chunks[-1] + SEPARATOR + piece) <= limit:
                chunks[-1] += SEPARATOR + piece
            else:
                chunks.append(piece)
    return chunks


def cap(chunks: list[str], count: int, limit: int) -> list[str]:
    """At most `count` messages; the last one says that something was left out."""
    if len(chunks) <= count:
        return chunks
    head, _ = _cut(chunks[count - 1], limit - size(TRUNCATED_NOTE))
    return [*chunks[: count - 1], head.rstrip() + TRUNCATED_NOTE]


def _normalise(text: str) -> str:
    # NFKC turns full-width "２"/"Ｂ" into "2"/"B"; users often add a dot or a 号 ("2.", "2号").
    return unicodedata.normalize("NFKC", text).strip().rstrip(".。、)）号").strip().upper()


def choose(text: str, menu: list[dict[str, str]] | None) -> str | None:
    """The payload a reply means: its number (or letter) in the last menu, or a button title typed as it is."""
    answer = _normalise(text)
    for option in menu or []:
        if answer in (option["key"], _normalise(option["title"])):
            return option["payload"]
    return None


def needs_letter(text: str, menu: list[dict[str, str]] | None) -> bool:
    """A bare small number while the last menu is lettered: it may mean a list item or a button, so ask."""
    answer = _normalise(text)
    return bool(menu) and len(answer) <= 2 and answer.isdigit() and any(o["key"].isalpha() for o in menu or [])


def passive_xml(account: str, openid: str, content: str, crypto: WeChatCrypto | None, nonce: str) -> str:
    """A passive text reply, encrypted when the message came in safe mode."""
    safe_content = content.replace("]]>", "]] >")  # the reply template puts the content in a CDATA section
    xml = TextReply(source=account, target=openid, content=safe_content, time=int(time.time())).render()
    return crypto.encrypt_message(xml, nonce) if crypto else xml
