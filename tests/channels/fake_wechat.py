"""A local stand-in for api.weixin.qq.com, and a WeChat server that pushes signed messages to the channel.

`FakeWeChatApi` serves the three endpoints the channel uses (token, message/custom/send, menu/create) and
checks requests the way WeChat documents them: a valid access_token query parameter, the JSON body format, the
menu limits. Answers use WeChat's error codes. Tests can queue errors for a user (45015, 45047, ...).

`WeChatPusher` builds message XML as in the official docs, signs it (and encrypts it in safe mode) and posts it
to /webhooks/wechat/, like WeChat's servers do. `ChannelServer` runs the channel's blueprint in a real Sanic server
on the test's loop, for tests without the whole stack.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import xmltodict
from sanic import Sanic
from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

from tests.e2e.stack import free_port

ACCOUNT = "gh_0123456789ab"  # the Official Account's original id (ToUserName of every message)
OK = {"errcode": 0, "errmsg": "ok"}


def _error(code: int, message: str) -> dict[str, Any]:
    return {"errcode": code, "errmsg": message}


def _bytes(value: Any) -> int:
    return len(str(value).encode("utf-8"))


def menu_problem(body: Any) -> str | None:
    """What WeChat would refuse in a menu/create body (independent of the channel's own check)."""
    if not isinstance(body, dict) or set(body) != {"button"} or not isinstance(body["button"], list):
        return "body must be {'button': [...]}"
    if not 1 <= len(body["button"]) <= 3:
        return "1 to 3 top-level buttons"
    for top in body["button"]:
        if not 0 < _bytes(top.get("name", "")) <= 16:
            return f"top-level name {top.get('name')!r} longer than 16 bytes"
        subs = top.get("sub_button")
        entries = subs if subs is not None else [top]
        if subs is not None and (set(top) != {"name", "sub_button"} or not 1 <= len(subs) <= 5):
            return f"menu {top.get('name')!r}: 1 to 5 sub-buttons and nothing else"
        for entry in entries:
            if subs is not None and not 0 < _bytes(entry.get("name", "")) <= 60:
                return f"sub-button name {entry.get('name')!r} longer than 60 bytes"
            if entry.get("type") == "click":
                if set(entry) != {"type", "name", "key"} or not 0 < _bytes(entry["key"]) <= 128:
                    return f"click entry {entry.get('name')!r} needs exactly type, name and a key"
            elif entry.get("type") == "view":
                if set(entry) != {"type", "name", "url"}:
                    return f"view entry {entry.get('name')!r} needs exactly type, name and url"
            else:
                return f"unknown button type {entry.get('type')!r}"
    return None


@dataclass
class FakeWeChatApi:
    app_id: str
    app_secret: str
    port: int
    token_delay: float = 0.0  # seconds a token request takes (makes concurrent refreshes overlap)
    token_requests: int = 0
    valid_tokens: set[str] = field(default_factory=set)
    messages: list[dict[str, Any]] = field(default_factory=list)  # accepted customer-service messages
    attempts: list[dict[str, Any]] = field(default_factory=list)  # every customer-service request body
    menus: list[dict[str, Any]] = field(default_factory=list)
    queued_errors: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    # Seconds a customer-service request to this openid takes after its token was checked: a late answer.
    send_delay: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # ---- test controls

    def start(self) -> FakeWeChatApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake._dispatch(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._dispatch(self, "POST")

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/"

    def fail_next(self, openid: str, *errcodes: int) -> None:
        with self._lock:
            self.queued_errors[openid].extend(errcodes)

    def invalidate_tokens(self) -> None:
        with self._lock:
            self.valid_tokens.clear()

    def texts_to(self, openid: str) -> list[str]:
        with self._lock:
            return [m["text"]["content"] for m in self.messages if m["touser"] == openid]

    def attempts_to(self, openid: str) -> int:
        with self._lock:
            return sum(1 for body in self.attempts if isinstance(body, dict) and body.get("touser") == openid)

    def wait_for_texts(self, openid: str, count: int, timeout: float = 30) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            texts = self.texts_to(openid)
            if len(texts) >= count:
                return texts
            time.sleep(0.1)
        return self.texts_to(openid)

    # ---- the API

    def _dispatch(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        url = urlparse(handler.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        routes = {
            ("GET", "/cgi-bin/token"): self._token,
            ("POST", "/cgi-bin/message/custom/send"): self._custom_send,
            ("POST", "/cgi-bin/menu/create"): self._menu_create,
        }
        endpoint = routes.get((method, url.path))
        if endpoint is None:
            status, result = 404, _error(-1, "unknown endpoint")
        else:
            status, result = 200, endpoint(query, raw)
        payload = json.dumps(result, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _token(self, query: dict[str, str], _raw: bytes) -> dict[str, Any]:
        time.sleep(self.token_delay)
        if query.get("grant_type") != "client_credential":
            return _error(40002, "invalid grant_type")
        if query.get("appid") != self.app_id or query.get("secret") != self.app_secret:
            return _error(40125, "invalid appsecret")
        token = "FAKE_TOKEN_" + secrets.token_hex(16)
        with self._lock:
            self.token_requests += 1
            self.valid_tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    def _authorised(self, query: dict[str, str]) -> bool:
        with self._lock:
            return query.get("access_token") in self.valid_tokens

    def _json(self, raw: bytes) -> Any:
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None

    def _custom_send(self, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        authorised = self._authorised(query)
        body = self._json(raw)
        if isinstance(body, dict):
            time.sleep(self.send_delay.get(str(body.get("touser")), 0.0))
        if not authorised:
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        with self._lock:
            self.attempts.append(body)
        if not raw:
            return _error(44002, "empty post data")
        well_formed = (
            isinstance(body, dict)
            and set(body) == {"touser", "msgtype", "text"}
            and isinstance(body["touser"], str)
            and body["msgtype"] == "text"
            and isinstance(body["text"], dict)
            and set(body["text"]) == {"content"}
            and isinstance(body["text"]["content"], str)
            and body["text"]["content"].strip() != ""
        )
        if not well_formed:
            return _error(47001, "data format error")
        if _bytes(body["text"]["content"]) > 2048:
            return _error(45002, "content size out of limit")
        with self._lock:
            queued = self.queued_errors.get(body["touser"])
            if queued:
                code = queued.pop(0)
                return _error(code, {45015: "response out of time limit or subscription is canceled",
                                     45047: "out of response count limit"}.get(code, "error"))
            self.messages.append(body)
        return OK

    def _menu_create(self, query: dict[str, str], raw: bytes) -> dict[str, Any]:
        if not self._authorised(query):
            return _error(40001, "invalid credential, access_token is invalid or not latest")
        body = self._json(raw)
        problem = menu_problem(body)
        if problem:
            return _error(40018, f"invalid button: {problem}")
        with self._lock:
            self.menus.append(body)
        return OK


# ---- the pushing side (what WeChat's servers send to the channel)


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def message_xml(openid: str, msg_type: str, fields: dict[str, Any], create_time: int | None = None,
                msg_id: int | None = None) -> str:
    """A message or event as WeChat posts it (element order and CDATA as in the official docs)."""
    lines = [
        f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
        f"<FromUserName><![CDATA[{openid}]]></FromUserName>",
        f"<CreateTime>{create_time or int(time.time())}</CreateTime>",
        f"<MsgType><![CDATA[{msg_type}]]></MsgType>",
    ]
    for name, value in fields.items():
        lines.append(f"<{name}>{value}</{name}>" if isinstance(value, (int, float)) else
                     f"<{name}><![CDATA[{value}]]></{name}>")
    if msg_id is not None:
        lines.append(f"<MsgId>{msg_id}</MsgId>")
    return "<xml>" + "".join(lines) + "</xml>"


def new_msg_id() -> int:
    return secrets.randbits(62)


def new_openid() -> str:
    return "o" + secrets.token_urlsafe(20).replace("-", "x").replace("_", "y")[:27]


@dataclass
class WeChatPusher:
    webhook_url: str
    token: str
    app_id: str
    aes_key: str

    def query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        timestamp_text = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**9))
        return {"signature": sign(self.token, timestamp_text, nonce), "timestamp": timestamp_text, "nonce": nonce}

    def post(self, xml: str | bytes, *, query: dict[str, str] | None = None, openid: str | None = None,
             timeout: float = 30) -> httpx.Response:
        params = {**(query or self.query()), **({"openid": openid} if openid else {})}
        content = xml.encode("utf-8") if isinstance(xml, str) else xml
        return httpx.post(self.webhook_url, params=params, content=content, timeout=timeout,
                          headers={"Content-Type": "text/xml"})

    def safe_request(self, xml: str, *, key: str | None = None, tamper: bool = False) -> tuple[dict[str, str], str]:
        """Safe mode: the message AES-encrypted in an envelope, with msg_signature over the ciphertext."""
        query = self.query()
        crypto = WeChatCrypto(self.token, key or self.aes_key, self.app_id)
        encrypted = PrpCrypto(crypto.key).encrypt(xml, self.app_id).decode()
        signature = sign(self.token, query["timestamp"], query["nonce"], encrypted)
        if tamper:
            signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        query.update(encrypt_type="aes", msg_signature=signature)
        envelope = (f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
                    f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>")
        return query, envelope

    def post_safe(self, xml: str, *, key: str | None = None, tamper: bool = False,
                  timeout: float = 30) -> httpx.Response:
        query, envelope = self.safe_request(xml, key=key, tamper=tamper)
        return self.post(envelope, query=query, timeout=timeout)


def reply_fields(response: httpx.Response, token: str | None = None, app_id: str | None = None,
                 key: str | None = None) -> dict[str, Any]:
    """The passive reply's fields; decrypted (and its signature checked) when a key is given."""
    text = response.text
    if key:
        root = xmltodict.parse(text)["xml"]
        crypto = WeChatCrypto(token, key, app_id)
        text = crypto.decrypt_message(text, root["MsgSignature"], root["TimeStamp"], root["Nonce"])
    return xmltodict.parse(text)["xml"]


class ChannelServer:
    """A channel's blueprint in a real Sanic server on this test's loop, with a scripted stand-in for Rasa."""

    def __init__(self, channel: Any, handler: Any, prefix: str = "/webhooks/wechat") -> None:
        self.app = Sanic(f"channel_test_{uuid.uuid4().hex[:8]}")
        self.app.blueprint(channel.blueprint(handler), url_prefix=prefix)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{prefix}/"

    async def __aenter__(self) -> ChannelServer:
        # Several apps in one process: Sanic then re-applies its method touch-ups from the originals.
        self.test_mode, Sanic.test_mode = Sanic.test_mode, True
        self.server = await self.app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True,
                                                   access_log=False)
        await self.server.startup()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()
        Sanic.test_mode = self.test_mode
