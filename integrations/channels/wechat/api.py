"""WeChat's server API (wechatpy, synchronous: call it from a thread): a shared access_token, customer-service
text messages and the custom menu.

Every token refresh invalidates the previous token, so with several Rasa workers the token lives in Redis and
one refresh at a time happens under a Redis lock; whoever waited on the lock uses the new token. A call rejected
for its token refreshes only if that token is still the current one: a rejection arriving after another worker
already refreshed must not refresh again (and invalidate the token everybody just started using).

The AppSecret and the access_token travel in query strings; they are kept out of logs and error texts (redact.py).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import redis
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage
from wechatpy.session.redisstorage import RedisStorage

from integrations.channels.state import PREFIX
from integrations.channels.wechat.redact import redact_credentials_in_logs
from integrations.channels.wechat.settings import WeChatSettings

TOKEN_INVALID = frozenset({40001, 40014, 42001})
TOKEN_MARGIN = 300  # refresh five minutes before WeChat's expiry
T = TypeVar("T")


class ExpiringMemoryStorage(SessionStorage):
    """wechatpy's MemoryStorage ignores TTLs; one Rasa process without Redis still needs tokens to expire."""

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, Any]] = {}

    def get(self, key: str, default: Any = None) -> Any:
        expires, value = self._data.get(key, (0.0, default))
        return value if expires > time.monotonic() else default

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        if value is not None:
            self._data[key] = (time.monotonic() + (ttl or 7200), value)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


class WeChatApi(WeChatClient):
    """WeChatClient against `WECHAT_API_BASE_URL`, with a shared token and a lock around its refresh."""

    def __init__(self, config: WeChatSettings, redis_client: redis.Redis | None = None) -> None:
        redact_credentials_in_logs()
        if redis_client is not None:
            session: SessionStorage = RedisStorage(redis_client, prefix=PREFIX + "wechat")
            self._lock: Callable[[], contextlib.AbstractContextManager[Any]] = lambda: redis_client.lock(
                f"{PREFIX}wechat:token-lock:{config.app_id}", timeout=30, blocking_timeout=20
            )
        else:
            session = ExpiringMemoryStorage()
            process_lock = threading.Lock()
            self._lock = lambda: process_lock
        super().__init__(config.app_id, config.app_secret, session=session, timeout=config.api_timeout,
                         auto_retry=False)  # our own retry below is bounded to one
        self.API_BASE_URL = config.api_base_url

    @classmethod
    def from_config(cls, config: WeChatSettings) -> WeChatApi:
        return cls(config, redis.Redis.from_url(config.redis_url) if config.redis_url else None)

    @property
    def access_token(self) -> str:
        return self.session.get(self.access_token_key) or self.refresh(stale=None)

    def fetch_access_token(self) -> dict[str, str]:
        return {"access_token": self.refresh(stale=self.session.get(self.access_token_key))}

    def refresh(self, stale: str | None) -> str:
        """A new token, unless another worker refreshed while this one waited for the lock."""
        with self._lock():
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return current
            result = self._token_request()
            token = str(result["access_token"])
            ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_MARGIN)
            self.session.set(self.access_token_key, token, ttl)
            return token

    def _token_request(self) -> dict[str, Any]:
        try:
            response = self._http.get(
                self.API_BASE_URL + "token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
                timeout=self.timeout,
            )
            response.raise_for_status()
            result = response.json()
        except (requests.RequestException, ValueError) as error:
            # The error's own text holds the request URL, and with it the AppSecret: name the failure only.
            status = getattr(getattr(error, "response", None), "status_code", None)
            reason = f"HTTP {status}" if status else type(error).__name__
            raise WeChatClientException(None, f"token request failed: {reason}", client=self) from None
        if result.get("errcode") or "access_token" not in result:
            raise WeChatClientException(result.get("errcode"), result.get("errmsg", "no access_token"), client=self)
        return result

    def _with_token_retry(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except WeChatClientException as error:
            if error.errcode not in TOKEN_INVALID:
                raise
            self.refresh(stale=_token_of(error) or self.session.get(self.access_token_key))
            return call()

    def send_text(self, openid: str, content: str) -> dict[str, Any]:
        """A customer-service text message (the way to answer after the 5-second passive window)."""
        return self._with_token_retry(lambda: self.message.send_text(openid, content))

    def send_template(self, openid: str, template_id: str, data: dict[str, Any]) -> dict[str, Any]:
        """A template message: reaches a follower outside the 48-hour customer-service window (bot/notifier)."""
        return self._with_token_retry(lambda: self.message.send_template(openid, template_id, data))

    def create_menu(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._with_token_retry(lambda: self.menu.create(body))


def _token_of(error: WeChatClientException) -> str | None:
    """The access_token the rejected call was made with (wechatpy keeps the request on the exception)."""
    url = getattr(getattr(error, "request", None), "url", None)
    if not url:
        return None
    return (parse_qs(urlsplit(url).query).get("access_token") or [None])[0]
