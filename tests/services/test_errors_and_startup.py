"""Errors are structured Chinese JSON; start-up migrates and seeds idempotently."""

from __future__ import annotations

from datetime import timedelta

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from bot.settings import SandboxSettings
from services.app import create_app
from services.clock import utcnow
from services.db import alembic_config, create_db_engine, run_migrations
from tests.services.helpers import error_of


def test_unknown_path_and_wrong_method_answer_in_chinese_json(client):
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert error_of(missing)["code"] == "not_found"
    assert "您" in error_of(missing)["message"]
    wrong = client.delete("/api/v1/rent-subsidy/policy")
    assert wrong.status_code == 405
    assert error_of(wrong)["code"] == "method_not_allowed"


def test_malformed_json_is_explained(client):
    response = client.post(
        "/api/v1/identity/sms-codes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_request"


def test_missing_field_is_named(client):
    response = client.post("/api/v1/identity/sms-codes", json={"name": "陈晓", "chat_user": "rest:x"})
    error = error_of(response)
    assert error["details"]["field"] == "phone"
    assert "手机号码" in error["message"]


def test_unexpected_failure_is_a_polite_500_without_internals(client):
    def explode() -> None:
        raise RuntimeError("secret internals 13800000001")

    client.app.add_api_route("/boom", explode)
    response = client.get("/boom")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert "secret" not in response.text and "Traceback" not in response.text
    assert "稍后再试" in error["message"]


def test_health_and_openapi(client):
    assert client.get("/health").json() == {"status": "ok"}
    assert "/api/v1/rent-subsidy/applications" in client.get("/openapi.json").json()["paths"]


def test_restarting_keeps_data_and_does_not_duplicate_seed(database_url):
    settings = SandboxSettings(database_url=database_url)
    with TestClient(create_app(settings)) as first:
        countries = len(first.get("/api/v1/immigration/countries").json()["items"])
        fairs = first.get("/api/v1/campus/job-fairs", params={"include_past": "true"}).json()["total"]
        first.app.state.engine.dispose()
    with TestClient(create_app(settings)) as second:
        assert len(second.get("/api/v1/immigration/countries").json()["items"]) == countries
        assert (
            second.get("/api/v1/campus/job-fairs", params={"include_past": "true"}).json()["total"] == fairs
        )
        second.app.state.engine.dispose()


def test_oversized_bodies_are_refused_before_parsing(make_client):
    client = make_client(max_body_bytes=1024)
    big = {"name": "陈晓", "phone": "13800000001", "chat_user": "rest:x", "padding": "x" * 4096}
    declared = client.post("/api/v1/identity/sms-codes", json=big)
    assert declared.status_code == 413
    error = error_of(declared)
    assert error["code"] == "request_too_large" and "您" in error["message"] and error["details"]["max_bytes"] == 1024

    def chunks():  # no Content-Length: the body is counted as it arrives
        yield rb'{"name": "\u9648\u6653", "padding": "'
        for _ in range(8):
            yield b"x" * 512
        yield b'"}'

    streamed = client.post(
        "/api/v1/identity/sms-codes", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413 and error_of(streamed)["code"] == "request_too_large"
    # A normal request still goes through.
    small = {"name": "刘洋", "phone": "13800000004", "chat_user": "rest:y"}
    assert client.post("/api/v1/identity/sms-codes", json=small).status_code == 201


def test_upgrading_an_existing_database_hides_stored_codes_and_closes_old_verifications(database_url):
    """Migration 0002 on a database of 0001: codes in stored SMS are masked, unkeyed hashes can no longer be used."""
    engine = create_db_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text("INSERT INTO sms_outbox (phone, text, sent_at) VALUES ('13800000001', :text, :now)"),
            {"text": "【政务服务】您的验证码为 482913，5分钟内有效。", "now": utcnow()},
        )
        connection.execute(
            text(
                "INSERT INTO sms_verifications (id, phone, chat_user, name, level, code_hash, attempts, created_at,"
                " expires_at) VALUES ('old', '13800000001', 'rest:x', '陈晓', 'phone', 'h', 0, :now, :later)"
            ),
            {"now": utcnow(), "later": utcnow() + timedelta(minutes=5)},
        )
    run_migrations(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT text FROM sms_outbox")).scalar_one() == (
            "【政务服务】您的验证码为 ******，5分钟内有效。"
        )
        assert connection.execute(text("SELECT consumed_at FROM sms_verifications")).scalar_one() is not None
    engine.dispose()
