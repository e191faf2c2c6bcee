"""Helpers for the security tests: a channel's blueprint served in-process, with a stand-in for Rasa that records
what reached it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from tests.e2e.stack import free_port


class RecordingRasa:
    """Stands in for Rasa: remembers every UserMessage and answers with a button, as the assistant often does."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        buttons = [{"title": "确认", "payload": "/affirm"},
                   {"title": "报名第1场", "payload": '/job_fair_register{"index":1}'}]
        await message.output_channel.send_text_with_buttons(message.sender_id, f"收到：{message.text}", buttons)


@asynccontextmanager
async def serving(channel: InputChannel, on_new_message: Callable[[UserMessage], Any]) -> AsyncIterator[str]:
    """Run the channel's blueprint in a Sanic server on this loop, under /webhooks/<name>; yields its base URL."""
    Sanic.test_mode = True  # several apps in one process
    app = Sanic(f"security_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{port}/webhooks/{channel.name()}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()
