"""Attack: brute-force the 6-digit SMS code (hole 5).

Before the fix, parallel wrong guesses all passed the "attempts < max" check before any of them was counted, and
a phone could get 30 codes every 10 minutes (150 guesses per 10 minutes). Now each attempt is counted by one
conditional UPDATE before the code is compared, and a phone gets at most 10 codes a day (50 guesses a day: a 1 in
20,000 chance), with all counters race-free on SQLite and PostgreSQL.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import httpx

from tests.services import conftest as sandbox
from tests.services.helpers import (
    CHEN_XIAO,
    LIU_YANG,
    code_request_body,
    error_of,
    latest_code,
    new_chat_user,
    outcome,
    query,
    request_code,
)

# The sandbox fixtures of tests/services, so every test runs on SQLite and on PostgreSQL.
postgres_url, database_url, make_client, client, make_server = (
    sandbox.postgres_url,
    sandbox.database_url,
    sandbox.make_client,
    sandbox.client,
    sandbox.make_server,
)

VERIFICATIONS = "/api/v1/identity/verifications"
SMS_CODES = "/api/v1/identity/sms-codes"


def in_parallel(count: int, call) -> list:  # type: ignore[no-untyped-def]
    """`call(i)` from `count` threads released at the same moment."""
    barrier = Barrier(count)

    def run(index: int):  # type: ignore[no-untyped-def]
        barrier.wait()
        return call(index)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_parallel_wrong_guesses_are_counted_before_comparing(make_server, database_url):
    url = make_server()
    with httpx.Client(base_url=url, timeout=60) as http:
        sent = http.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user())).json()
        right = latest_code(http, CHEN_XIAO.phone)  # type: ignore[arg-type] - same get/params API
    wrong = [f"{(int(right) + offset) % 1_000_000:06d}" for offset in range(1, 21)]

    def guess(index: int) -> httpx.Response:
        body = {"verification_id": sent["verification_id"], "code": wrong[index]}
        return httpx.post(f"{url}{VERIFICATIONS}", json=body, timeout=60)

    answers = [error_of(answer) for answer in in_parallel(20, guess)]
    # A counted guess that finishes after the fifth was counted already hears "too many attempts" too.
    assert {answer["code"] for answer in answers} <= {"wrong_code", "too_many_attempts"}
    assert sum(answer["code"] == "wrong_code" for answer in answers) <= 4
    sql = "SELECT attempts FROM sms_verifications WHERE id = :id"
    assert query(database_url, sql, id=sent["verification_id"]) == [(5,)]  # exactly five guesses were compared
    late = httpx.post(f"{url}{VERIFICATIONS}", json={"verification_id": sent["verification_id"], "code": right})
    assert late.status_code == 429 and error_of(late)["code"] == "too_many_attempts"


def test_a_code_sent_in_parallel_gives_one_token(make_server):
    url = make_server()
    with httpx.Client(base_url=url, timeout=60) as http:
        sent = http.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user())).json()
        right = latest_code(http, CHEN_XIAO.phone)  # type: ignore[arg-type]

    def guess(index: int) -> int:
        body = {"verification_id": sent["verification_id"], "code": right}
        return httpx.post(f"{url}{VERIFICATIONS}", json=body, timeout=60).status_code

    statuses = in_parallel(10, guess)
    assert statuses.count(200) == 1 and set(statuses) <= {200, 410, 429}


def test_a_phone_gets_at_most_the_daily_number_of_codes(make_client):
    client = make_client(sms_limit_per_phone=100, sms_limit_per_chat_user=100, sms_daily_limit_per_phone=3)
    for _ in range(3):
        request_code(client, CHEN_XIAO, new_chat_user())  # a new chat user each time does not help
    fourth = client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user()))
    assert fourth.status_code == 429
    error = error_of(fourth)
    assert error["code"] == "sms_daily_limit"
    assert "明天再试" in error["message"] and "您" in error["message"] and "12345" in error["message"]
    assert 0 < error["details"]["retry_after"] <= 24 * 3600
    phone_only = client.post(SMS_CODES, json=code_request_body(CHEN_XIAO, new_chat_user(), id_number=None))
    assert outcome(phone_only) == "sms_daily_limit"  # the phone-level path shares the cap
    request_code(client, LIU_YANG, new_chat_user())  # another phone is not affected


def test_a_chat_user_gets_at_most_the_daily_number_of_codes(make_client):
    client = make_client(sms_limit_per_phone=100, sms_limit_per_chat_user=100, sms_daily_limit_per_chat_user=2)
    chat_user = new_chat_user()
    request_code(client, CHEN_XIAO, chat_user)
    request_code(client, LIU_YANG, chat_user)
    body = {"name": "某某", "phone": "13912345678", "chat_user": chat_user}
    assert outcome(client.post(SMS_CODES, json=body)) == "sms_daily_limit"


def test_sequential_brute_force_gets_only_the_daily_budget_of_guesses(make_client):
    """The attacker requests codes and burns 5 guesses each until refused: 10 codes × 5 = 50 guesses a day."""
    client = make_client(sms_limit_per_phone=100, sms_limit_per_chat_user=100)
    guesses = 0
    while True:
        response = client.post(SMS_CODES, json=code_request_body(LIU_YANG, new_chat_user(), id_number=None))
        if response.status_code != 201:
            break
        right = latest_code(client, LIU_YANG.phone)
        for offset in range(1, 7):  # one more than allowed: the sixth is refused without comparing
            code = f"{(int(right) + offset) % 10**6:06d}"
            body = {"verification_id": response.json()["verification_id"], "code": code}
            guesses += client.post(VERIFICATIONS, json=body).status_code == 400
    assert outcome(response) == "sms_daily_limit"
    assert guesses == 10 * 4  # 4 "wrong_code" answers per code; the 5th wrong guess kills it


def test_parallel_code_requests_never_exceed_the_window_limit(make_server):
    url = make_server()  # defaults: 5 codes per phone per 10 minutes

    def ask(index: int) -> str:
        body = code_request_body(LIU_YANG, new_chat_user(), id_number=None)
        return outcome(httpx.post(f"{url}{SMS_CODES}", json=body, timeout=60))

    answers = in_parallel(20, ask)
    assert sorted(answers) == ["sent"] * 5 + ["sms_rate_limited"] * 15
