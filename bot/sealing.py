"""Sealed (encrypted) channel user ids: the one personal value the operator console may need back.

The conversation log keeps only keyed hashes of sender ids (bot.masking.hash_sender_id), which cannot be reversed.
An operator who takes over a conversation must still reach the citizen through their channel, and an admin may
unmask one conversation: both need the real id. It is stored sealed with Fernet (AES-128-CBC + HMAC-SHA256,
from `cryptography`) under a key derived from env `PII_SEAL_KEY`; without the key a sealed id is useless.
"""

from __future__ import annotations

import base64
import logging
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.settings import secret_from_env

logger = logging.getLogger(__name__)

# Only for development: any real deployment sets PII_SEAL_KEY (and keeps it: ids sealed under a lost key are lost).


class InvalidSeal(ValueError):
    """The token was not sealed with the current key, or was altered."""


@lru_cache(maxsize=8)
def _fernet(secret: str) -> Fernet:
    # HKDF turns any passphrase into the 32 bytes Fernet needs; the info label keeps this key apart from any
    # other use of the same secret.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"govbot sender seal v1").derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def _current() -> Fernet:
    return _fernet(secret_from_env("PII_SEAL_KEY", "channel user ids are sealed"))


def seal(text: str) -> str:
    """An encrypted, authenticated token for `text` (different every call: Fernet adds a random IV)."""
    return _current().encrypt(text.encode("utf-8")).decode("ascii")


def unseal(token: str) -> str:
    """The text sealed in `token`; InvalidSeal when it was sealed under another key or was tampered with."""
    try:
        return _current().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, AttributeError) as error:
        raise InvalidSeal("sealed value cannot be opened with the current PII_SEAL_KEY") from error
