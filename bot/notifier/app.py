"""The notifier's HTTP side: POST /events (the back ends' signed state changes) and GET /health.

Checked in this order, each before the next reads more: the size (413, from the announced length, then while
reading), the signature and its time window (403), the event's fields (422). A valid event is stored once by its
event_id (202 accepted; 200 for an event already stored, whatever became of it), and the worker is woken. Nothing
in an answer echoes the request.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from bot.notifier import store
from bot.notifier.inbox import BadEvent, parse, to_notification
from bot.notifier.signing import SIGNATURE_HEADER, BadSignature, verify
from bot.notifier.worker import Worker
from bot.settings import NotifierSettings

logger = logging.getLogger(__name__)

TOO_LARGE = "事件内容过大。"
BAD_SIGNATURE = "签名无效或已过期：请用共享密钥 NOTIFY_WEBHOOK_SECRET 对请求签名，并确认双方时钟准确。"


def _answer(code: int, **content: str) -> JSONResponse:
    return JSONResponse(content, status_code=code)


async def _capped_body(request: Request, limit: int) -> bytes | None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_app(settings: NotifierSettings, engine: Engine, secret: str, worker: Worker | None) -> FastAPI:
    app = FastAPI(title="政务服务助手 进度提醒", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/health")
    async def health() -> JSONResponse:
        return _answer(200, status="ok")

    @app.post("/events")
    async def events(request: Request) -> JSONResponse:
        body = await _capped_body(request, settings.max_body_bytes)
        if body is None:
            return _answer(413, error=TOO_LARGE)
        try:
            verify(secret, body, request.headers.get(SIGNATURE_HEADER), settings.timestamp_window)
        except BadSignature as refused:
            logger.warning("event refused: %s", refused)
            return _answer(403, error=BAD_SIGNATURE)
        try:
            event = parse(body)
        except BadEvent as bad:
            return _answer(422, error=str(bad))
        if not await asyncio.to_thread(store.accept, engine, to_notification(event)):
            logger.info("event %s received again: already stored", event.event_id)
            return _answer(200, status="duplicate")
        if worker is not None:
            worker.wake()
        return _answer(202, status="accepted")

    return app
