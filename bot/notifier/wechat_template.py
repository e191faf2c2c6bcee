"""WeChat after the customer-service window: a template message (模板消息), when the Official Account has one.

WeChat accepts customer-service messages only within 48 hours of the follower's last message (errcode 45015
after that). A template message has no such window; its text is fixed by the template chosen in the Official
Account's back office, so the notification travels as four data fields (docs/notifications.md): keyword1 the
service, keyword2 the reference, keyword3 what happened (the back end's own sentence), keyword4 when.

wechatpy is synchronous: the call runs in a thread. The access token is the channel's own (integrations/channels/
wechat/api.py: shared in Redis with the Rasa replicas, refreshed under a lock).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

from bot.clock import CHINA_TZ
from bot.masking import hash_sender_id
from bot.names import SERVICE_LABELS, label
from bot.notifier.models import Notification
from bot.settings import WeChatSettings

logger = logging.getLogger(__name__)

MAX_FIELD_CHARS = 200
SENT = "微信客服消息未送达（{reason}），已改发模板消息。"
NOT_SENT = "微信客服消息未送达（{reason}），改发模板消息也未成功（{error}）。"
NO_TEMPLATE = ("{reason}未配置模板消息（WECHAT_NOTIFICATION_TEMPLATE_ID），无法在48小时客服消息窗口外通知该用户；"
               "请通过其他方式联系。")


def template_data(row: Notification, now: float | None = None) -> dict[str, dict[str, str]]:
    moment = datetime.fromtimestamp(row.occurred_at or (time.time() if now is None else now), CHINA_TZ)
    return {
        "keyword1": {"value": label(SERVICE_LABELS, row.service)[:MAX_FIELD_CHARS]},
        "keyword2": {"value": row.reference[:MAX_FIELD_CHARS]},
        "keyword3": {"value": (row.detail or row.state)[:MAX_FIELD_CHARS]},
        "keyword4": {"value": f"{moment:%Y-%m-%d %H:%M}"},
    }


class TemplateFallback:
    def __init__(self, config: WeChatSettings) -> None:
        self.config = config
        self._api: Any = None

    @classmethod
    def configured(cls, config: WeChatSettings) -> TemplateFallback | None:
        return cls(config) if config.configured and config.notification_template_id else None

    def _client(self) -> Any:
        if self._api is None:  # imported on first use: the channel package loads Rasa's channel classes
            from integrations.channels.wechat.api import WeChatApi

            self._api = WeChatApi.from_config(self.config)
        return self._api

    async def send(self, openid: str, row: Notification) -> str | None:
        """None when sent, else why not (WeChat's errcode, for operators)."""
        data = template_data(row)
        try:
            await asyncio.to_thread(self._client().send_template, openid, self.config.notification_template_id, data)
        except Exception as error:  # WeChat's refusal or the network: recorded, never raised
            errcode = getattr(error, "errcode", None)
            reason = f"errcode {errcode}" if errcode is not None else type(error).__name__
            logger.warning("template message to %s not sent (%s)", hash_sender_id(openid), reason)
            return reason
        return None
