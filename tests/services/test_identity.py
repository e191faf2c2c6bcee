"""Identity verification: codes by SMS, attempts, expiry, rate limits, tokens bound to a chat user."""

from __future__ import annotations

import logging
import time

from tests.services.helpers import (
    CHEN_XIAO,
    LIU_YANG,
    PRODUCTION_SECRET_KEY,
    code_request_body,
    error_of,
    latest_code,
    new_chat_user,
    request_code,
    verify,
)


def test_persona_verifies_with_sms_code_and_gets_a_token(client):
    chat_user = new_chat_user()
    sent = request_code(client, CHEN_XIAO, chat_user)
    assert sent["phone_masked"] == "138****0001"
    assert sent["expires_in"] == 300
    assert sent["level"] == "identity"

    outbox = client.get("/dev/sms-outbox", params={"phone": CHEN_XIAO.phone}).json()
    assert "验证码" in outbox[0]["text"] and "5分钟内有效" in outbox[0]["text"]

    response = client.post(
        "/api/v1/identity/verifications",
        json={"verification_id": sent["verification_id"], "code": latest_code(client, CHEN_XIAO.phone)},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name_masked"] == "陈*"
    assert body["expires_in"] == 1800
    assert body["level"] == "identity"
    assert len(body["token"]) >= 32


def test_id_number_with_wrong_check_digit_is_refused_in_chinese(client):
    response = client.post(
        "/api/v1/identity/sms-codes",
        json={
            "name": "陈晓",
            "id_number": "330106199503140024",
            "phone": "13800000001",
            "chat_user": "rest:x",
        },
    )
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_id_number"
    assert "身份证" in error["message"]
    assert "330106199503140024" not in response.text  # never echoed back


def test_lower_case_x_in_id_number_is_accepted(client):
    response = client.post(
        "/api/v1/identity/sms-codes",
        json={
            "name": "黄海",
            "id_number": "45010219920605004x",
            "phone": "13800000003",
            "chat_user": "rest:x",
        },
    )
    assert response.status_code == 201


def test_invalid_phone_is_refused(client):
    response = client.post(
        "/api/v1/identity/sms-codes",
        json={"name": "陈晓", "id_number": CHEN_XIAO.id_number, "phone": "1380000", "chat_user": "rest:x"},
    )
    assert response.status_code == 422
    assert error_of(response)["code"] == "invalid_phone"


def test_name_id_and_phone_that_do_not_belong_together_send_no_code(client):
    response = client.post(
        "/api/v1/identity/sms-codes",
        json={
            "name": "陈晓",
            "id_number": CHEN_XIAO.id_number,
            "phone": "13900000000",
            "chat_user": "rest:x",
        },
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "identity_mismatch"
    assert client.get("/dev/sms-outbox", params={"phone": "13900000000"}).json() == []


def test_wrong_codes_count_down_and_lock_after_five_attempts(client):
    sent = request_code(client, CHEN_XIAO, new_chat_user())
    right = latest_code(client, CHEN_XIAO.phone)
    wrong = "000000" if right != "000000" else "111111"
    left = []
    for _ in range(4):
        response = client.post(
            "/api/v1/identity/verifications", json={"verification_id": sent["verification_id"], "code": wrong}
        )
        assert response.status_code == 400
        left.append(error_of(response)["details"]["attempts_left"])
    assert left == [4, 3, 2, 1]
    fifth = client.post(
        "/api/v1/identity/verifications", json={"verification_id": sent["verification_id"], "code": wrong}
    )
    assert fifth.status_code == 429
    assert error_of(fifth)["code"] == "too_many_attempts"
    # Even the right code no longer works: the citizen has to request a new one.
    late = client.post(
        "/api/v1/identity/verifications", json={"verification_id": sent["verification_id"], "code": right}
    )
    assert error_of(late)["code"] == "too_many_attempts"


def test_expired_code_is_refused(make_client):
    client = make_client(sms_code_ttl_seconds=1)
    sent = request_code(client, CHEN_XIAO, new_chat_user())
    time.sleep(1.2)
    response = client.post(
        "/api/v1/identity/verifications",
        json={"verification_id": sent["verification_id"], "code": latest_code(client, CHEN_XIAO.phone)},
    )
    assert response.status_code == 410
    assert error_of(response)["code"] == "code_expired"


def test_a_code_works_only_once(client):
    sent = request_code(client, CHEN_XIAO, new_chat_user())
    body = {"verification_id": sent["verification_id"], "code": latest_code(client, CHEN_XIAO.phone)}
    assert client.post("/api/v1/identity/verifications", json=body).status_code == 200
    again = client.post("/api/v1/identity/verifications", json=body)
    assert again.status_code == 410


def test_unknown_verification(client):
    response = client.post(
        "/api/v1/identity/verifications", json={"verification_id": "nope", "code": "123456"}
    )
    assert response.status_code == 404
    assert error_of(response)["code"] == "unknown_verification"


def test_codes_are_rate_limited_per_phone(make_client):
    client = make_client(sms_limit_per_phone=2)
    request_code(client, CHEN_XIAO, new_chat_user())
    request_code(client, CHEN_XIAO, new_chat_user())
    response = client.post(
        "/api/v1/identity/sms-codes",
        json={
            "name": "陈晓",
            "id_number": CHEN_XIAO.id_number,
            "phone": CHEN_XIAO.phone,
            "chat_user": "rest:z",
        },
    )
    assert response.status_code == 429
    error = error_of(response)
    assert error["code"] == "sms_rate_limited"
    assert 0 < error["details"]["retry_after"] <= 600
    # Another phone is not affected.
    request_code(client, LIU_YANG, new_chat_user())


def test_codes_are_rate_limited_per_chat_user(make_client):
    client = make_client(sms_limit_per_chat_user=2)
    chat_user = new_chat_user()
    request_code(client, CHEN_XIAO, chat_user)
    request_code(client, LIU_YANG, chat_user)
    response = client.post(
        "/api/v1/identity/sms-codes", json={"name": "某某", "phone": "13912345678", "chat_user": chat_user}
    )
    assert error_of(response)["code"] == "sms_rate_limited"


def test_default_limits_let_a_citizen_verify_several_times(client):
    """What a citizen (and an end-to-end test run) needs: several verifications in a row, one typo on the way."""
    chat_user = new_chat_user()
    mistyped = client.post(
        "/api/v1/identity/sms-codes", json=code_request_body(CHEN_XIAO, chat_user, phone="13800000009")
    )
    assert error_of(mistyped)["code"] == "identity_mismatch"
    for _ in range(5):
        verify(client, CHEN_XIAO, chat_user)
    # The sixth code within ten minutes waits; the message says how long.
    sixth = client.post("/api/v1/identity/sms-codes", json=code_request_body(CHEN_XIAO, chat_user))
    assert sixth.status_code == 429
    assert error_of(sixth)["code"] == "sms_rate_limited" and "分钟后再试" in error_of(sixth)["message"]


def test_token_only_works_for_the_chat_user_it_was_issued_to(client):
    headers = verify(client, CHEN_XIAO)
    assert client.get("/api/v1/rent-subsidy/eligibility", headers=headers).status_code == 200
    stolen = {**headers, "X-Chat-User": "wechat:someone-else"}
    response = client.get("/api/v1/rent-subsidy/eligibility", headers=stolen)
    assert response.status_code == 401
    assert error_of(response)["details"]["reason"] == "chat_user_mismatch"


def test_personal_records_need_a_token(client):
    response = client.get("/api/v1/rent-subsidy/applications", headers={"X-Chat-User": "rest:x"})
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "unauthorized"
    assert "身份核验" in error["message"]
    bogus = client.get(
        "/api/v1/rent-subsidy/applications",
        headers={"Authorization": "Bearer forged", "X-Chat-User": "rest:x"},
    )
    assert error_of(bogus)["details"]["reason"] == "invalid_token"


def test_expired_token_is_refused(make_client):
    client = make_client(token_ttl_seconds=1)
    headers = verify(client, CHEN_XIAO)
    time.sleep(1.2)
    response = client.get("/api/v1/rent-subsidy/eligibility", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["details"]["reason"] == "token_expired"


def test_phone_level_token_is_not_enough_for_rent_subsidy(client):
    headers = verify(client, LIU_YANG, with_id=False)
    response = client.get("/api/v1/rent-subsidy/eligibility", headers=headers)
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_level"


def test_sms_outbox_is_hidden_in_production(make_client):
    client = make_client(env="production", secret_key=PRODUCTION_SECRET_KEY)
    assert client.get("/dev/sms-outbox", params={"phone": CHEN_XIAO.phone}).status_code == 404


def test_logs_never_contain_raw_phone_or_id_numbers(client, caplog):
    caplog.set_level(logging.DEBUG)
    verify(client, CHEN_XIAO)
    client.post(
        "/api/v1/identity/sms-codes",
        json={
            "name": "陈晓",
            "id_number": CHEN_XIAO.id_number,
            "phone": "13900000000",
            "chat_user": "rest:x",
        },
    )
    # The sandbox's own log lines (the test's HTTP client logs its request URLs itself).
    records = [r for r in caplog.records if r.name.startswith(("services", "uvicorn"))]
    assert records, "expected some log lines"
    logged = "\n".join(record.getMessage() for record in records)
    assert "138****0001" in logged
    assert CHEN_XIAO.phone not in logged
    assert CHEN_XIAO.id_number not in logged
