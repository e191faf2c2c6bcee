"""A cap on request bodies: the sandbox's requests are a few hundred bytes of JSON, so anything much larger is
refused before it is parsed (a multi-megabyte body would otherwise be read into memory and decoded in full)."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import error_body


class BodySizeLimit:
    """ASGI middleware: 413 `request_too_large` for a body over `max_bytes`, declared or streamed (chunked)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._declared_length(scope) > self.max_bytes:
            await self._refuse(send)
            return
        body = await self._read(receive)
        if body is None:
            await self._refuse(send)
            return
        replay: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

        async def replayed() -> Message:
            # The buffered body first; afterwards the real channel (the app may wait for a disconnect).
            return replay.pop() if replay else await receive()

        await self.app(scope, replayed, send)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0  # the server rejects a malformed length itself
        return 0

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body (bounded by max_bytes, so buffering it is cheap), or None once it grows larger."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return bytes(body)  # the client went away; the app will notice on its own
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                return None
            if not message.get("more_body", False):
                return bytes(body)

    async def _refuse(self, send: Send) -> None:
        content = json.dumps(
            error_body(
                "request_too_large",
                f"您提交的内容过长（超过{self.max_bytes // 1024}KB），请精简后重新提交。",
                {"max_bytes": self.max_bytes},
            ),
            ensure_ascii=False,
        ).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": content})
