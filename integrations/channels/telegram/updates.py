"""Read a Telegram Update into the one thing the channel needs to know about it (an `Inbound`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from telegram import Bot, Chat, Update

from integrations.channels.common import too_long
from integrations.channels.senders import sender_id
from integrations.channels.telegram.render import CALLBACK_PREFIX
from integrations.channels.telegram.settings import CHANNEL

MAX_UPDATE_BYTES = 256 * 1024  # real updates are a few KB; anything far bigger is not from Telegram
ALLOWED_UPDATES = ["message", "callback_query"]  # what setWebhook/getUpdates ask Telegram to deliver

# Bot commands → what Rasa receives. /start greets: utter_greet is the welcome with the service menu.
COMMANDS = {"start": "/greet", "help": "/help", "cancel": "/cancel", "human": "/request_human"}
COMMAND_DESCRIPTIONS = {
    "start": "开始使用，查看可以办理的业务",
    "help": "查看服务清单和使用帮助",
    "cancel": "取消当前正在办理的业务",
    "human": "转人工服务",
}


class Kind(Enum):
    TEXT = "text"  # a typed message or a known command: run a turn
    CALLBACK = "callback"  # a button press: answer it, then run a turn with the stored payload
    UNKNOWN_COMMAND = "unknown_command"
    UNSUPPORTED = "unsupported"  # photo, sticker, voice, ... in a private chat
    GROUP = "group"  # anything from a group, supergroup or channel: ask to chat privately
    TOO_LONG = "too_long"  # a text over MAX_MESSAGE_CHARS: a polite notice, no turn (the text is not kept)


@dataclass(frozen=True)
class Inbound:
    update_id: int
    kind: Kind
    chat_id: int  # where replies go: in a private chat always the user's own chat
    user_id: str  # the Telegram user id as a string; the channel's per-user keys use it
    text: str = ""  # for TEXT: what Rasa gets; for CALLBACK: the short id of the payload
    callback_query_id: str = ""

    @property
    def conversation_id(self) -> str:
        """The Rasa sender id: tg:<user id>, a namespace no other channel can produce."""
        return sender_id(CHANNEL, self.user_id)


class MalformedUpdate(ValueError):
    """JSON that is not a Telegram Update (answered with 400)."""


def parse_update(data: Any, bot: Bot) -> Update:
    if not isinstance(data, dict) or type(data.get("update_id")) is not int:
        raise MalformedUpdate("not a Telegram Update: an object with an integer update_id is required")
    try:
        return Update.de_json(data, bot)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MalformedUpdate(f"not a Telegram Update: {type(error).__name__}") from error


def _command_text(text: str) -> tuple[Kind, str]:
    # "/start@GovBot payload" → "start"; the deep-link argument is not used.
    name = text.split(maxsplit=1)[0][1:].split("@", 1)[0].lower()
    return (Kind.TEXT, COMMANDS[name]) if name in COMMANDS else (Kind.UNKNOWN_COMMAND, text)


def _user_id(user: Any) -> int:
    if user is None or type(user.id) is not int:
        raise MalformedUpdate("not a Telegram Update: the sender has no integer id")
    return user.id


def _callback(update: Update) -> Inbound:
    query = update.callback_query
    user_id = _user_id(query.from_user)
    chat = query.message.chat if query.message else None
    if chat is not None and chat.type != Chat.PRIVATE:
        return Inbound(update.update_id, Kind.GROUP, chat.id, str(user_id), "", str(query.id))
    # A private chat's id is its user's id: the answer goes to whoever pressed, never to a chat the update names.
    data = query.data or ""
    short_id = data[len(CALLBACK_PREFIX) :] if data.startswith(CALLBACK_PREFIX) else ""
    return Inbound(update.update_id, Kind.CALLBACK, user_id, str(user_id), short_id, str(query.id))


def classify(update: Update) -> Inbound | None:
    """What to do with an update; None for updates the assistant ignores (edits, channel posts, ...)."""
    if update.callback_query is not None:
        return _callback(update)
    message = update.message
    if message is None or message.from_user is None:
        return None
    user_id, chat_id = _user_id(message.from_user), message.chat.id
    if message.chat.type != Chat.PRIVATE:
        return Inbound(update.update_id, Kind.GROUP, chat_id, str(user_id))
    if chat_id != user_id:  # not a real private chat (Telegram gives a private chat its user's id)
        return None
    text = (message.text or "").strip()
    if not text:
        return Inbound(update.update_id, Kind.UNSUPPORTED, chat_id, str(user_id))
    if too_long(text):  # before anything looks at the text
        return Inbound(update.update_id, Kind.TOO_LONG, chat_id, str(user_id))
    kind, text = _command_text(text) if text.startswith("/") else (Kind.TEXT, text)
    return Inbound(update.update_id, kind, chat_id, str(user_id), text)
