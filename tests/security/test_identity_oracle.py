"""Attack: use the identity check as an oracle to find a citizen's ID number (hole 4).

The attacker knows 陈晓's name, mobile number, home region and birth date, i.e. the first 14 characters of her ID
number; the 3 sequence digits are unknown and the check digit follows from them, so at most 1,000 candidates.
Before the fix every mismatch was free and the real number turned up within the 1,000 tries. Now failed checks have
a small daily budget per phone, ID number, person (name + region + birth date) and chat user, taken before anything
is compared; the answers never tell an unknown ID number from a mismatch.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx

from services import identity
from services.idcard import check_digit
from tests.services import conftest as sandbox
from tests.services.helpers import CHEN_XIAO, code_request_body, error_of, new_chat_user, outcome

# The sandbox fixtures of tests/services, so every test runs on SQLite and on PostgreSQL.
postgres_url, database_url, make_client, client, make_server = (
    sandbox.postgres_url,
    sandbox.database_url,
    sandbox.make_client,
    sandbox.client,
    sandbox.make_server,
)

SMS_CODES = "/api/v1/identity/sms-codes"
LIMIT = 5  # the default daily failures per phone, ID number and person


def candidates(real: str, real_at: int | None = None) -> list[str]:
    """Every ID number with the real one's region and birth date, sequence 999 down to 000 (the real one, 002, near
    the end), or the real one moved to position `real_at`."""
    stem = real[:14]
    numbers = [f"{stem}{seq:03d}" for seq in range(999, -1, -1)]
    ids = [first17 + check_digit(first17) for first17 in numbers]
    if real_at is not None:
        ids.remove(real)
        ids.insert(real_at, real)
    return ids


def attacker_phone(index: int) -> str:
    return f"139{index:08d}"


def test_enumerating_the_sequence_digits_is_stopped_after_the_limit(client):
    chat_user = new_chat_user()
    answers = [
        outcome(client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, chat_user, id_number=id_number)))
        for id_number in candidates(CHEN_XIAO.id_number)
    ]
    assert answers[:LIMIT] == ["identity_mismatch"] * LIMIT
    assert set(answers[LIMIT:]) == {"identity_check_limited"}  # the real number (at 997) included
    assert client.get("/dev/sms-outbox", params={"phone": CHEN_XIAO.phone}).json() == []


def test_a_new_chat_user_for_every_try_does_not_help(client):
    tries = candidates(CHEN_XIAO.id_number, real_at=20)[:30]
    answers = [
        outcome(client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user(), id_number=id_number)))
        for id_number in tries
    ]
    assert answers == ["identity_mismatch"] * LIMIT + ["identity_check_limited"] * 25


def test_a_new_phone_and_chat_user_for_every_try_does_not_help(client):
    """An attacker unsure of the phone tries candidates for both; only the per-person budget can stop this."""
    tries = candidates(CHEN_XIAO.id_number, real_at=20)[:30]
    phones = [CHEN_XIAO.phone if index == 20 else attacker_phone(index) for index in range(30)]
    answers = [
        outcome(
            client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user(), id_number=id_number, phone=phone))
        )
        for id_number, phone in zip(tries, phones, strict=True)
    ]
    assert answers == ["identity_mismatch"] * LIMIT + ["identity_check_limited"] * 25


def test_over_limit_answer_is_the_same_whether_or_not_the_person_exists(client):
    for id_number in candidates(CHEN_XIAO.id_number)[:LIMIT]:
        client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user(), id_number=id_number))
    real = client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user()))
    nobody = client.post(
        SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user(), id_number=candidates(CHEN_XIAO.id_number)[10])
    )
    assert real.status_code == nobody.status_code == 429
    first, second = error_of(real), error_of(nobody)
    assert (first["code"], first["message"]) == (second["code"], second["message"])
    assert abs(first["details"]["retry_after"] - second["details"]["retry_after"]) <= 1
    assert set(first["details"]) == {"retry_after"}
    assert "明天再试" in first["message"] and "12345" in first["message"] and "您" in first["message"]


def test_limits_are_checked_before_anything_is_compared(client, monkeypatch):
    for id_number in candidates(CHEN_XIAO.id_number)[:LIMIT]:
        client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user(), id_number=id_number))
    compared: list[str] = []
    real_match = identity._match_person

    def spy(session, request):  # type: ignore[no-untyped-def]
        compared.append(request.id_number)
        return real_match(session, request)

    monkeypatch.setattr(identity, "_match_person", spy)
    response = client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user()))
    assert error_of(response)["code"] == "identity_check_limited"
    assert compared == []


def test_unknown_person_and_mismatch_get_the_same_answer(client, caplog):
    caplog.set_level(logging.INFO, logger="services")
    unknown = client.post(
        SMS_CODES, json=code_request_body(CHEN_XIAO, "rest:a", id_number=candidates(CHEN_XIAO.id_number)[0])
    )
    unknown_logs = [record.getMessage() for record in caplog.records if record.name.startswith("services")]
    caplog.clear()
    wrong_name = client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, "rest:a", name="陈小"))
    wrong_name_logs = [record.getMessage() for record in caplog.records if record.name.startswith("services")]
    assert unknown.status_code == wrong_name.status_code == 404
    assert unknown.json() == wrong_name.json()
    assert error_of(unknown)["code"] == "identity_mismatch"
    assert unknown_logs == wrong_name_logs  # the logs do not tell them apart either


def test_a_citizen_who_mistypes_a_few_times_is_not_blocked(client):
    """Successful checks give their unit back: only failures count."""
    chat_user = new_chat_user()
    for _ in range(LIMIT - 1):
        assert outcome(client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, chat_user, name="陈小"))) == (
            "identity_mismatch"
        )
    for _ in range(3):
        assert outcome(client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, chat_user))) == "sent"
    assert outcome(client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, chat_user, name="陈小"))) == (
        "identity_mismatch"
    )
    assert outcome(client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, chat_user))) == "identity_check_limited"


def test_parallel_guesses_cannot_overrun_the_budget(make_server):
    """20 wrong guesses at the same moment: exactly 5 are compared, on SQLite and on PostgreSQL."""
    url = make_server()
    tries = candidates(CHEN_XIAO.id_number)[:20]
    barrier = Barrier(len(tries))

    def guess(id_number: str) -> str:
        body = code_request_body(CHEN_XIAO, new_chat_user(), id_number=id_number)
        barrier.wait()
        return outcome(httpx.post(f"{url}{SMS_CODES}", json=body, timeout=60))

    with ThreadPoolExecutor(len(tries)) as pool:
        answers = list(pool.map(guess, tries))
    assert sorted(answers) == ["identity_check_limited"] * 15 + ["identity_mismatch"] * LIMIT
