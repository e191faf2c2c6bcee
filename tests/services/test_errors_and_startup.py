"""Errors are structured Chinese JSON; start-up migrates and seeds idempotently."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.app import create_app
from services.settings import Settings
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
    settings = Settings(database_url=database_url)
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
