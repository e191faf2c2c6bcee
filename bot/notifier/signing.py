"""Signed state-change events: the sandbox signs every body it posts, the notifier checks it before reading it.

Header `X-Govbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` under NOTIFY_WEBHOOK_SECRET. The
time is signed with the body, so a captured request cannot be sent again later with a fresh time; the notifier
refuses a signature that does not match and a time outside its window (bot.settings.NotifierSettings).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from bot.secret_store import shared_secret

SIGNATURE_HEADER = "X-Govbot-Signature"
SECRET_NAME = "NOTIFY_WEBHOOK_SECRET"


class BadSignature(ValueError):
    """The request is not signed with the shared secret, or was signed outside the time window."""


def webhook_secret() -> str:
    """The shared secret: NOTIFY_WEBHOOK_SECRET, or (development) the one generated under var/secrets/."""
    return shared_secret(SECRET_NAME)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for `body`, signed now (or at `timestamp`)."""
    moment = int(time.time()) if timestamp is None else timestamp
    return f"t={moment},v1={_digest(secret, moment, body)}"


def verify(secret: str, body: bytes, header: str | None, window: int, now: float | None = None) -> None:
    """BadSignature unless `header` signs `body` with `secret` within `window` seconds of now."""
    parts = dict(item.split("=", 1) for item in (header or "").split(",") if "=" in item)
    timestamp, given = parts.get("t", ""), parts.get("v1", "")
    if not timestamp.isascii() or not timestamp.isdigit() or not given:
        raise BadSignature("missing or malformed signature")
    if abs((time.time() if now is None else now) - int(timestamp)) > window:
        raise BadSignature("signed outside the time window")
    if not hmac.compare_digest(given.encode(), _digest(secret, int(timestamp), body).encode()):
        raise BadSignature("signature does not match")
