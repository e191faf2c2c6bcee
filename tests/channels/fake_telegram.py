"""A local fake of the Telegram Bot API, plus builders of real-format Update JSON.

It answers the methods the channel uses (getMe, sendMessage, answerCallbackQuery, setWebhook, setMyCommands,
deleteWebhook, getWebhookInfo, getUpdates) the way api.telegram.org does ({"ok": true, "result": ...}, the
same error shapes), enforces the limits that matter (4096-character texts, 64-byte callback_data, non-empty
text) and records every call. It runs in a thread of the test process; the Rasa server under test reaches it
through TELEGRAM_API_BASE_URL.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER = {"id": 123456789, "is_bot": True, "first_name": "政务服务助手", "username": "GovServiceTestBot",
            "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
JSON_FIELDS = {"reply_markup", "commands", "allowed_updates", "chat_id", "offset", "timeout", "limit",
               "drop_pending_updates", "show_alert", "max_connections"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    result: Any = None  # what the fake answered (e.g. the sent Message JSON)
    at: float = field(default_factory=time.monotonic)


class FakeTelegram:
    def __init__(self, port: int, token: str) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.updates: list[dict] = []  # served by getUpdates
        self.blocked_chats: set[int] = set()  # sendMessage to these answers 403 like a blocked bot
        self._changed = threading.Condition()
        self._message_ids = itertools.count(1000)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                fake._serve(self)

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    # -- what tests use -----------------------------------------------------------------------------

    def calls_of(self, method: str, chat_id: int | None = None) -> list[Call]:
        with self._changed:
            return [c for c in self.calls
                    if c.method == method and (chat_id is None or c.params.get("chat_id") == chat_id)]

    def sent_texts(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.calls_of("sendMessage", chat_id)]

    def wait_for(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Block until check() is truthy (re-evaluated after every recorded call); its value is returned."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"condition not met within {timeout} s; calls: {self.calls[-10:]}")
                self._changed.wait(remaining)

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 30.0) -> list[Call]:
        return self.wait_for(lambda: (m := self.calls_of("sendMessage", chat_id)) and len(m) >= count and m,
                             timeout)

    def push_update(self, update: dict) -> None:
        with self._changed:
            self.updates.append(update)
            self._changed.notify_all()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- the API ------------------------------------------------------------------------------------

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        prefix, _, method = url.path.rpartition("/")
        if prefix != f"/bot{self.token}":
            return _reply(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        call = Call(method, _params(request, url.query))
        with self._changed:  # recorded on arrival: a long poll cut short by a shutdown still counts
            self.calls.append(call)
        handler = getattr(self, f"_api_{method}", None)
        status, result = handler(call.params) if handler else (404, {"description": "Not Found"})
        with self._changed:
            call.result = result
            self._changed.notify_all()
        body = {"ok": True, "result": result} if status == 200 else {"ok": False, "error_code": status, **result}
        _reply(request, status, body)

    def _api_getMe(self, params: dict) -> tuple[int, Any]:  # noqa: N802 - Bot API method names
        return 200, BOT_USER

    def _api_sendMessage(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        text, chat_id = params.get("text") or "", params.get("chat_id")
        if type(chat_id) is not int:
            return 400, {"description": "Bad Request: chat not found"}
        if not text.strip():
            return 400, {"description": "Bad Request: message text is empty"}
        if len(text.encode("utf-16-le")) // 2 > 4096:
            return 400, {"description": "Bad Request: message is too long"}
        for row in (params.get("reply_markup") or {}).get("inline_keyboard", []):
            if any(len(b.get("callback_data", "").encode()) > 64 for b in row):
                return 400, {"description": "Bad Request: BUTTON_DATA_INVALID"}
        if chat_id in self.blocked_chats:
            return 403, {"description": "Forbidden: bot was blocked by the user"}
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "from": BOT_USER,
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"}, "text": text}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return 200, message

    def _api_answerCallbackQuery(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        return 200, True

    def _api_setWebhook(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        return 200, True

    def _api_deleteWebhook(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        return 200, True

    def _api_setMyCommands(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        return 200, True

    def _api_getWebhookInfo(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        hooks = [c for c in self.calls if c.method in ("setWebhook", "deleteWebhook")]
        url = hooks[-1].params.get("url", "") if hooks and hooks[-1].method == "setWebhook" else ""
        return 200, {"url": url, "has_custom_certificate": False, "pending_update_count": len(self.updates)}

    def _api_getUpdates(self, params: dict) -> tuple[int, Any]:  # noqa: N802
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 5.0)
        with self._changed:
            while True:
                # Like Telegram: asking from `offset` confirms (forgets) every earlier update.
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if self.updates or remaining <= 0:
                    return 200, list(self.updates)
                self._changed.wait(remaining)


def _params(request: BaseHTTPRequestHandler, query: str) -> dict[str, Any]:
    raw = request.rfile.read(int(request.headers.get("Content-Length") or 0)).decode()
    if request.headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(raw or "{}")
    params: dict[str, Any] = dict(parse_qsl(query))
    params.update(parse_qsl(raw, keep_blank_values=True))
    # PTB sends form fields, JSON-encoding everything that is not a string (as the Bot API accepts).
    return {k: json.loads(v) if k in JSON_FIELDS and v else v for k, v in params.items()}


def _reply(request: BaseHTTPRequestHandler, status: int, body: dict) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    try:
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):  # the client gave up (a long poll cancelled at shutdown)
        pass


_running: dict[int, FakeTelegram] = {}


def fake_telegram_for(base_url: str, token: str) -> FakeTelegram:
    """The one fake of this test session on the port of TELEGRAM_API_BASE_URL (started on first use)."""
    port = urlsplit(base_url).port
    if port not in _running:
        _running[port] = FakeTelegram(port, token)
    return _running[port]


# -- real-format Update JSON ----------------------------------------------------------------------------

_update_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def next_update_id() -> int:
    return next(_update_ids)


def user(user_id: int) -> dict:
    return {"id": user_id, "is_bot": False, "first_name": "晓", "last_name": "陈", "language_code": "zh-hans"}


def _message(user_id: int, chat: dict, **content: Any) -> dict:
    return {"message_id": next(_update_ids) % 100_000, "from": user(user_id), "chat": chat,
            "date": int(time.time()), **content}


def private_chat(user_id: int) -> dict:
    return {"id": user_id, "first_name": "晓", "last_name": "陈", "type": "private"}


def text_update(user_id: int, text: str, update_id: int | None = None) -> dict:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    return {"update_id": update_id or next_update_id(), "message": _message(user_id, private_chat(user_id), **content)}


def group_text_update(user_id: int, group_id: int, text: str) -> dict:
    chat = {"id": group_id, "title": "租房交流群", "type": "supergroup"}
    return {"update_id": next_update_id(), "message": _message(user_id, chat, text=text)}


def sticker_update(user_id: int) -> dict:
    sticker = {"file_id": "CAACAgIAAxkBAAIBY2Zf", "file_unique_id": "AgADYQADr8ZRGg", "type": "regular",
               "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}
    return {"update_id": next_update_id(), "message": _message(user_id, private_chat(user_id), sticker=sticker)}


def voice_update(user_id: int) -> dict:
    voice = {"file_id": "AwACAgUAAxkBAAIBZGZf", "file_unique_id": "AgADZAAD", "duration": 3,
             "mime_type": "audio/ogg", "file_size": 8243}
    return {"update_id": next_update_id(), "message": _message(user_id, private_chat(user_id), voice=voice)}


def callback_update(user_id: int, data: str, message: dict | None = None) -> dict:
    """A button press on `message` (the Message JSON the bot sent, as the fake's sendMessage returned it)."""
    message = message or _message(BOT_USER["id"], private_chat(user_id), text="请您选择：")
    query = {"id": str(next_update_id() * 7), "from": user(user_id), "message": message,
             "chat_instance": "-5123456789012345678", "data": data}
    return {"update_id": next_update_id(), "callback_query": query}
