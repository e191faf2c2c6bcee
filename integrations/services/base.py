"""Shared plumbing of the government-service clients: configuration, timeouts, retries, structured errors.

Retries happen only where repeating is harmless: GET requests and POSTs that carry an Idempotency-Key, and only
after failures that may pass (integrations/retry.py holds the policy).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import wait_exponential

from bot.settings import ServiceClientSettings
from integrations.retry import RetryPolicy

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({502, 503, 504})


class ServiceError(Exception):
    """Base class of everything a client raises."""


class ServiceUnavailable(ServiceError):
    """The service is down, too slow or answered with a server error. The message is for the citizen."""

    def __init__(self, service: str, reason: str) -> None:
        self.service = service
        self.reason = reason  # technical, for logs: "timeout", "connect_error", "http_503", ...
        super().__init__(f"抱歉，{service}暂时无法访问，请您稍后再试。")

    @property
    def message(self) -> str:
        return str(self)


class _Transient(ServiceUnavailable):
    """No connection, a timeout, a 502/503/504: may pass, so worth another attempt when the request may be repeated.
    Callers only ever see a plain ServiceUnavailable."""


class ServiceRejected(ServiceError):
    """The service refused the request with a structured 4xx error; `message` is its Chinese explanation."""

    def __init__(
        self, code: str, message: str, details: dict[str, Any] | None = None, status: int = 400
    ) -> None:
        self.code = code
        self.message = message
        self.details = details or {}
        self.status = status
        super().__init__(message)

    @property
    def suggestions(self) -> list[str]:
        """Suggested names for unknown_country / unknown_port."""
        return list(self.details.get("suggestions", []))


def idempotency_key(sender_id: str, transaction: str, instance_id: str) -> str:
    """A stable key for one transaction attempt of one chat user.

    Use the same `instance_id` (e.g. the id of the form run, stored in a slot) for every retry of the same
    confirmation, and a new one when the citizen starts the transaction again.
    """
    raw = f"{sender_id}\x1f{transaction}\x1f{instance_id}".encode()
    return f"{transaction}-{hashlib.sha256(raw).hexdigest()[:40]}"


class BaseServiceClient:
    """An async client for one back end. Use `async with Client() as c:` or call `aclose()` when done."""

    service_name = "政务服务"

    def __init__(self, config: ServiceClientSettings | None = None, *, http: httpx.AsyncClient | None = None) -> None:
        self.config = config or ServiceClientSettings.from_env()
        self._http = http
        self._owns_http = http is None

    async def __aenter__(self) -> BaseServiceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            timeout = httpx.Timeout(self.config.timeout, connect=self.config.connect_timeout)
            self._http = httpx.AsyncClient(base_url=self.config.base_url, timeout=timeout)
        return self._http

    @staticmethod
    def _headers(token: str | None, chat_user: str | None, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if chat_user:
            headers["X-Chat-User"] = chat_user
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        token: str | None = None,
        chat_user: str | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[int, Any]:
        """Send the request (retrying if idempotent) and return (status, parsed JSON body)."""
        repeatable = method.upper() == "GET" or idempotency_key is not None
        policy = self._retry_policy(repeatable)
        headers = self._headers(token, chat_user, idempotency_key)
        clean_params = {k: v for k, v in (params or {}).items() if v is not None}
        started = time.monotonic()

        async def attempt() -> tuple[int, Any]:
            # One attempt may not outlast the overall deadline either.
            remaining = self.config.deadline - (time.monotonic() - started)
            timeout = max(0.1, min(self.config.timeout, remaining))
            return await self._attempt(method, path, timeout, params=clean_params, json=json, headers=headers)

        def on_retry(failure: BaseException, _attempt: int, _pause: float) -> None:
            logger.info("%s %s failed (%s), retrying", method, path, getattr(failure, "reason", failure))

        try:
            return await policy.run_async(attempt, on_retry)
        except _Transient as failure:
            logger.warning("%s %s: service unavailable (%s)", method, path, failure.reason)
            raise ServiceUnavailable(failure.service, failure.reason) from None

    def _retry_policy(self, repeatable: bool) -> RetryPolicy:
        """Transient failures only, and only when repeating is harmless; pauses of backoff, 2x backoff, ..."""
        return RetryPolicy(
            transient=lambda failure: isinstance(failure, _Transient),
            wait=wait_exponential(multiplier=self.config.backoff),
            attempts=1 + (self.config.max_retries if repeatable else 0),
            deadline=self.config.deadline,
        )

    async def _attempt(self, method: str, path: str, timeout: float, **request: Any) -> tuple[int, Any]:
        try:
            response = await asyncio.wait_for(self._client().request(method, path, **request), timeout=timeout)
        except (httpx.TransportError, asyncio.TimeoutError) as exc:
            raise _Transient(self.service_name, _reason(exc)) from None
        if response.status_code in RETRYABLE_STATUS:
            raise _Transient(self.service_name, f"http_{response.status_code}")
        if response.status_code >= 500:
            raise ServiceUnavailable(self.service_name, f"http_{response.status_code}")  # a bug on their side
        return self._parse(response)

    def _parse(self, response: httpx.Response) -> tuple[int, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ServiceUnavailable(self.service_name, "invalid_json") from exc
        if response.status_code >= 400:
            error = body.get("error", {}) if isinstance(body, dict) else {}
            raise ServiceRejected(
                code=str(error.get("code", "rejected")),
                message=str(error.get("message", "抱歉，您的请求未能通过审核，请核对信息后重试。")),
                details=error.get("details") or {},
                status=response.status_code,
            )
        return response.status_code, body


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, httpx.ConnectError):
        return "connect_error"
    return type(exc).__name__
