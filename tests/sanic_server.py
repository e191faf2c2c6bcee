"""A channel's blueprint served in-process by Sanic on the test's event loop, as Rasa mounts it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from tests.e2e.stack import free_port


@asynccontextmanager
async def serve_channel(
    channel: InputChannel, on_new_message: Callable[[UserMessage], Awaitable[Any]]
) -> AsyncIterator[str]:
    """Run the blueprint (listeners included) under /webhooks/<channel name>; yields that base URL."""
    Sanic.test_mode = True  # lets Sanic start several apps in one process (it keeps its pristine handlers)
    app = Sanic(f"{channel.name()}_test_{uuid.uuid4().hex[:8]}")
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
