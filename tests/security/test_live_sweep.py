"""The stack as `make run` starts it, probed from outside as an attacker would (holes 1, 2, 3 and 7).

- Rasa's HTTP API was open: anyone reaching port 5005 read `/conversations/<id>/tracker` (raw names and ID numbers),
  appended events that send messages from the official account, or replaced the model. Every route the Rasa app
  has is listed from the app itself, so a route added later is swept too; only the channels' webhooks answer
  without the token, and the token is accepted only in a header.
- One channel's sender could not be told from another's.
- The action server took any caller, on every interface.
- One 100,000-character message stalled every other user.
"""

from __future__ import annotations

import asyncio
import re
import socket
import statistics
import time
import uuid

import httpx
import pytest
from rasa.core.channels.channel import register
from rasa.core.run import create_http_input_channels
from rasa.server import create_app
from sanic import Sanic

from integrations.channels.common import TOO_LONG_TEXT
from tests.e2e.stack import ROOT, Stack

pytestmark = pytest.mark.e2e


def rasa_routes() -> list[tuple[str, str]]:
    """(method, concrete path) of every route the Rasa server has: Rasa's API plus our channels' webhooks."""
    Sanic.test_mode = True  # a second app named like the server's, in this process only
    app = create_app(cors_origins=None)
    register(create_http_input_channels(None, str(ROOT / "credentials.yml")), app, route="/webhooks/")
    routes = []
    for route in app.router.routes:
        path = "/" + re.sub(r"<[^>]+>", "probe", route.path.lstrip("/"))
        routes += [(method, path) for method in route.methods if method not in ("HEAD", "OPTIONS")]
    return sorted(set(routes))


def test_only_the_webhooks_answer_without_the_token(stack: Stack) -> None:
    routes = rasa_routes()
    assert ("GET", "/conversations/probe/tracker") in routes and ("PUT", "/model") in routes
    open_routes = []
    with httpx.Client(base_url=stack.rasa_url, timeout=30) as client:
        for method, path in routes:
            if path.startswith("/webhooks/"):
                continue
            attempts = (({}, {}), ({"Authorization": "Bearer wrong"}, {}), ({}, {"token": stack.api_token}))
            for headers, params in attempts:
                answer = client.request(method, path, headers=headers, params=params, json={})
                if answer.status_code != 401:
                    open_routes.append((method, path, headers or params, answer.status_code))
    assert open_routes == []


def test_the_token_opens_the_api_in_a_header(stack: Stack) -> None:
    assert stack.api("GET", "/status").status_code == 200
    assert stack.api("GET", "/conversations/rest:nobody/tracker").status_code == 200


def test_no_cross_origin_access(stack: Stack) -> None:
    origin = {"Origin": "https://evil.example"}
    for method, path in (("GET", "/version"), ("OPTIONS", "/webhooks/rest/webhook"), ("GET", "/webhooks/webchat/")):
        answer = httpx.request(method, f"{stack.rasa_url}{path}", headers=origin, timeout=10)
        assert "access-control-allow-origin" not in answer.headers


def test_a_rest_client_cannot_continue_a_wechat_citizens_conversation(stack: Stack) -> None:
    openid = f"oVictim{uuid.uuid4().hex[:20]}"
    victim = f"wechat:{openid}"
    seeded = stack.api("POST", f"/conversations/{victim}/tracker/events", json=[
        {"event": "user", "text": "你好", "input_channel": "wechat", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "slot", "name": "identity_token", "value": "victim-token"},
        {"event": "slot", "name": "identity_level", "value": "identity"},
    ])
    assert seeded.status_code == 200
    before = stack.api("GET", f"/conversations/{victim}/tracker").json()["events"]
    for sender in (openid, victim):
        answer = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", timeout=60, json={
            "sender": sender, "message": "我要查询租房补贴申请进度", "input_channel": "wechat"})
        assert answer.status_code == 200
        assert "请问您的姓名是" in "".join(m.get("text", "") for m in answer.json())  # a stranger: verify first
    after = stack.api("GET", f"/conversations/{victim}/tracker").json()["events"]
    assert after == before
    own = stack.api("GET", f"/conversations/rest:{victim}/tracker").json()
    assert own["slots"].get("identity_token") is None
    assert {e.get("input_channel") for e in own["events"] if e["event"] == "user"} == {"rest"}


def test_the_action_server_refuses_unsigned_calls(stack: Stack) -> None:
    url = f"http://127.0.0.1:{stack.action_port}"
    forged = {"next_action": "action_session_start", "sender_id": "x", "tracker": {"sender_id": "x", "events": []},
              "domain": {}, "version": "3.6.21"}
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    assert httpx.post(f"{url}/webhook", json=forged, timeout=10).status_code == 401
    wrong = httpx.post(f"{url}/webhook", json=forged, headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert wrong.status_code == 401
    assert httpx.get(f"{url}/actions", timeout=10).status_code == 401


def _outside_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None when it has only loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_rasa_and_the_action_server_listen_on_loopback_only(stack: Stack) -> None:
    address = _outside_address()
    if address is None:
        pytest.skip("this machine has no network address besides loopback")
    for port in (stack.rasa_port, stack.action_port):
        with socket.socket() as client:
            client.settimeout(2)
            assert client.connect_ex((address, port)) != 0, f"port {port} answers on {address}"


async def _turn(client: httpx.AsyncClient, sender: str, text: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    answer = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    return time.perf_counter() - started, answer


async def test_a_huge_message_is_refused_quickly_and_stalls_nobody(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.rasa_url, timeout=60) as client:
        idle = [(await _turn(client, f"idle-{i}", "你好"))[0] for i in range(6)]
        attacks = [asyncio.create_task(_turn(client, f"attacker-{i}", "长" * 100_000)) for i in range(4)]
        await asyncio.sleep(0.05)  # the huge bodies are on their way
        waited, answer = await _turn(client, "citizen", "你好")
        refused = await asyncio.gather(*attacks)
    idle_slowest = max(idle)
    assert answer.status_code == 200 and "text" in answer.json()[0]
    assert all(reply.status_code == 413 and reply.json() == {"error": TOO_LONG_TEXT} for _, reply in refused)
    assert max(seconds for seconds, _ in refused) < 2.0
    # The target is 2x the idle p95 (measured by bench/security.py); here with room for a busy CI machine.
    assert waited < 3 * idle_slowest + 0.5, (waited, statistics.median(idle), idle_slowest)
