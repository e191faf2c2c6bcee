"""Attack: read one-time SMS codes out of the sandbox's database (hole 10, last part).

Before the fix the outbox kept every SMS with its code in clear, also in production, and `code_hash` was an
unkeyed sha256 of `<verification id>:<code>`, reversed by trying the million possible codes. Now the hash is an
HMAC keyed with SERVICES_SECRET_KEY, and only development stores a readable SMS (for /dev/sms-outbox).
"""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import MetaData, create_engine, select

from bot.settings import ConfigurationError, SandboxSettings
from tests.services import conftest as sandbox
from tests.services.helpers import (
    CHEN_XIAO,
    PRODUCTION_SECRET_KEY,
    latest_code,
    new_chat_user,
    query,
    request_code,
)

# The sandbox fixtures of tests/services, so every test runs on SQLite and on PostgreSQL.
postgres_url, database_url, make_client = sandbox.postgres_url, sandbox.database_url, sandbox.make_client

CODE = "274915"  # the code the sandbox is made to draw, so the test can look for it in the dump
only_sqlite = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # hashing is not in the database


def dump(database_url: str) -> str:
    """Every value of every table, as an attacker with a copy of the database sees it."""
    engine = create_engine(database_url)
    metadata = MetaData()
    metadata.reflect(engine)
    try:
        with engine.connect() as connection:
            rows = [row for table in metadata.sorted_tables for row in connection.execute(select(table))]
    finally:
        engine.dispose()
    return "\n".join(" ".join(str(value) for value in row) for row in rows)


@only_sqlite
def test_the_code_hash_cannot_be_reversed_by_trying_every_code(make_client, database_url):
    client = make_client()
    sent = request_code(client, CHEN_XIAO, new_chat_user())
    code = latest_code(client, CHEN_XIAO.phone)  # development: the outbox shows the code, so the test knows it
    [(stored,)] = query(
        database_url, "SELECT code_hash FROM sms_verifications WHERE id = :id", id=sent["verification_id"]
    )
    prefix = f"{sent['verification_id']}:".encode()
    reversed_codes = [
        f"{n:06d}" for n in range(1_000_000) if hashlib.sha256(prefix + f"{n:06d}".encode()).hexdigest() == stored
    ]
    assert reversed_codes == []
    assert hashlib.sha256(code.encode()).hexdigest() != stored
    # Keyed: the same database behind a sandbox with another key cannot check the code either.
    other = make_client(secret_key="another-key-" + "x" * 30)
    response = other.post(
        "/api/v1/identity/verifications", json={"verification_id": sent["verification_id"], "code": code}
    )
    assert response.json()["error"]["code"] == "wrong_code"


def test_production_keeps_no_readable_code(make_client, database_url, monkeypatch):
    monkeypatch.setattr("secrets.randbelow", lambda _upper: int(CODE))
    client = make_client(env="production", secret_key=PRODUCTION_SECRET_KEY)
    assert CODE not in dump(database_url)
    sent = request_code(client, CHEN_XIAO, new_chat_user())
    assert CODE not in dump(database_url)
    [(text,)] = query(database_url, "SELECT text FROM sms_outbox WHERE phone = :phone", phone=CHEN_XIAO.phone)
    assert "******" in text  # the record of the SMS stays, without the code
    # The citizen's code (delivered by the SMS gateway in a real deployment) still works.
    response = client.post(
        "/api/v1/identity/verifications", json={"verification_id": sent["verification_id"], "code": CODE}
    )
    assert response.status_code == 200


@only_sqlite
def test_development_still_shows_the_code_in_its_outbox(make_client, monkeypatch):
    monkeypatch.setattr("secrets.randbelow", lambda _upper: int(CODE))
    client = make_client()
    request_code(client, CHEN_XIAO, new_chat_user())
    assert latest_code(client, CHEN_XIAO.phone) == CODE


@pytest.mark.parametrize("key", [None, "short-key", "govbot-development-services-secret-key"])
def test_production_refuses_a_missing_short_or_public_key(key, monkeypatch):
    monkeypatch.setenv("GOVBOT_ENV", "production")
    if key is None:
        monkeypatch.delenv("SERVICES_SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SERVICES_SECRET_KEY", key)
    with pytest.raises(ConfigurationError, match="SERVICES_SECRET_KEY"):
        SandboxSettings.from_env()
    with pytest.raises(ConfigurationError, match="SERVICES_SECRET_KEY"):
        SandboxSettings.from_env({}, env="production", **({"secret_key": key} if key else {}))
