"""The Rasa server answers strangers only on the channels' webhooks; every other route needs the API token.

Rasa's own `--auth-token` takes the token from the query string (`?token=…`), which access logs and proxies keep,
and leaves `/`, `/version` and the channels' siblings open. Instead a request middleware, installed on the app
Rasa builds, lets through the routes registered under `/webhooks/` (each channel checks its own callers: WeChat
signatures, Telegram's secret header, the web chat's random browser id, the REST token in production) and asks
every other route for `Authorization: Bearer <token>`. The token is compared in constant time.
"""

from __future__ import annotations

import hmac
import json
from functools import partial

from sanic import Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request
from sanic.response import HTTPResponse

WEBHOOKS = "webhooks/"
# Nothing legitimate is larger: a WeChat safe-mode message is a few KB, a web chat request at most 16 KB, and the
# authenticated API takes paths, not model files. Sanic's default is 100 MB, read into memory before any handler.
MAX_REQUEST_BYTES = 1024 * 1024

UNAUTHORIZED = {
    "error": "unauthorized",
    "message": "此接口需要访问令牌：请在请求头中提供 Authorization: Bearer <RASA_API_TOKEN>。",
}
TOO_LARGE = {"error": "payload_too_large", "message": "请求内容过大，请精简后重试。"}

_dumps = partial(json.dumps, ensure_ascii=False)


def is_public(request: Request) -> bool:
    """Judged by the route that matched, not by the raw path, so `/webhooks/../conversations/…` gains nothing."""
    route = getattr(request, "route", None)
    return route is not None and route.path.lstrip("/").startswith(WEBHOOKS)


def bearer_matches(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def install(app: Sanic, token: str) -> None:
    """Guard every non-webhook route of `app` with `token`, and cap request bodies."""
    if not token:
        raise ValueError("the Rasa API token must not be empty")
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    async def require_token(request: Request) -> HTTPResponse | None:
        if is_public(request) or bearer_matches(request, token):
            return None
        return response.json(UNAUTHORIZED, status=401, dumps=_dumps, headers={"WWW-Authenticate": "Bearer"})

    async def too_large(request: Request, exception: Exception) -> HTTPResponse:
        return response.json(TOO_LARGE, status=413, dumps=_dumps)

    app.register_middleware(require_token, "request")
    app.error_handler.add(PayloadTooLarge, too_large)
