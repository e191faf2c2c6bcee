"""Hole 3: the action server listened on all interfaces and ran any action for anyone.

A forged tracker posted to `/webhook` ran any action (sent SMS codes to any phone, probed the identity registry),
and rasa-sdk's error answer echoed the whole request, tracker included. `bot.action_server` serves the same
rasa-sdk app with a token on every call but /health, no CORS, loopback by default, and errors that echo nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from sanic import Sanic

from bot.action_server import create_app
from bot.settings import Settings
from tests.e2e.stack import free_port

TOKEN = "a" * 40
ID_NUMBER = "330106199503140023"


def action_call(action: str) -> dict:
    """What the Rasa server posts: the next action and the whole tracker (here with a citizen's ID number)."""
    return {
        "next_action": action,
        "sender_id": "web:forged",
        "version": "3.6.21",
        "tracker": {"sender_id": "web:forged", "slots": {"id_number": ID_NUMBER}, "latest_message": {"text": ""},
                    "events": [], "paused": False, "followup_action": None, "active_loop": {},
                    "latest_action_name": "action_listen"},
        "domain": {},
    }


@pytest.fixture
async def action_server() -> AsyncIterator[str]:
    Sanic.test_mode = True
    app = create_app(TOKEN)
    app.name = f"actions_test_{uuid.uuid4().hex[:8]}"  # one process, several test apps
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True, access_log=False)
    await server.startup()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.close()
        await server.wait_closed()


async def test_an_unsigned_call_runs_nothing(action_server: str) -> None:
    async with httpx.AsyncClient(base_url=action_server, timeout=10) as client:
        assert (await client.get("/health")).status_code == 200
        for headers in ({}, {"Authorization": "Bearer " + "b" * 40}, {"Authorization": TOKEN}):
            answer = await client.post("/webhook", json=action_call("action_session_start"), headers=headers)
            assert answer.status_code == 401
            assert ID_NUMBER not in answer.text
        assert (await client.get("/actions")).status_code == 401
        query = await client.post("/webhook", params={"token": TOKEN}, json=action_call("action_session_start"))
        assert query.status_code == 401


async def test_a_signed_call_runs_and_an_error_echoes_nothing(action_server: str) -> None:
    signed = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=action_server, timeout=10, headers=signed) as client:
        ran = await client.post("/webhook", json=action_call("action_session_start"))
        assert ran.status_code == 200 and ran.json()["events"]
        broken = {**action_call("action_session_start"), "tracker": f"身份证 {ID_NUMBER}"}  # the SDK fails on it
        failed = await client.post("/webhook", json=broken)
    assert failed.status_code == 500
    assert ID_NUMBER not in failed.text and "request_body" not in failed.text


async def test_no_cross_origin_access(action_server: str) -> None:
    async with httpx.AsyncClient(base_url=action_server, timeout=10) as client:
        answer = await client.options("/webhook", headers={"Origin": "https://evil.example",
                                                            "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in answer.headers


def test_it_listens_on_loopback_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ACTION_HOST", raising=False)
    assert Settings.from_env().action_host == "127.0.0.1"
