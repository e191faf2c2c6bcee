"""Health code: colour rules from configuration, daily check-ins by the sandbox clock, appeals, idempotency."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import yaml
from sqlalchemy import create_engine, text

from bot.clock import china_today
from bot.settings import SandboxSettings
from services import sandbox_clock
from services.db import create_db_engine, create_session_factory, run_migrations
from tests.services.helpers import (
    CHEN_XIAO,
    HUANG_HAI,
    LIN_YUE,
    LIU_YANG,
    PRODUCTION_SECRET_KEY,
    WANG_FANG,
    ZHANG_WEI,
    ZHAO_MIN,
    Persona,
    error_of,
    query,
    verify,
)

BASE = "/api/v1/health-code"
WANG_JIANGUO = Persona("王建国", "330102198805120036", "13800000005")  # no health code
LI_QIANG = Persona("李强", "320102199308080056", "13800000007")
ZHOU_JIE = Persona("周杰", "110105199109200078", "13800000009")
SUN_LI = Persona("孙丽", "310115199901010083", "13800000010")

HEALTHY = {"symptoms": [], "temperature": 36.5, "key_area_travel": False, "contact_with_case": False}


def _today(client) -> date:  # type: ignore[no-untyped-def]
    return date.fromisoformat(client.get("/dev/clock").json()["today"])


def _advance(client, days: int) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/dev/clock", json={"advance_days": days})
    assert response.status_code == 200, response.text


def _apply(client, headers, key, **declaration):  # type: ignore[no-untyped-def]
    return client.post(f"{BASE}/applications", json=HEALTHY | declaration, headers={**headers, "Idempotency-Key": key})


def _check_in(client, headers, key, temperature=36.5, symptoms=()):  # type: ignore[no-untyped-def]
    body = {"temperature": temperature, "symptoms": list(symptoms)}
    return client.post(f"{BASE}/check-ins", json=body, headers={**headers, "Idempotency-Key": key})


def _code(client, headers) -> dict:  # type: ignore[no-untyped-def]
    response = client.get(f"{BASE}/code", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _appeal(client, headers, key, reason="近14天我一直在杭州，没有去过重点地区。"):  # type: ignore[no-untyped-def]
    return client.post(f"{BASE}/appeals", json={"reason": reason}, headers={**headers, "Idempotency-Key": key})


def _execute(database_url: str, sql: str, **params: object) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


# --- rules from configuration -----------------------------------------------------------------------------------


def test_rules_are_published_from_configuration(client):
    rules = client.get(f"{BASE}/rules").json()
    assert rules["abnormal_temperature"] == 37.3
    assert rules["days_to_green"] == {"yellow": 7, "red": 14}
    assert rules["symptoms"] == {"fever": "发热", "cough": "咳嗽", "fatigue": "乏力"}
    assert "武汉市" in rules["key_areas"] and rules["sample_data"] is True
    # The code is never the only pass: paper proof, a family member acting, on-site registration with the ID card.
    assert all(word in rules["no_smartphone"] for word in ("纸质", "家人", "身份证", "现场登记"))


def test_changed_configuration_changes_the_rules(make_client, tmp_path: Path):
    config = yaml.safe_load(SandboxSettings().health_code_config.read_text(encoding="utf-8"))
    config["days_to_green"]["yellow"] = 3
    config["abnormal_temperature"] = 37.0
    config["key_areas"] = ["示例市"]
    path = tmp_path / "health_code.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    client = make_client(health_code_config=path)
    headers = verify(client, WANG_FANG)
    code = _apply(client, headers, "k", area="示例市").json()
    assert (code["colour"], code["required_days"], code["streak_text"]) == ("yellow", 3, "已连续打卡 0/3 天")
    assert "连续3天" in code["how_to_turn_green"]
    assert _check_in(client, headers, "c", temperature=37.1).json()["normal"] is False
    # 林悦 was seeded with the configured count too.
    assert _code(client, verify(client, LIN_YUE))["required_days"] == 3


# --- apply -------------------------------------------------------------------------------------------------------


def test_each_declaration_gets_the_colour_its_rule_says(client, database_url):
    _execute(
        database_url,
        "INSERT INTO health_risk_persons (person_id, category, listed_on) "
        "SELECT id, 'suspected', :today FROM persons WHERE id_number = :id_number",
        today=china_today(),
        id_number=SUN_LI.id_number,
    )
    cases = [
        (LIU_YANG, {}, "green", "declared_healthy"),
        (WANG_FANG, {"key_area_travel": True, "area": "温州"}, "yellow", "key_area_travel"),
        (ZHANG_WEI, {"symptoms": ["咳嗽", "fatigue"]}, "yellow", "symptoms"),
        (ZHAO_MIN, {"temperature": 37.3}, "yellow", "fever"),
        (LI_QIANG, {"contact_with_case": True}, "red", "contact_with_case"),
        # Naming a listed area counts as key-area travel even if the box was not ticked.
        (ZHOU_JIE, {"area": "湖北省武汉市"}, "yellow", "key_area_travel"),
        (SUN_LI, {}, "red", "suspected"),  # on the sandbox's list: the declaration cannot make it green
    ]
    for persona, declaration, colour, reason_code in cases:
        response = _apply(client, verify(client, persona), f"k-{persona.phone}", **declaration)
        assert response.status_code == 201, response.text
        body = response.json()
        assert (persona.name, body["colour"], body["reason_code"]) == (persona.name, colour, reason_code)
        assert body["colour_text"] == {"green": "绿码", "yellow": "黄码", "red": "红码"}[colour]
        assert body["reason"] and body["what_to_do"] and body["no_smartphone"]
    zhou = _code(client, verify(client, ZHOU_JIE))
    assert "武汉市" in zhou["reason"]


def test_fever_after_key_area_travel_is_red_with_isolation_and_is_issued_once(client):
    headers = verify(client, LIU_YANG)
    today = _today(client)
    declaration = {"temperature": 38.2, "symptoms": ["fever"], "key_area_travel": True, "area": "武汉"}
    first = _apply(client, headers, "apply-1", **declaration)
    assert first.status_code == 201
    code = first.json()
    assert (code["colour"], code["colour_text"], code["reason_code"]) == ("red", "红码", "fever_with_key_area")
    assert "武汉市" in code["reason"] and "发热" in code["reason"]
    assert "发热门诊" in code["what_to_do"] and "隔离医学观察14天" in code["what_to_do"]
    assert (code["streak"], code["required_days"], code["streak_text"]) == (0, 14, "已连续打卡 0/14 天")
    # 14 normal check-ins from today: the 14th is on day 13 after today.
    assert code["earliest_green_date"] == (today + timedelta(days=13)).isoformat()
    assert code["name_masked"] == "刘*" and code["already_applied"] is False

    retried = _apply(client, headers, "apply-1", **declaration)  # the same message retried
    assert (retried.status_code, retried.json()) == (201, code)
    healthy_now = _apply(client, verify(client, LIU_YANG), "apply-2")  # a new declaration later
    assert healthy_now.status_code == 200
    assert healthy_now.json()["colour"] == "red" and healthy_now.json()["already_applied"] is True
    assert _code(client, headers)["colour"] == "red"


def test_someone_with_a_code_gets_it_back_instead_of_a_new_one(client):
    response = _apply(client, verify(client, HUANG_HAI), "k")  # 黄海 declares healthy, but is a close contact
    assert response.status_code == 200
    body = response.json()
    assert (body["colour"], body["reason_code"], body["already_applied"]) == ("red", "close_contact", True)


def test_parallel_applications_issue_one_code(client, database_url):
    headers = verify(client, LIU_YANG)
    keys = ["same"] * 3 + [f"other-{i}" for i in range(5)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda key: _apply(client, headers, key), keys))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert {r.json()["colour"] for r in responses} == {"green"}
    rows = query(
        database_url,
        "SELECT count(*) FROM health_codes c JOIN persons p ON p.id = c.person_id WHERE p.id_number = :n",
        n=LIU_YANG.id_number,
    )
    assert rows == [(1,)]


def test_declaration_errors_are_specific_and_in_chinese(client):
    headers = verify(client, LIU_YANG)
    for temperature in (33.9, 43.1):
        error = error_of(_apply(client, headers, f"t{temperature}", temperature=temperature))
        assert error["code"] == "invalid_temperature"
        assert error["message"].startswith("体温数值不在合理范围")
    error = error_of(_apply(client, headers, "s", symptoms=["头痛"]))
    assert error["code"] == "invalid_symptoms" and "发热、咳嗽、乏力" in error["message"]
    error = error_of(_apply(client, headers, "n", temperature="三十六度"))
    assert error["code"] == "invalid_temperature" and "36.5" in error["message"]
    missing = client.post(
        f"{BASE}/applications", json={"symptoms": [], "temperature": 36.5, "contact_with_case": False},
        headers={**headers, "Idempotency-Key": "m"},
    )
    assert missing.status_code == 422
    assert error_of(missing)["message"] == "缺少近14天是否到过重点地区，请补充后重新提交。"
    assert client.get(f"{BASE}/code", headers=headers).status_code == 404  # nothing was issued


def test_oversized_declarations_and_appeals_are_refused_before_anything_is_stored(client):
    headers = verify(client, LIU_YANG)
    flood = _apply(client, headers, "many", symptoms=["咳嗽"] * 200)  # within the body limit, past the list bound
    long_area = _apply(client, headers, "area", key_area_travel=True, area="武" * 2000)
    assert (flood.status_code, long_area.status_code) == (422, 422)
    assert client.get(f"{BASE}/code", headers=headers).status_code == 404


def test_the_development_clock_cannot_be_pushed_past_its_range(client):
    before = _today(client)
    for _ in range(sandbox_clock.MAX_OFFSET_DAYS // sandbox_clock.MAX_ADVANCE_DAYS + 2):
        client.post("/dev/clock", json={"advance_days": sandbox_clock.MAX_ADVANCE_DAYS})
    assert (_today(client) - before).days <= sandbox_clock.MAX_OFFSET_DAYS
    assert client.get("/health").status_code == 200


def test_personal_endpoints_need_a_verified_identity(client):
    no_token = client.get(f"{BASE}/code")
    assert no_token.status_code == 401 and error_of(no_token)["code"] == "unauthorized"
    assert _check_in(client, {}, "k").status_code == 401
    phone_only = verify(client, LIN_YUE, with_id=False)  # phone-level verification is not enough
    for response in (client.get(f"{BASE}/code", headers=phone_only), _apply(client, phone_only, "k")):
        assert response.status_code == 403 and error_of(response)["code"] == "insufficient_level"


def test_changes_need_an_idempotency_key_and_a_key_is_for_one_request(client):
    headers = verify(client, LIN_YUE)
    response = client.post(f"{BASE}/check-ins", json={"temperature": 36.5, "symptoms": []}, headers=headers)
    assert response.status_code == 400 and error_of(response)["code"] == "idempotency_key_required"
    assert _check_in(client, headers, "k").status_code == 201
    reused = _check_in(client, headers, "k", temperature=36.8)
    assert reused.status_code == 409 and error_of(reused)["code"] == "idempotency_conflict"


def test_no_code_yet_is_a_clear_404(client):
    headers = verify(client, WANG_JIANGUO)
    for response in (client.get(f"{BASE}/code", headers=headers), _check_in(client, headers, "k")):
        assert response.status_code == 404
        error = error_of(response)
        assert error["code"] == "no_health_code" and "申领" in error["message"]


# --- query and daily check-in -------------------------------------------------------------------------------------


def test_lin_yue_checks_in_twice_today_and_turns_green_on_the_seventh_day(client):
    headers = verify(client, LIN_YUE)
    today = _today(client)
    code = _code(client, headers)
    assert (code["colour"], code["reason_code"]) == ("yellow", "key_area_travel")
    assert code["streak_text"] == "已连续打卡 5/7 天"
    assert code["last_check_in_date"] == (today - timedelta(days=1)).isoformat()
    assert code["checked_in_today"] is False
    # Today's and tomorrow's check-ins complete the 7 days: green tomorrow.
    assert code["earliest_green_date"] == (today + timedelta(days=1)).isoformat()

    first = _check_in(client, headers, "day6")
    assert first.status_code == 201
    day6 = first.json()
    assert (day6["normal"], day6["result_text"], day6["already_checked_in"]) == (True, "正常", False)
    assert (day6["streak"], day6["streak_text"], day6["colour"]) == (6, "已连续打卡 6/7 天", "yellow")
    assert day6["earliest_green_date"] == (today + timedelta(days=1)).isoformat()

    second = _check_in(client, headers, "day6-again", temperature=36.7)  # a second check-in the same day
    assert second.status_code == 200
    again = second.json()
    assert again["already_checked_in"] is True and again["temperature"] == 36.5  # the first one's result
    assert again["streak"] == 6 and "不再重复计算" in again["advice"]
    assert _code(client, headers)["streak"] == 6
    assert _check_in(client, headers, "day6").json() == day6  # a retried message gets the same answer

    _advance(client, 1)
    green = _check_in(client, headers, "day7").json()
    assert (green["colour"], green["colour_text"], green["reason_code"]) == ("green", "绿码", "turned_green")
    assert green["colour_changed"] is True and green["previous_colour"] == "yellow"
    assert green["earliest_green_date"] is None and green["how_to_turn_green"] is None
    assert _code(client, headers)["colour"] == "green"


def test_a_missed_day_restarts_the_count(client):
    headers = verify(client, LIN_YUE)
    _advance(client, 2)  # her last check-in is now three days ago
    today = _today(client)
    code = _code(client, headers)
    assert (code["streak"], code["streak_text"]) == (0, "已连续打卡 0/7 天")
    assert code["earliest_green_date"] == (today + timedelta(days=6)).isoformat()
    result = _check_in(client, headers, "k").json()
    assert result["streak_reset"] is True and "重新开始计算" in result["advice"]
    assert (result["streak"], result["colour"]) == (1, "yellow")


def test_an_abnormal_check_in_resets_the_streak(client):
    headers = verify(client, HUANG_HAI)
    code = _code(client, headers)
    assert (code["colour"], code["reason_code"], code["streak_text"]) == ("red", "close_contact", "已连续打卡 0/14 天")
    assert "密切接触者" in code["reason"] and "隔离" in code["what_to_do"]
    assert _check_in(client, headers, "d1").json()["streak"] == 1
    _advance(client, 1)
    fever = _check_in(client, headers, "d2", temperature=37.8).json()
    assert (fever["normal"], fever["result_text"], fever["streak"]) == (False, "异常", 0)
    assert fever["colour"] == "red" and fever["colour_changed"] is False
    assert "发热门诊" in fever["advice"]
    _advance(client, 1)
    assert _check_in(client, headers, "d3", temperature=37.2).json()["normal"] is True  # just below 37.3


def test_a_symptom_turns_a_green_code_yellow(client):
    headers = verify(client, CHEN_XIAO)
    assert _code(client, headers)["colour"] == "green"
    result = _check_in(client, headers, "k", temperature=36.6, symptoms=["cough"]).json()
    assert result["normal"] is False and result["symptoms"] == ["cough"]
    assert (result["colour"], result["reason_code"], result["streak_text"]) == (
        "yellow",
        "abnormal_check_in",
        "已连续打卡 0/7 天",
    )
    assert result["colour_changed"] is True and result["previous_colour"] == "green"


def test_parallel_check_ins_the_same_day_count_once(client):
    headers = verify(client, LIN_YUE)
    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda i: _check_in(client, headers, f"k{i}"), range(6)))
    assert sorted(r.status_code for r in responses) == [200] * 5 + [201], [r.text for r in responses]
    assert _code(client, headers)["streak"] == 6


# --- appeals ------------------------------------------------------------------------------------------------------


def test_an_appeal_is_under_review_and_there_is_one_open_at_a_time(client):
    headers = verify(client, HUANG_HAI)
    first = _appeal(client, headers, "a1")
    assert first.status_code == 201
    appeal = first.json()
    assert (appeal["status"], appeal["status_text"], appeal["colour"]) == ("under_review", "审核中", "red")
    assert appeal["appeal_no"].startswith("FH") and "工作日" in appeal["expected_reply"]
    assert _appeal(client, headers, "a1").json() == appeal  # retried
    second = _appeal(client, headers, "a2", reason="再次申请复核")
    assert second.status_code == 200
    assert second.json()["appeal_no"] == appeal["appeal_no"] and second.json()["already_open"] is True
    listed = client.get(f"{BASE}/appeals", headers=headers).json()["items"]
    assert [item["appeal_no"] for item in listed] == [appeal["appeal_no"]]
    assert client.get(f"{BASE}/appeals", headers=verify(client, LIN_YUE)).json()["items"] == []


def test_appeal_reason_length_and_missing_code(client):
    headers = verify(client, LIN_YUE)
    for reason in ("错", "  ", "理" * 501):
        error = error_of(_appeal(client, headers, f"k{len(reason)}", reason=reason))
        assert error["code"] == "invalid_reason" and "2至500个字" in error["message"]
    no_code = _appeal(client, verify(client, WANG_JIANGUO), "k")
    assert no_code.status_code == 404 and error_of(no_code)["code"] == "no_health_code"


# --- sandbox clock and seeding --------------------------------------------------------------------------------------


def test_the_dev_clock_moves_forward_only(client):
    start = client.get("/dev/clock").json()
    assert start["offset_days"] == 0 and start["today"] == start["real_today"]
    moved = client.post("/dev/clock", json={"advance_days": 3}).json()
    assert moved["today"] == (date.fromisoformat(start["today"]) + timedelta(days=3)).isoformat()
    assert client.get("/dev/clock").json()["offset_days"] == 3
    assert client.post("/dev/clock", json={"advance_days": -1}).status_code == 422


def test_the_dev_clock_is_not_mounted_in_production(make_client):
    client = make_client(env="production", secret_key=PRODUCTION_SECRET_KEY)
    assert client.get("/dev/clock").status_code == 404
    assert client.post("/dev/clock", json={"advance_days": 1}).status_code == 404


def test_seed_dates_follow_the_sandbox_clock_and_seeding_twice_adds_nothing(make_client, database_url):
    engine = create_db_engine(database_url)
    run_migrations(engine)
    session = create_session_factory(engine)()
    sandbox_clock.advance(session, 30)  # the clock was moved before the sample data was written
    session.close()
    engine.dispose()
    client = make_client()
    today = _today(client)
    assert today - china_today() in (timedelta(days=30), timedelta(days=31))  # 31: midnight passed meanwhile
    code = _code(client, verify(client, LIN_YUE))
    assert code["last_check_in_date"] == (today - timedelta(days=1)).isoformat() and code["streak"] == 5
    make_client()  # a second sandbox process on the same database
    counts = query(
        database_url,
        "SELECT count(*) FROM health_check_ins c JOIN persons p ON p.id = c.person_id WHERE p.id_number = :n",
        n=LIN_YUE.id_number,
    )
    assert counts == [(5,)]
    assert query(database_url, "SELECT count(*) FROM health_risk_persons") == [(1,)]


def test_logs_carry_no_personal_or_health_data(client, caplog):
    caplog.set_level(logging.DEBUG)
    headers = verify(client, LIU_YANG)
    _apply(client, headers, "k", temperature=38.6, key_area_travel=True, area="武汉")
    _check_in(client, headers, "c", temperature=38.4)
    _appeal(client, headers, "a")
    # The sandbox's own log (the test client's request lines are not the service's).
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("services"))
    assert "health code issued" in logged
    for secret in (LIU_YANG.name, LIU_YANG.id_number, LIU_YANG.phone, "38.6", "38.4", "武汉"):
        assert secret not in logged
