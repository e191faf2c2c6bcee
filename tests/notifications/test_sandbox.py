"""The sandbox's side of progress notifications, on SQLite and PostgreSQL: who may watch what, every kind of state
change written with its outbox row, and the dispatcher posting each row, signed, until the notifier accepts it."""

from __future__ import annotations

import re
import time
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from services import notifications
from tests.notifications.receiver import Receiver
from tests.services.helpers import CHEN_XIAO, HUANG_HAI, LIN_YUE, WANG_JIANGUO, error_of, query, verify

SUBSCRIPTIONS = "/api/v1/notifications/subscriptions"
OUTBOX = "/dev/notifications/outbox"
SHOPPING = "(2020)浙0192民初567号"  # 陈晓's case with a mediation agreement waiting for her signature
HUANG_CAR = {"plate": "桂A12345", "vin_tail": "123456", "destination_city": "青岛"}


def _watch(client: TestClient, headers: dict, service: str, reference: str, subscriber: str = "sealed-1"):  # type: ignore[no-untyped-def]
    return client.post(SUBSCRIPTIONS, json={"service": service, "reference": reference, "subscriber": subscriber},
                       headers=headers)


def _rent_application(client: TestClient) -> tuple[dict, str]:
    headers = verify(client, CHEN_XIAO)
    response = client.post("/api/v1/rent-subsidy/applications", json={"commitment": True},
                           headers={**headers, "Idempotency-Key": "apply-1"})
    assert response.status_code == 201, response.text
    return headers, response.json()["application_no"]


def _outbox(client: TestClient) -> list[dict]:
    return client.get(OUTBOX).json()


def _settled(client: TestClient, count: int, timeout: float = 15.0) -> list[dict]:
    """The outbox once `count` rows are no longer pending."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _outbox(client)
        if len([row for row in rows if row["status"] != "pending"]) >= count:
            return rows
        time.sleep(0.05)
    return _outbox(client)


def _today(client: TestClient) -> date:
    return date.fromisoformat(client.get("/dev/clock").json()["today"])


def _advance(client: TestClient, days: int) -> None:
    assert client.post("/dev/clock", json={"advance_days": days}).status_code == 200


# --- subscribing -----------------------------------------------------------------------------------------------------


def test_a_citizen_watches_only_her_own_transactions(make_client, receiver: Receiver, database_url: str) -> None:
    client = make_client(notify_url=receiver.url)
    headers, number = _rent_application(client)
    first = _watch(client, headers, "rent_subsidy", number)
    assert first.status_code == 201 and first.json()["reference"] == number
    again = _watch(client, headers, "rent_subsidy_status", number, subscriber="sealed-2")
    assert again.status_code == 200  # the same conversation asking again: the one subscription, renewed
    rows = query(database_url, "SELECT subscriber, last_state FROM notification_subscriptions")
    assert rows == [("sealed-2", "paid")]

    someone_else = _watch(client, verify(client, LIN_YUE), "rent_subsidy", number)
    unknown = _watch(client, headers, "rent_subsidy", "ZF202600000000")
    assert someone_else.status_code == unknown.status_code == 404
    assert error_of(someone_else) == error_of(unknown)  # nothing tells whose number it is
    assert error_of(_watch(client, headers, "entry_control", number))["code"] == "service_not_watchable"
    assert _watch(client, {}, "rent_subsidy", number).status_code == 401
    assert error_of(_watch(client, headers, "rent_subsidy", number, subscriber="封装"))["code"] == "invalid_subscriber"


# --- state changes and the outbox ------------------------------------------------------------------------------------


def test_a_payout_reaches_the_notifier_once_signed_without_personal_data(make_client, receiver: Receiver) -> None:
    client = make_client(notify_url=receiver.url)
    headers, number = _rent_application(client)
    _watch(client, headers, "rent_subsidy", number, subscriber="sealed-chen")
    assert client.post(f"/dev/rent-subsidy/applications/{number}/payout").status_code == 200

    [event] = receiver.wait_for(1)
    assert (event["service"], event["reference"], event["state"], event["subscriber"]) == (
        "rent_subsidy", number, "paid", "sealed-chen")
    assert "元已发放至您的账户6222 **** **** 4567" in event["detail"]
    assert not re.search(r"\d{8}", event["detail"])  # the account only masked
    assert re.fullmatch(r"[0-9a-f]{32}", event["event_id"]) and event["occurred_at"].endswith("+08:00")
    time.sleep(1.5)  # the dispatcher's next rounds: an accepted event is not posted again
    assert len(receiver.posts) == 1 and receiver.unsigned == 0
    assert [row["status"] for row in _settled(client, 1)] == ["delivered"]


def test_a_change_nobody_watches_or_that_is_rolled_back_writes_no_event(make_client, receiver: Receiver) -> None:
    client = make_client(notify_url=receiver.url)
    headers, number = _rent_application(client)
    assert client.post(f"/dev/rent-subsidy/applications/{number}/payout").status_code == 200
    _watch(client, headers, "rent_subsidy", number)
    session = client.app.state.session_factory()
    try:
        assert notifications.record(session, f"rent_subsidy:{number}", "paid", "...") == 1
        session.rollback()  # the change failed: its event goes with it
    finally:
        session.close()
    time.sleep(1.2)
    assert _outbox(client) == [] and receiver.posts == []


def test_events_wait_while_the_notifier_is_down_and_are_posted_until_accepted(
    make_client, receiver: Receiver, webhook_secret: str
) -> None:
    receiver.stop()  # the notifier is down when the change happens
    client = make_client(notify_url=receiver.url, notify_retry_max_seconds=0.3)
    headers, number = _rent_application(client)
    _watch(client, headers, "rent_subsidy", number)
    assert client.post(f"/dev/rent-subsidy/applications/{number}/payout").status_code == 200
    time.sleep(1.0)
    [waiting] = _outbox(client)
    assert waiting["status"] == "pending" and waiting["attempts"] >= 1 and waiting["last_error"] == "ConnectError"

    back = Receiver(webhook_secret, port=receiver.port, statuses=[503, 500]).start()  # back, but failing twice
    try:
        posts = back.wait_for(3)
        assert len(posts) == 3 and {post["event_id"] for post in posts} == {waiting["event_id"]}
        assert _settled(client, 1)[0]["status"] == "delivered"
    finally:
        back.stop()


def test_an_event_the_notifier_refuses_as_malformed_is_not_posted_forever(make_client, receiver: Receiver) -> None:
    receiver.statuses = [422]
    client = make_client(notify_url=receiver.url, notify_retry_max_seconds=0.3)
    headers, number = _rent_application(client)
    _watch(client, headers, "rent_subsidy", number)
    client.post(f"/dev/rent-subsidy/applications/{number}/payout")
    [row] = _settled(client, 1)
    time.sleep(1.2)
    assert row["status"] == "rejected" and row["last_error"] == "HTTP 422" and len(receiver.posts) == 1


def test_approvals_hearings_agreements_and_health_codes_are_announced(make_client, receiver: Receiver) -> None:
    client = make_client(notify_url=receiver.url)
    wang = verify(client, WANG_JIANGUO)
    planned = (_today(client) + timedelta(days=3)).isoformat()
    filing = client.post("/api/v1/work-resumption/filings", headers={**wang, "Idempotency-Key": "file-1"}, json={
        "credit_code": "91330110MA2K8L6R2R", "planned_date": planned, "returning_staff": 120, "key_area_staff": 6,
        "supplies_days": 7, "isolation_rooms": 2, "commitment": True,
    }).json()["filing_no"]
    assert _watch(client, wang, "work_resumption", filing, "sealed-wang").status_code == 201
    assert client.post(f"/dev/work-resumption/filings/{filing}/approve").json()["status_text"] == "审核通过"
    assert error_of(client.post(f"/dev/work-resumption/filings/{filing}/approve"))["code"] == "already_approved"

    chen = verify(client, CHEN_XIAO)
    assert _watch(client, chen, "court_hearing", "H0001", "sealed-chen").status_code == 201
    assert _watch(client, verify(client, LIN_YUE), "court_hearing", "H0001").status_code == 404  # not her hearing
    moved = client.post("/dev/court/hearings/H0001/reschedule",
                        json={"scheduled_at": f"{planned}T14:30:00+08:00", "place": "第五法庭"})
    assert moved.status_code == 200, moved.text
    assert _watch(client, chen, "mediation", SHOPPING, "sealed-chen").status_code == 201
    revised = client.post("/dev/court/mediation-version", json={"case_number": SHOPPING, "text": "修订后的协议。"})
    assert revised.status_code == 201, revised.text

    huang = verify(client, HUANG_HAI)  # red code
    assert _watch(client, huang, "health_code", "red", "sealed-huang").status_code == 201
    assert client.post("/dev/health-code/turn-green", json={"id_number": HUANG_HAI.id_number}).status_code == 200

    events = {(post["service"], post["state"]): post for post in receiver.wait_for(4)}
    assert set(events) == {("work_resumption", "approved"), ("court_hearing", "rescheduled"),
                           ("mediation", "revised"), ("health_code", "green")}
    assert events["work_resumption", "approved"]["detail"].startswith("由区县级企业复工专班审核通过，可按计划于")
    day = date.fromisoformat(planned)
    assert events["court_hearing", "rescheduled"]["detail"] == (
        f"开庭时间调整为{day.year}年{day.month}月{day.day}日14:30，地点：第五法庭")
    assert "第2版" in events["mediation", "revised"]["detail"]
    assert events["health_code", "green"]["subscriber"] == "sealed-huang"


def test_a_health_code_turned_green_by_the_last_check_in_is_announced(make_client, receiver: Receiver) -> None:
    client = make_client(notify_url=receiver.url)
    lin = verify(client, LIN_YUE)  # yellow, 5 of 7 normal check-ins, the last one yesterday
    assert _watch(client, lin, "health_code_check_in", _today(client).isoformat(), "sealed-lin").status_code == 201

    def check_in(key: str) -> dict:
        response = client.post("/api/v1/health-code/check-ins", json={"temperature": 36.5, "symptoms": []},
                               headers={**lin, "Idempotency-Key": key})
        assert response.status_code == 201, response.text
        return response.json()

    assert check_in("day-6")["colour"] == "yellow"
    time.sleep(1.0)
    assert receiver.posts == []  # a check-in that changes no colour is no news
    _advance(client, 1)
    lin = verify(client, LIN_YUE)
    assert check_in("day-7")["colour"] == "green"
    [event] = receiver.wait_for(1)
    assert (event["service"], event["state"], event["detail"]) == ("health_code_check_in", "green", "健康码已转为绿码")


def test_vehicle_transfer_stages_are_announced_as_they_pass(make_client, receiver: Receiver) -> None:
    client = make_client(notify_url=receiver.url)
    huang = verify(client, HUANG_HAI)
    applied = client.post("/api/v1/vehicle-transfer/applications", json=HUANG_CAR,
                          headers={**huang, "Idempotency-Key": "transfer-1"})
    assert applied.status_code == 201, applied.text
    number = applied.json()["application_no"]
    assert _watch(client, huang, "vehicle_transfer", number, "sealed-huang").status_code == 201

    arrived = client.post(f"/dev/vehicle-transfer/applications/{number}/archive-arrived")
    assert arrived.json() == {"application_no": number, "notified": 1}
    assert error_of(client.post(f"/dev/vehicle-transfer/applications/{number}/archive-arrived"))["code"] == (
        "archive_already_sent")
    [sent] = receiver.wait_for(1)
    assert sent["state"] == "archive_sent" and "电子档案已转递至青岛" in sent["detail"]

    _advance(client, 1)  # the destination office checks it the next day
    checked = receiver.wait_for(2)[1]
    assert checked["state"] == "destination_checked" and "查验一次即可" in checked["detail"]
    _advance(client, 0)
    time.sleep(1.2)
    assert len(receiver.posts) == 2  # a stage is announced once, however often the calendar is looked at


@pytest.mark.parametrize("path", [
    "/dev/rent-subsidy/applications/ZF000/payout", "/dev/work-resumption/filings/FG000/approve",
    "/dev/vehicle-transfer/applications/ZD000/archive-arrived",
])
def test_a_development_change_of_an_unknown_record_is_a_404(make_client, receiver: Receiver, path: str) -> None:
    assert make_client(notify_url=receiver.url).post(path).status_code == 404


def test_development_changes_exist_only_in_development(make_client, receiver: Receiver) -> None:
    from tests.services.helpers import PRODUCTION_SECRET_KEY

    client = make_client(env="production", secret_key=PRODUCTION_SECRET_KEY, notify_url=receiver.url)
    assert client.post("/dev/rent-subsidy/applications/ZF000/payout").status_code == 404
    assert client.post(SUBSCRIPTIONS, json={}).status_code in (401, 422)  # the subscription API is not dev-only
