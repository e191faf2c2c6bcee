"""What arrives from WeChat, checked before anything runs: signature, replay window, body, safe-mode decryption.

Every failure raises `Rejected` with the HTTP status to answer; nothing here talks to Rasa. That each signed request
is accepted only once is replay.py's part (it needs the channel state).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.messages import BaseMessage
from wechatpy.utils import WeChatSigner

from integrations.channels.wechat.settings import WeChatSettings

# DTDs are never part of a WeChat message; refusing them up front rules out entity expansion ("billion laughs")
# and external entities whatever the XML parser does.
_HOSTILE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PLAIN_ID = re.compile(r"[0-9A-Za-z_-]{1,32}")  # a MsgId as WeChat sends it (a 64-bit number)


class Rejected(Exception):
    """The request is refused with `status`; `reason` is for logs and the plain-text body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    """The plaintext message XML, and the crypto to answer with when it came encrypted (safe mode)."""

    xml: str
    crypto: WeChatCrypto | None = None


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _same(expected: str, given: str) -> bool:
    # Constant time; bytes because compare_digest refuses non-ASCII str (a forged value may contain any).
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


def verify_request(config: WeChatSettings, query: Mapping[str, str], now: float | None = None) -> None:
    """WeChat's query signature (sha1 of token, timestamp, nonce) and a timestamp inside the replay window."""
    signature, timestamp, nonce = (query.get(k, "") for k in ("signature", "timestamp", "nonce"))
    if not (signature and timestamp and nonce) or not timestamp.isdigit():
        raise Rejected(403, "missing signature parameters")
    if not _same(sign(config.token, timestamp, nonce), signature):
        raise Rejected(403, "bad signature")
    if abs((time.time() if now is None else now) - int(timestamp)) > config.timestamp_window:
        raise Rejected(403, "stale timestamp")


def check_body(body: bytes, max_bytes: int) -> str:
    if not body or not body.strip():
        raise Rejected(400, "empty body")
    if len(body) > max_bytes:
        raise Rejected(413, "body too large")
    if _HOSTILE.search(body):
        raise Rejected(400, "DTDs and entities are not accepted")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(400, "body is not UTF-8") from error


def parse_xml(text: str) -> dict[str, Any]:
    try:
        document = xmltodict.parse(text, disable_entities=True)
    except (ExpatError, ValueError) as error:
        raise Rejected(400, "malformed XML") from error
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise Rejected(400, "not a WeChat message")
    return root


def _cryptos(config: WeChatSettings) -> list[WeChatCrypto]:
    keys = [k for k in (config.encoding_aes_key, config.previous_encoding_aes_key) if k]
    return [WeChatCrypto(config.token, key, config.app_id) for key in keys]


def is_encrypted(query: Mapping[str, str]) -> bool:
    return query.get("encrypt_type", "raw").lower() == "aes"


def refuse_plaintext(config: WeChatSettings, query: Mapping[str, str]) -> None:
    """With an EncodingAESKey only encrypted messages are accepted. A plaintext body is covered by no signature
    (`signature` signs token, timestamp and nonce only), so accepting one would let anyone who saw one request URL
    post any message as any user for the rest of the timestamp window."""
    if config.encoding_aes_key and not is_encrypted(query):
        raise Rejected(403, "plaintext message refused: the channel is in safe mode (WECHAT_ENCODING_AES_KEY)")


def open_envelope(config: WeChatSettings, query: Mapping[str, str], body: str) -> Envelope:
    """Plaintext as it is (only without an EncodingAESKey); safe mode (encrypt_type=aes): check msg_signature,
    then decrypt with the current EncodingAESKey or, during a rotation, the previous one. The reply is encrypted
    with the key that worked."""
    refuse_plaintext(config, query)
    if not is_encrypted(query):
        return Envelope(body)
    cryptos = _cryptos(config)
    if not cryptos:
        raise Rejected(503, "safe mode message but WECHAT_ENCODING_AES_KEY is not set")
    outer = parse_xml(body)
    encrypted = outer.get("Encrypt")
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    msg_signature = query.get("msg_signature", "")
    if not isinstance(encrypted, str) or not msg_signature:
        raise Rejected(400, "no Encrypt element or msg_signature")
    if not _same(sign(config.token, timestamp, nonce, encrypted), msg_signature):
        raise Rejected(403, "bad msg_signature")
    for crypto in cryptos:
        try:
            xml = crypto.decrypt_message(outer, msg_signature, timestamp, nonce)
        except Exception:  # wrong key: padding, length or app id do not fit; try the previous key
            continue
        check_body(xml.encode("utf-8"), config.max_body_bytes)
        return Envelope(xml, crypto)
    raise Rejected(400, "cannot decrypt with the configured EncodingAESKeys")


def parse_inbound(xml: str) -> BaseMessage:
    """The wechatpy message or event; fields every message must have are checked here."""
    root = parse_xml(xml)
    if not isinstance(root.get("MsgType"), str) or not _OPENID.fullmatch(str(root.get("FromUserName", ""))):
        raise Rejected(400, "MsgType or FromUserName missing")
    if not str(root.get("CreateTime", "")).isdigit():
        raise Rejected(400, "CreateTime missing")
    try:
        return parse_message(xml)
    except (KeyError, TypeError, ValueError, AttributeError, ExpatError) as error:
        raise Rejected(400, "unreadable message") from error


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def dedup_key(message: BaseMessage) -> str:
    """Sender and MsgId for messages (one user's message can never pass for another's retry); events have no MsgId,
    so sender and CreateTime identify a retry (WeChat's advice), with the event and its key so that two different
    menu clicks within one second are not taken for one. What the sender chose (EventKey, any odd MsgId) enters
    the key as a digest: a state key never grows with a field's length."""
    raw: dict[str, Any] = message._data
    msg_id = str(raw.get("MsgId") or "")
    if msg_id:
        return f"msg:{message.source}:{msg_id if _PLAIN_ID.fullmatch(msg_id) else _digest(msg_id)}"
    event = "\n".join([str(raw.get("CreateTime")), str(raw.get("Event", "")).lower(), str(raw.get("EventKey") or "")])
    return f"evt:{message.source}:{_digest(event)}"
