"""One notification into its conversation through Rasa's HTTP API, and what became of it.

`POST /conversations/<id>/trigger_intent?output_channel=<channel>` with the external intent EXTERNAL_progress_update
and the event as entities: Rasa adds it to the conversation (a new session if the old one expired), the assistant's
action (actions/notifications.py) words the message, and Rasa hands it to the channel's own output channel, as it
does an operator's takeover reply: WeChat customer-service message, Telegram sendMessage, the web chat's and the REST
client's outboxes. The channel is named explicitly (the conversation id's prefix) rather than "latest": an expired
tracker has no latest input channel, and Rasa would then collect the message and deliver it nowhere.

The answers mean:
- 200 and the slot `progress_notified` holds this event_id: delivered (or delivered before: the action says it
  once per event);
- 200 otherwise: the conversation is paused (an operator has it) or the action failed; Rasa said nothing: try later;
- 500 whose message is a channel's own Chinese DeliveryFailed text: the channel refused it (WeChat's 48-hour window,
  a blocked bot, a channel not configured): final, that text is the reason operators read;
- anything else (no connection, a timeout, 401/404, another 500): try later.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from bot.masking import hash_sender_id, mask_text
from bot.notifier.models import Notification

logger = logging.getLogger(__name__)

INTENT = "EXTERNAL_progress_update"
NOTIFIED_SLOT = "progress_notified"
# Rasa's HTTP server (Sanic) does not percent-decode path parameters: the id travels as it is (console/rasa_client).
_PATH_SAFE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@]{1,256}")

UNREACHABLE = "无法连接智能助手服务（Rasa），稍后重试。"
TIMEOUT = "智能助手服务（Rasa）响应超时，稍后重试。"
REFUSED_TOKEN = "智能助手服务拒绝了通知服务的请求：请检查 RASA_API_TOKEN 设置。稍后重试。"
NO_INTENT = "智能助手的模型中没有进度提醒（EXTERNAL_progress_update）：请重新训练并加载模型。稍后重试。"
RASA_ERROR = "智能助手服务出错（HTTP {status}），稍后重试。"
PAUSED = "该会话正由工作人员人工接管，交还智能助手后再发送。"
NOT_SAID = "智能助手未能生成提醒（动作服务器可能不可用），稍后重试。"
UNADDRESSABLE = "会话标识含有智能助手接口无法使用的字符，提醒无法送达。"


@dataclass(frozen=True)
class Outcome:
    delivered: bool = False
    refused: bool = False  # the channel refused: asking again would not help
    reason: str = ""


def entities(row: Notification) -> dict[str, str]:
    """The event as the external intent's entities (actions/notifications.py reads them)."""
    return {
        "notification_event": row.event_id,
        "notification_service": row.service,
        "notification_reference": row.reference,
        "notification_state": row.state,
        "notification_detail": row.detail or "",
    }


class RasaDelivery:
    def __init__(self, base_url: str, token: str, timeout: float, transport: httpx.AsyncBaseTransport | None = None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout, transport=transport)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def deliver(self, conversation_id: str, channel: str, row: Notification) -> Outcome:
        if not _PATH_SAFE.fullmatch(conversation_id):
            return Outcome(refused=True, reason=UNADDRESSABLE)
        try:
            response = await self.http.post(
                f"/conversations/{conversation_id}/trigger_intent",
                params={"output_channel": channel, "include_events": "NONE"},
                json={"name": INTENT, "entities": entities(row)},
            )
        except httpx.TimeoutException:
            return Outcome(reason=TIMEOUT)
        except httpx.HTTPError as error:
            logger.warning("notification %s: Rasa unreachable (%s)", row.event_id, type(error).__name__)
            return Outcome(reason=UNREACHABLE)
        return _judge(response, conversation_id, row)


def _judge(response: httpx.Response, conversation_id: str, row: Notification) -> Outcome:
    status = response.status_code
    if status in (401, 403):
        return Outcome(reason=REFUSED_TOKEN)
    if status == 404:
        return Outcome(reason=NO_INTENT)
    if status >= 500:
        refusal = _channel_refusal(response)
        logger.warning("notification %s for %s: Rasa answered %d%s", row.event_id, hash_sender_id(conversation_id),
                       status, " (the channel refused it)" if refusal else "")
        return Outcome(refused=True, reason=refusal) if refusal else Outcome(reason=RASA_ERROR.format(status=status))
    if status >= 300:
        return Outcome(reason=RASA_ERROR.format(status=status))
    tracker = _json(response).get("tracker") or {}
    if (tracker.get("slots") or {}).get(NOTIFIED_SLOT) == row.event_id:
        return Outcome(delivered=True)
    return Outcome(reason=PAUSED if tracker.get("paused") else NOT_SAID)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _channel_refusal(response: httpx.Response) -> str | None:
    """A channel's DeliveryFailed text from Rasa's error answer ("... Error: <text>"); our channels raise it in
    Chinese, so an ASCII message is some other failure."""
    detail = str(_json(response).get("message") or "").rsplit("Error: ", 1)[-1].strip()
    return mask_text(detail[:300]) if detail and not detail.isascii() else None
