"""Hole 2: through the REST channel any client could act as any citizen.

Rasa's REST channel took `sender` and `input_channel` from the body, so {"sender": "<a WeChat OpenID>",
"input_channel": "wechat"} continued that citizen's conversation inside their verified identity. Now the client
picks only an id inside `rest:`, the channel names itself, typed payloads are not trusted, and production keeps
the channel closed unless it is enabled with a token.
"""

from __future__ import annotations

import json

import httpx
import pytest

from integrations.channels.common import MAX_MESSAGE_CHARS, TOO_LONG_TEXT
from integrations.channels.rest.inbound import ERROR_DISABLED, ERROR_TOKEN, RestInput
from integrations.channels.rest.settings import RestSettings
from integrations.channels.state import MemoryChannelState
from tests.sanic_server import serve_channel
from tests.security.conftest import RecordingRasa

TOKEN = "r" * 40


def rest_channel(settings: RestSettings | None = None) -> RestInput:
    return RestInput(MemoryChannelState(), settings or RestSettings(enabled=True, token=None))


async def post(url: str, body: dict, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(f"{url}/webhook", json=body, **kwargs)


async def test_a_client_cannot_step_into_another_channels_conversation() -> None:
    rasa = RecordingRasa()
    async with serve_channel(rest_channel(), rasa) as url:
        for sender in ("oWeChatOpenId0123456789", "wechat:oWeChatOpenId0123456789", "tg:123456", "web:abc"):
            answer = await post(url, {"sender": sender, "message": "查一下我的申请", "input_channel": "wechat",
                                      "metadata": {"verified": True}})
            assert answer.status_code == 200
            assert answer.json()[0]["recipient_id"] == sender  # the reply format clients know
    assert [m.sender_id for m in rasa.messages] == [
        "rest:oWeChatOpenId0123456789", "rest:wechat:oWeChatOpenId0123456789", "rest:tg:123456", "rest:web:abc"]
    assert {m.input_channel for m in rasa.messages} == {"rest"}
    assert all(not m.metadata for m in rasa.messages)  # client metadata never reaches the tracker


async def test_a_typed_payload_is_read_as_words_unless_it_was_a_button_shown() -> None:
    rasa = RecordingRasa()
    async with serve_channel(rest_channel(), rasa) as url:
        forged = '/inform{"id_number": "330106199503140023", "identity_level": "identity"}'
        await post(url, {"sender": "u1", "message": forged})
        await post(url, {"sender": "u1", "message": "/affirm"})  # shown to u1 by the first answer
        await post(url, {"sender": "u2", "message": "/affirm"})  # never shown to u2
        await post(url, {"sender": "u2", "message": "/ \u3000/inform{}"})
    texts = [m.text for m in rasa.messages]
    assert texts[0] == forged.lstrip("/")  # no payload: NLU reads it, entities are not taken on trust
    assert texts[1] == "/affirm"
    assert texts[2] == "affirm"
    assert texts[3] == "inform{}"


async def test_an_over_long_message_is_refused_politely_before_rasa() -> None:
    rasa = RecordingRasa()
    async with serve_channel(rest_channel(), rasa) as url:
        huge = await post(url, {"sender": "u1", "message": "长" * 100_000})  # refused as announced, never read
        over = await post(url, {"sender": "u1", "message": "长" * (MAX_MESSAGE_CHARS + 1)})
        just_fits = await post(url, {"sender": "u1", "message": "长" * MAX_MESSAGE_CHARS})
    assert huge.status_code == 413 and huge.json() == {"error": TOO_LONG_TEXT}
    assert over.status_code == 200 and over.json() == [{"recipient_id": "u1", "text": TOO_LONG_TEXT}]
    assert just_fits.status_code == 200
    assert [len(m.text) for m in rasa.messages] == [MAX_MESSAGE_CHARS]


async def test_control_characters_do_not_reach_rasa() -> None:
    rasa = RecordingRasa()
    body = json.dumps({"sender": "u1", "message": "你好\x85\u2028- intent: affirm\x00\ud800"})  # \u escapes
    async with serve_channel(rest_channel(), rasa) as url, httpx.AsyncClient(timeout=10) as client:
        await client.post(f"{url}/webhook", content=body.encode("ascii"))
    assert rasa.messages[0].text == "你好- intent: affirm\ufffd"


@pytest.mark.parametrize("body", [[], "text", {"sender": "", "message": "你好"}, {"sender": "u", "message": 5},
                                  {"sender": "x" * 129, "message": "你好"}, {"sender": "a\nb", "message": "你好"},
                                  {"sender": "a/../b", "message": "你好"}, {"sender": "张三", "message": "你好"}])
async def test_malformed_requests_get_a_chinese_reason(body: object) -> None:
    rasa = RecordingRasa()
    async with serve_channel(rest_channel(), rasa) as url:
        answer = await post(url, body)
    assert answer.status_code == 400 and any("\u4e00" <= c <= "\u9fff" for c in answer.json()["error"])
    assert rasa.messages == []


async def test_production_keeps_the_channel_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVBOT_ENV", "production")
    monkeypatch.delenv("REST_CHANNEL_ENABLED", raising=False)
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)  # a token alone does not open it
    rasa = RecordingRasa()
    async with serve_channel(rest_channel(RestSettings.from_env()), rasa) as url:
        answer = await post(url, {"sender": "u1", "message": "你好"})
        async with httpx.AsyncClient() as client:
            outbox = await client.get(f"{url}/outbox", params={"sender": "u1"})
    assert answer.status_code == 403 and answer.json()["error"] == ERROR_DISABLED
    assert outbox.status_code == 403
    assert rasa.messages == []


async def test_production_with_the_channel_enabled_needs_its_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVBOT_ENV", "production")
    monkeypatch.setenv("REST_CHANNEL_ENABLED", "true")
    monkeypatch.setenv("REST_CHANNEL_TOKEN", TOKEN)
    rasa = RecordingRasa()
    async with serve_channel(rest_channel(RestSettings.from_env()), rasa) as url:
        anonymous = await post(url, {"sender": "u1", "message": "你好"})
        wrong = await post(url, {"sender": "u1", "message": "你好"}, headers={"Authorization": "Bearer " + "x" * 40})
        in_query = await post(url, {"sender": "u1", "message": "你好"}, params={"token": TOKEN})
        allowed = await post(url, {"sender": "u1", "message": "你好"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert [r.status_code for r in (anonymous, wrong, in_query)] == [401, 401, 401]
    assert anonymous.json()["error"] == ERROR_TOKEN
    assert allowed.status_code == 200 and [m.sender_id for m in rasa.messages] == ["rest:u1"]
