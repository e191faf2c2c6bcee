"""The same classes of hole elsewhere in the console: audited views opened from another site, operator replies
carrying control characters to citizens, and personal data typed by operators kept raw in notes and tags."""

from __future__ import annotations

import json
import random
import time

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from starlette.testclient import TestClient

from console.index import conversation_events, get_conversation, refresh_index
from console.rasa_client import RasaClient
from console.takeover import ACTIVE, Handoff, sync_handoffs
from console.users import AuditEntry
from tests.console import conftest as console_fixtures
from tests.console import seed

console_db_url = console_fixtures.console_db_url
console_settings = console_fixtures.console_settings
console_app = console_fixtures.console_app
client = console_fixtures.client
fast_password_hashing = console_fixtures.fast_password_hashing

PHONE = "13912345678"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_SEAL_KEY", "hardening-test-seal-key")
    monkeypatch.setenv("PII_HASH_SECRET", "hardening-test-hash-secret")


@pytest.fixture
def handoff_waiting(console_app: FastAPI, console_db_url: str) -> seed.Conversation:
    """A WeChat citizen who asked for a human: in the log, the conversation list and the takeover queue."""
    conversation = seed.handoff(random.Random(21), time.time() - 300, "wechat")
    conversation.sender = "wechat:" + conversation.sender
    for event in conversation.events:
        event["sender_id"] = conversation.sender
    seed.seed_via_broker(console_db_url, [conversation])
    with console_app.state.session_factory() as db:
        refresh_index(db)
        sync_handoffs(db)
        db.commit()
    return conversation


def audited(app: FastAPI) -> list[str]:
    with app.state.session_factory() as db:
        return [entry.action for entry in db.query(AuditEntry).filter(AuditEntry.action != "login")]


@pytest.mark.parametrize("path", ["/conversations/1", "/takeover/1"])
def test_an_audited_view_cannot_be_opened_from_another_site(
    console_app: FastAPI, client: TestClient, handoff_waiting: seed.Conversation, path: str
) -> None:
    """A link or redirect on a foreign page would open the conversation in the operator's name."""
    console_fixtures.login_as(client, "operator")
    foreign = client.get(path, headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert foreign.status_code == 403 and "其他网站" in foreign.text
    assert handoff_waiting.sender_hash not in foreign.text
    assert audited(console_app) == []
    own = client.get(path, headers={"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "navigate"})
    assert own.status_code == 200 and audited(console_app) == ["view_conversation"]


class RecordingRasa:
    """The Rasa API, recording the events the console appends (what reaches the citizen)."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.sent += json.loads(request.content)
        return httpx.Response(200, json={"events": [], "latest_input_channel": "wechat"})


def test_operator_replies_reach_citizens_without_control_characters(
    console_app: FastAPI, client: TestClient, handoff_waiting: seed.Conversation
) -> None:
    rasa = RecordingRasa()
    console_app.state.rasa_client = RasaClient("http://rasa.test", "t" * 40, transport=httpx.MockTransport(rasa))
    csrf = console_fixtures.login_as(client, "operator", "gao")
    with console_app.state.session_factory() as db:
        db.query(Handoff).update({"status": ACTIVE, "operator": "gao", "taken_at": time.time(), "channel": "wechat"})
        db.commit()
    typed = "您好\x85请稍候\u2028我们\x1b[31m马上\u202e处理\x00。\r\n第二行\u2029第三行\x9b"
    response = client.post("/takeover/1/reply", data={"csrf_token": csrf, "text": typed})
    assert response.status_code == 303, response.text
    (event,) = rasa.sent
    assert event["event"] == "bot" and event["text"] == "您好\n请稍候\n我们[31m马上处理。\n第二行\n第三行"

    too_long = client.post("/takeover/1/reply", data={"csrf_token": csrf, "text": "长" * 2001})
    assert too_long.status_code == 400 and len(rasa.sent) == 1


def test_notes_and_tags_typed_by_operators_keep_no_raw_personal_data(
    console_app: FastAPI, client: TestClient, handoff_waiting: seed.Conversation
) -> None:
    csrf = console_fixtures.login_as(client, "operator")
    with console_app.state.session_factory() as db:
        event_id = next(i for i, e in conversation_events(db, get_conversation(db, 1)) if e.get("event") == "user")
    note = client.post(f"/conversations/1/messages/{event_id}/flag",
                       data={"csrf_token": csrf, "note": f"市民说回拨 {PHONE}"})
    tag = client.post("/conversations/1/tags", data={"csrf_token": csrf, "tag": f"回拨{PHONE}"})
    assert note.status_code == tag.status_code == 303
    page = client.get("/conversations/1").text
    assert PHONE not in page and "139****5678" in page
    with console_app.state.session_factory() as db:
        rows = db.execute(
            sa.text("SELECT note FROM console_message_flags UNION ALL SELECT tag FROM console_conversation_tags")
        ).all()
    assert rows and all(PHONE not in row[0] for row in rows)


def test_a_search_for_raw_personal_data_is_not_echoed_raw(
    console_app: FastAPI, client: TestClient, handoff_waiting: seed.Conversation
) -> None:
    """The list echoes its filters into the page and its links: an operator who types a citizen's phone number
    searches for it masked (the way the log holds it), and the page never shows it raw."""
    console_fixtures.login_as(client, "operator")
    page = client.get("/conversations", params={"q": PHONE, "tag": f"回拨{PHONE}"})
    assert page.status_code == 200
    assert PHONE not in page.text and "139****5678" in page.text
