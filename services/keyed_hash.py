"""Keyed hashes (HMAC-SHA256 with SERVICES_SECRET_KEY) for values the database must not hold in clear.

Unkeyed hashes of small secrets are no protection: a 6-digit code has a million values and is found from its
sha256 in a second. With the key, a database dump alone reveals neither codes nor which ID numbers were tried.
"""

from __future__ import annotations

import hashlib
import hmac


def keyed_hash(secret: str, *parts: str) -> str:
    """64 hex characters; the parts are joined with a separator no input contains."""
    message = "\x1f".join(parts).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
