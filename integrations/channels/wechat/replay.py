"""Each signed WeChat request is accepted once within the timestamp window, in the shared channel state.

WeChat's `signature` covers token, timestamp and nonce, not the message: without this, a request URL seen once (an
access log, a proxy, a screenshot) signs any body for the rest of the window. In safe mode `msg_signature` covers the
ciphertext as well, so a captured request can only be sent again unchanged.

A request is identified by its timestamp, nonce and signatures, and remembered with a digest of its body:
- never seen: a new message, handled normally;
- seen with the same body (byte for byte): a repeat. WeChat's documentation says it retries a message it got no
  answer to (up to three times, 5 s apart) but not whether a retry carries a new timestamp and nonce, so a repeat may
  be a legitimate retry. It is answered from the de-duplication of its message and never starts a turn;
- seen with another body: a forgery under a used signature, refused with 403.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from integrations.channels.state import ChannelState
from integrations.channels.wechat.checks import Rejected

_SIGNED = ("timestamp", "nonce", "signature", "msg_signature")


def replay_ttl(window: int) -> int:
    """How long a used signature is remembered: a timestamp up to `window` seconds ahead of our clock is accepted
    until `window` seconds after it, so twice the window, plus a minute for clock steps."""
    return 2 * window + 60


def _identity(query: Mapping[str, str]) -> str:
    signed = "\n".join(query.get(name, "") for name in _SIGNED)
    return hashlib.sha256(signed.encode("utf-8")).hexdigest()


async def admit(state: ChannelState, query: Mapping[str, str], body: bytes, window: int) -> bool:
    """True the first time this signed request is seen, False for a byte-identical repeat; Rejected (403) for a
    used signature carrying another body. Call it after the signatures were checked."""
    identity, ttl = _identity(query), replay_ttl(window)
    content = hashlib.sha256(body).hexdigest()
    # Two claims, body first: of two requests racing with one signature and different bodies, exactly one wins.
    new_content = await state.claim(f"wechat:signed:{identity}:{content}", ttl)
    new_identity = await state.claim(f"wechat:signed:{identity}", ttl)
    if not new_content:
        return False
    if not new_identity:
        raise Rejected(403, "signature already used for another message (replay)")
    return True
