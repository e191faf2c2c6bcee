"""Test helpers: seed personas and the identity-verification dance through the public API."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text


@dataclass(frozen=True)
class Persona:
    name: str
    id_number: str
    phone: str


CHEN_XIAO = Persona("陈晓", "330106199503140023", "13800000001")  # eligible for the rent subsidy
LIN_YUE = Persona("林悦", "330105199708220039", "13800000002")  # owns housing in 杭州
HUANG_HAI = Persona("黄海", "45010219920605004X", "13800000003")  # no social insurance in 杭州
LIU_YANG = Persona("刘洋", "370202199811110050", "13800000004")  # graduate, job seeker
WANG_FANG = Persona("王芳", "330102199001010039", "13800000011")  # 博士, eligible
ZHANG_WEI = Persona("张伟", "33010619880512004X", "13800000006")  # employer registered in 上海
ZHAO_MIN = Persona("赵敏", "440305199603150069", "13800000008")  # fails several rules
# Legal representative of 杭州绿源食品有限公司, contact of 杭州星光娱乐有限公司 (KTV); shares 王芳's phone.
WANG_JIANGUO = Persona("王建国", "330102198805120036", "13800000005")


# A production key of the right length for tests that run the sandbox in production mode.
PRODUCTION_SECRET_KEY = "test-production-key-" + "k" * 24


def new_chat_user() -> str:
    return f"rest:{secrets.token_hex(4)}"


def latest_code(client: TestClient, phone: str) -> str:
    outbox = client.get("/dev/sms-outbox", params={"phone": phone}).json()
    return re.search(r"\d{6}", outbox[0]["text"]).group(0)


def request_code(client: TestClient, persona: Persona, chat_user: str, with_id: bool = True) -> dict:
    body = {"name": persona.name, "phone": persona.phone, "chat_user": chat_user}
    if with_id:
        body["id_number"] = persona.id_number
    response = client.post("/api/v1/identity/sms-codes", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def verify(client: TestClient, persona: Persona, chat_user: str | None = None, with_id: bool = True) -> dict:
    """Verify and return the headers a personal request needs."""
    chat_user = chat_user or new_chat_user()
    sent = request_code(client, persona, chat_user, with_id)
    code = latest_code(client, persona.phone)
    response = client.post(
        "/api/v1/identity/verifications", json={"verification_id": sent["verification_id"], "code": code}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}", "X-Chat-User": chat_user}


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    return body["error"]


def code_request_body(persona: Persona, chat_user: str, **changes: str) -> dict:
    """The body of POST /api/v1/identity/sms-codes for a persona, with some fields changed."""
    body = {"name": persona.name, "id_number": persona.id_number, "phone": persona.phone, "chat_user": chat_user}
    return body | changes


def outcome(response) -> str:  # type: ignore[no-untyped-def]
    """"sent" for a code sent, else the error code."""
    return "sent" if response.status_code == 201 else response.json()["error"]["code"]


def query(database_url: str, sql: str, **params: Any) -> list[tuple]:
    """Read the sandbox's database directly, as an attacker with a dump (or a test checking a counter) would."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()
