"""A small client of the Rasa server's HTTP API for the console: pause, resume, operator replies, live trackers.

Rasa runs with `--enable-api` and answers its API only with `Authorization: Bearer <RASA_API_TOKEN>` (never a
`?token=` query parameter: access logs keep query strings). Every failure becomes a RasaError whose text (Chinese,
masked) can be shown to the operator as it is.

The calls are coroutines (other tools await them). The console's routes run in worker threads, never on the
event loop, and use `blocking(client.pause(...))` there.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from bot.masking import hash_sender_id, mask_text

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 15.0  # a WeChat or Telegram send inside the request may retry a few times

UNREACHABLE_TEXT = "无法连接智能助手服务（Rasa），请确认它正在运行，稍后再试；如果问题持续，请联系管理员。"
TIMEOUT_TEXT = "智能助手服务（Rasa）响应超时，操作可能没有完成。请刷新页面查看当前状态后再试。"
AUTH_TEXT = "智能助手服务拒绝了控制台的请求：请管理员检查 RASA_API_TOKEN 设置。"
NO_API_TEXT = "智能助手服务未开启 HTTP API（需要 --enable-api），无法完成操作，请联系管理员。"
FAILED_TEXT = "智能助手服务未能完成操作（{reason}），请稍后重试。"
NOT_DELIVERED_TEXT = "消息未能送达市民：{reason}"
UNADDRESSABLE_TEXT = (
    "该会话的用户标识含有智能助手服务（Rasa）接口无法使用的字符（如空格、斜杠、问号或中文），"
    "控制台无法读取或回复该会话；如需联系该市民，请通过其他途径处理。"
)


T = TypeVar("T")


class RasaError(Exception):
    """The API call failed; `str(error)` is a Chinese message for the operator."""


def blocking(call: Coroutine[Any, Any, T]) -> T:
    """Run one client call to its end from synchronous code: a route in FastAPI's worker threads (no event loop
    runs there), a periodic job, a test. Each request opens its own httpx client, so a short-lived loop is enough."""
    return asyncio.run(call)


class RasaClient:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = TIMEOUT_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.transport = transport
        self._session_seconds: float | None = None

    async def pause(self, sender_id: str, new_session: bool = False) -> dict[str, Any]:
        """ConversationPaused: user messages are still logged, but the assistant predicts and says nothing.

        With `new_session`, a new Rasa session starts first (the events Rasa's action_session_start writes): Rasa
        starts one itself, which un-pauses, when the citizen writes after the session expiry; a session that has no
        user message yet cannot expire."""
        events = [{"event": "pause"}]
        if new_session:
            events = [
                {"event": "action", "name": "action_session_start"},
                {"event": "session_started"},
                {"event": "action", "name": "action_listen"},
                *events,
            ]
        return await self._append(sender_id, events)

    async def resume(self, sender_id: str, slots: dict[str, Any] | None = None) -> dict[str, Any]:
        """ConversationResumed (plus optional slot events): the assistant answers the next message again."""
        events = [{"event": "resume"}]
        events += [{"event": "slot", "name": name, "value": value} for name, value in (slots or {}).items()]
        return await self._append(sender_id, events)

    async def send(
        self,
        sender_id: str,
        text: str,
        operator: str,
        metadata: dict[str, Any] | None = None,
        channel: str | None = None,
    ) -> dict[str, Any]:
        """A bot message written by an operator, delivered through `channel` (default: the channel of the citizen's
        latest message in the current session) and stored in the tracker, so it is in the conversation log; fails
        (and is not stored) when the channel cannot deliver.

        Name the channel when you know it: in a session without a user message yet, "latest" finds none and Rasa
        falls back to an output channel that delivers nowhere."""
        event = {"event": "bot", "text": text, "metadata": {"operator": operator, **(metadata or {})}}
        return await self._append(sender_id, [event], deliver=channel or "latest")

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        """The live tracker (raw, unmasked): only for an admin's audited unmask view, or internal checks."""
        return await self._request("GET", f"/conversations/{_path(sender_id)}/tracker", sender_id)

    async def session_expiration_seconds(self) -> float:
        """The domain's session_config.session_expiration_time (0: sessions never expire); asked once."""
        if self._session_seconds is None:
            domain = await self._request("GET", "/domain", "", headers={"Accept": "application/json"})
            minutes = (domain.get("session_config") or {}).get("session_expiration_time") or 0
            self._session_seconds = float(minutes) * 60
        return self._session_seconds

    async def _append(self, sender_id: str, events: list[dict[str, Any]], deliver: str | None = None) -> dict[str, Any]:
        params = {"output_channel": deliver, "execute_side_effects": "true"} if deliver else {}
        path = f"/conversations/{_path(sender_id)}/tracker/events"
        return await self._request("POST", path, sender_id, params=params, json=events)

    async def _request(self, method: str, path: str, sender_id: str, **kwargs: Any) -> dict[str, Any]:
        params = dict(kwargs.pop("params", None) or {})
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, timeout=self.timeout, transport=self.transport
            ) as client:
                response = await client.request(method, path, params=params, headers=headers, **kwargs)
        except httpx.TimeoutException as error:
            raise RasaError(TIMEOUT_TEXT) from error
        except httpx.HTTPError as error:
            logger.warning("Rasa API %s %s unreachable: %s", method, path.split("/")[1], type(error).__name__)
            raise RasaError(UNREACHABLE_TEXT) from error
        if response.status_code in (401, 403):
            raise RasaError(AUTH_TEXT)
        if response.status_code == 404:
            raise RasaError(NO_API_TEXT)
        if response.status_code >= 400:
            reason = _reason(response)
            logger.warning("Rasa API %s for %s failed (%d): %s", method, hash_sender_id(sender_id),
                           response.status_code, reason)
            delivering = params.get("execute_side_effects") == "true"
            template = NOT_DELIVERED_TEXT if delivering and response.status_code >= 500 else FAILED_TEXT
            raise RasaError(template.format(reason=reason))
        try:
            return response.json()
        except ValueError as error:
            raise RasaError(FAILED_TEXT.format(reason="返回内容无法解析")) from error


# Rasa's HTTP server (Sanic) does not percent-decode path parameters: a conversation id must travel in the path
# exactly as it is (`wechat:oAbC…`, `tg:123`, `web:<uuid>`). Quoting the ":" addressed another, empty conversation.
_PATH_SAFE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]{1,256}")


def _path(sender_id: str) -> str:
    """The id as a path segment; RasaError for an id the API cannot address (it would reach another one)."""
    if not _PATH_SAFE.fullmatch(sender_id):
        raise RasaError(UNADDRESSABLE_TEXT)
    return sender_id


def _reason(response: httpx.Response) -> str:
    """Rasa's error message, reduced to what our channels raised (DeliveryFailed texts are Chinese)."""
    try:
        message = str(response.json().get("message") or "")
    except ValueError:
        message = ""
    detail = message.rsplit("Error: ", 1)[-1].strip()
    if detail and not detail.isascii():
        return mask_text(detail[:300])  # shown to operators and logged: a channel's text may quote a citizen
    return f"HTTP {response.status_code}"
