"""Hole 10a: the unmask page showed the live identity token.

An admin who states a reason sees a conversation's raw personal values (name, ID number, phone), but never its
secrets: identity tokens, verification ids, SMS codes, passwords (every field bot.masking masks as a secret), not
as slot values, not typed by the citizen, not echoed by the assistant, not nested in a structured slot.
"""

from __future__ import annotations

import random
import time
from urllib.parse import unquote

import httpx
import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from bot.masking import SECRET_MASK
from console.index import refresh_index
from console.rasa_client import RasaClient
from tests.console import conftest as console_fixtures
from tests.console import seed

# The console tests' fixtures: a fresh database, the app, a client that does not follow redirects.
console_db_url = console_fixtures.console_db_url
console_settings = console_fixtures.console_settings
console_app = console_fixtures.console_app
client = console_fixtures.client
fast_password_hashing = console_fixtures.fast_password_hashing

PASSWORD_TYPED = "Mima-2026-xyz"
REASON = "市民来电投诉，核实办理记录"


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PII_SEAL_KEY", "unmask-test-seal-key")
    monkeypatch.setenv("PII_HASH_SECRET", "unmask-test-hash-secret")


def namespaced(conversation: seed.Conversation, prefix: str) -> seed.Conversation:
    """The conversation under the channel-namespaced id Rasa now uses (`wechat:oAbC…`)."""
    conversation.sender = f"{prefix}:{conversation.sender}"
    for event in conversation.events:
        event["sender_id"] = conversation.sender
    return conversation


def identity_check() -> seed.Conversation:
    """A rent subsidy application (name, ID number, phone, SMS code, verification id, identity token), plus a
    password typed in a sentence, the assistant echoing the verification id, and a slot holding a secret inside."""
    conversation = namespaced(seed.rent_subsidy_completed(random.Random(8), time.time() - 900, "wechat"), "wechat")
    verification = slot_value(conversation, "verification_id")
    conversation.bot(f"核验编号：{verification}，请妥善保管。")
    conversation.user(f"我的登录密码是 {PASSWORD_TYPED} 对吗", "inform", 0.7)
    conversation.slot("identity", {"verification_id": "vrf-nested-0001", "phone": "13800000002"})
    return conversation


def slot_value(conversation: seed.Conversation, name: str) -> str:
    return next(e["value"] for e in conversation.events if e.get("event") == "slot" and e.get("name") == name)


class LiveTracker:
    """The Rasa API's /conversations/<id>/tracker for one conversation (raw, as Rasa keeps it)."""

    def __init__(self, conversation: seed.Conversation) -> None:
        self.conversation = conversation
        self.asked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        sender = unquote(request.url.raw_path.decode().split("/")[2])
        self.asked.append(sender)
        if sender != self.conversation.sender:
            return httpx.Response(404, json={"message": "not found"})
        return httpx.Response(200, json={"sender_id": sender, "events": self.conversation.events})


def unmasked_page(app: FastAPI, client: TestClient, conversation: seed.Conversation, db_url: str) -> str:
    seed.seed_via_broker(db_url, [conversation])  # the log (masked) and the sealed, namespaced sender id
    with app.state.session_factory() as db:
        refresh_index(db)
        db.commit()
    live = LiveTracker(conversation)
    app.state.rasa_client = RasaClient("http://rasa.test", "t" * 40, transport=httpx.MockTransport(live))
    csrf = console_fixtures.login_as(client, "admin")
    response = client.post("/conversations/1/unmask", data={"csrf_token": csrf, "reason": REASON})
    assert response.status_code == 200, response.text
    assert live.asked == [conversation.sender]  # the unsealed id is the namespaced one
    return response.text


def test_unmask_shows_personal_values_but_never_secrets(
    console_app: FastAPI, client: TestClient, console_db_url: str
) -> None:
    conversation = identity_check()
    page = unmasked_page(console_app, client, conversation, console_db_url)
    name, id_number, phone = next(p for p in seed.PEOPLE if p[1] in conversation.personal)
    assert id_number in page and phone in page and name in page  # what the admin asked to see

    secrets = {
        "identity_token": slot_value(conversation, "identity_token"),
        "verification_id": slot_value(conversation, "verification_id"),
        "sms_code": slot_value(conversation, "sms_code"),
        "password typed": PASSWORD_TYPED,
        "nested verification id": "vrf-nested-0001",
    }
    for what, value in secrets.items():
        assert value not in page, f"the unmask page shows the {what}"
    assert SECRET_MASK in page
    assert "identity_token = " + SECRET_MASK in page and "sms_code = " + SECRET_MASK in page
