"""Vehicle registration transfer (机动车档案电子化网上转递): rules from configuration, ownership that reveals nothing,
every refusal, one open application per vehicle, and stages that follow the sandbox clock."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from bot.masking import is_vin, mask_log_text
from bot.settings import SandboxSettings
from services.app import create_app
from services.db import alembic_config, create_db_engine
from services.logging_setup import MaskingFilter
from services.masking import mask_text
from tests.services.helpers import HUANG_HAI, LIN_YUE, WANG_FANG, ZHANG_WEI, error_of, query, verify

BASE = "/api/v1/vehicle-transfer"
APPLICATIONS = f"{BASE}/applications"
HUANG_CAR = {"plate": "桂A12345", "vin_tail": "123456", "destination_city": "青岛"}
LIN_CAR = {"plate": "浙A8B9C0", "vin_tail": "654321", "destination_city": "青岛"}
WANG_CAR = {"plate": "浙A3D7F2", "vin_tail": "135790", "destination_city": "青岛"}
ZHANG_CAR = {"plate": "桂A7L8M9", "vin_tail": "246801", "destination_city": "青岛"}
QINGDAO_OFFICE = "青岛市公安局交通警察支队车辆管理所"


def _today(client: TestClient) -> date:
    return date.fromisoformat(client.get("/dev/clock").json()["today"])


def _advance(client: TestClient, days: int) -> None:
    response = client.post("/dev/clock", json={"advance_days": days})
    assert response.status_code == 200, response.text


def _check(client: TestClient, headers: dict, car: dict):  # type: ignore[no-untyped-def]
    params = {"vin_tail": car["vin_tail"], "destination_city": car.get("destination_city")}
    return client.get(f"{BASE}/vehicles/{car['plate']}", params=params, headers=headers)


def _apply(client: TestClient, headers: dict, key: str, car: dict):  # type: ignore[no-untyped-def]
    return client.post(APPLICATIONS, json=car, headers={**headers, "Idempotency-Key": key})


def _applications(client: TestClient, headers: dict) -> list[dict]:
    response = client.get(APPLICATIONS, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def _execute(database_url: str, sql: str, **params: object) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(sql), params)
    finally:
        engine.dispose()


def _count_applications(database_url: str) -> int:
    return query(database_url, "SELECT count(*) FROM vehicle_transfer_applications")[0][0]


def _stage_statuses(application: dict) -> dict[str, str]:
    return {stage["code"]: stage["status"] for stage in application["stages"]}


# --- rules from configuration -----------------------------------------------------------------------------------


def test_rules_answer_the_common_questions_from_configuration(client):
    rules = client.get(f"{BASE}/rules").json()
    assert [(reason["code"], reason["name"]) for reason in rules["reasons"]] == [
        ("mortgaged", "抵押"),
        ("seized", "查封"),
        ("stolen", "被盗抢"),
        ("inspection_overdue", "逾期未检验"),
        ("scrapping_standard", "达到报废标准"),
        ("violations", "未处理的违法记录"),
        ("accidents", "未处理的交通事故"),
    ]
    assert all(reason["message"] and reason["next_step"] for reason in rules["reasons"])
    assert [(stage["code"], stage["time_limit_days"]) for stage in rules["stages"]] == [
        ("submitted", None),
        ("archive_sent", 2),
        ("destination_checked", 1),
        ("awaiting_owner", None),
        ("completed", None),
    ]
    qingdao = next(item for item in rules["destinations"] if item["city"] == "青岛")
    assert qingdao["office"] == QINGDAO_OFFICE and "示例地址" in qingdao["address"]
    faq = rules["faq"]
    assert "2日内" in faq["duration"] and "1日内" in faq["duration"]  # 要多久
    assert "不能转出" in faq["violations"]  # 有违章能转吗
    assert "不用回" in faq["inspection"] and "查验一次" in faq["inspection"]  # 要回南宁验车吗
    assert "不用自己带" in faq["paper_file"]  # 纸质档案要自己带吗
    assert (rules["hotline"], rules["sample_data"]) == ("12345", True)


def test_changed_configuration_changes_the_rules(make_client, tmp_path: Path):
    config = yaml.safe_load(SandboxSettings().vehicle_transfer_config.read_text(encoding="utf-8"))
    config["stages"][1]["time_limit_days"] = 3
    config["simulation"]["owner_inspected_after_days"] = None  # the owner never shows up in this sandbox
    config["destinations"] = [item for item in config["destinations"] if item["city"] != "济南"]
    config["reasons"]["violations"]["message"] = "该车有{count}条违法未处理。"
    path = tmp_path / "vehicle_transfer.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    client = make_client(vehicle_transfer_config=path)
    assert client.get(f"{BASE}/rules").json()["stages"][1]["time_limit_days"] == 3
    headers = verify(client, HUANG_HAI)
    assert error_of(_check(client, headers, {**HUANG_CAR, "destination_city": "济南"}))["code"] == (
        "destination_not_served"
    )
    refused = error_of(_apply(client, verify(client, LIN_YUE), "k", LIN_CAR))
    assert refused["details"]["reasons"][0]["message"] == "该车有2条违法未处理。"
    application = _apply(client, headers, "k", HUANG_CAR).json()
    assert application["stages"][1]["due"] == (_today(client) + timedelta(days=3)).isoformat()
    _advance(client, 30)
    assert _applications(client, headers)[0]["stage"] == "awaiting_owner"


def test_a_broken_configuration_is_reported_clearly(tmp_path: Path):
    from services.vehicle_transfer_rules import load_vehicle_transfer_rules

    config = yaml.safe_load(SandboxSettings().vehicle_transfer_config.read_text(encoding="utf-8"))
    del config["reasons"]["stolen"]
    path = tmp_path / "vehicle_transfer.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="reasons missing"):
        load_vehicle_transfer_rules(path)


# --- the seed and the pre-check ----------------------------------------------------------------------------------


def test_seeded_vins_are_plausible(client, database_url):
    vins = dict(query(database_url, "SELECT plate, vin FROM vehicles"))
    assert vins["桂A12345"].endswith("123456") and vins["浙A8B9C0"].endswith("654321")
    assert all(is_vin(vin) for vin in vins.values()), vins  # 17 characters, correct check character


def test_huang_hai_may_transfer_his_car_to_qingdao(client):
    headers = verify(client, HUANG_HAI)
    response = _check(client, headers, {**HUANG_CAR, "plate": "桂a·12345", "destination_city": "山东省青岛市"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["plate"], body["vehicle_type"], body["registered_city"]) == ("桂A12345", "小型汽车", "南宁")
    assert body["origin_office"] == "南宁市公安局交通警察支队车辆管理所"
    assert (body["may_transfer"], body["reasons"], body["open_application"]) == (True, [], None)
    assert body["destination"]["office"] == QINGDAO_OFFICE
    assert date.fromisoformat(body["inspection_valid_until"]) > _today(client)
    without_destination = _check(client, headers, {**HUANG_CAR, "destination_city": None}).json()
    assert without_destination["destination"] is None and without_destination["may_transfer"] is True


@pytest.mark.parametrize(
    ("persona", "car", "code", "words"),
    [
        (LIN_YUE, LIN_CAR, "violations", "2条交通违法记录"),
        (WANG_FANG, WANG_CAR, "mortgaged", "抵押"),
        (ZHANG_WEI, ZHANG_CAR, "inspection_overdue", "检验有效期已于"),
    ],
)
def test_sample_vehicles_are_refused_with_the_reason_and_what_to_do(client, database_url, persona, car, code, words):
    headers = verify(client, persona)
    check = _check(client, headers, car).json()
    assert check["may_transfer"] is False
    assert [reason["code"] for reason in check["reasons"]] == [code]
    reason = check["reasons"][0]
    assert words in reason["message"] and reason["next_step"]
    refused = _apply(client, headers, "k", car)
    assert refused.status_code == 422
    error = error_of(refused)
    assert error["code"] == "vehicle_not_transferable" and error["details"]["reasons"] == check["reasons"]
    assert error["message"].startswith("很抱歉，该车目前不能办理转出：") and reason["message"] in error["message"]
    assert _count_applications(database_url) == 0


def test_violations_carry_their_count(client):
    reason = _check(client, verify(client, LIN_YUE), LIN_CAR).json()["reasons"][0]
    assert (reason["count"], reason["name"]) == (2, "未处理的违法记录")
    assert "交管12123" in reason["next_step"]


def test_overdue_inspection_names_the_date(client, database_url):
    valid_until = query(database_url, "SELECT inspection_valid_until FROM vehicles WHERE plate = '桂A7L8M9'")[0][0]
    valid_until = date.fromisoformat(str(valid_until))
    assert valid_until == _today(client) - timedelta(days=40)
    reason = _check(client, verify(client, ZHANG_WEI), ZHANG_CAR).json()["reasons"][0]
    assert f"{valid_until.year}年{valid_until.month}月{valid_until.day}日" in reason["message"]


def test_every_failing_reason_is_listed_in_order(client, database_url):
    long_ago = _today(client) - timedelta(days=365 * 4)
    _execute(
        database_url,
        "UPDATE vehicles SET mortgaged = :yes, seized = :yes, stolen = :yes, inspection_valid_until = :until, "
        "open_violations = 3, open_accidents = 1 WHERE plate = '桂A12345'",
        yes=True,
        until=long_ago,
    )
    headers = verify(client, HUANG_HAI)
    reasons = _check(client, headers, HUANG_CAR).json()["reasons"]
    assert [reason["code"] for reason in reasons] == [
        "mortgaged",
        "seized",
        "stolen",
        "inspection_overdue",
        "scrapping_standard",
        "violations",
        "accidents",
    ]
    by_code = {reason["code"]: reason for reason in reasons}
    assert "连续3年未检验合格" in by_code["scrapping_standard"]["message"]
    assert (by_code["violations"]["count"], by_code["accidents"]["count"]) == (3, 1)
    assert "1起交通事故" in by_code["accidents"]["message"]
    error = error_of(_apply(client, headers, "k", HUANG_CAR))
    assert error["details"]["reasons"] == reasons
    assert "共有7个原因" in error["message"] and "（7）" in error["message"]
    assert _count_applications(database_url) == 0


def test_a_vehicle_past_its_service_life_is_at_the_scrapping_standard(client, database_url):
    _execute(
        database_url,
        "UPDATE vehicles SET vehicle_type = '大型汽车', registered_on = :on WHERE plate = '桂A12345'",
        on=_today(client) - timedelta(days=365 * 15 + 4),
    )
    reasons = _check(client, verify(client, HUANG_HAI), HUANG_CAR).json()["reasons"]
    assert [reason["code"] for reason in reasons] == ["scrapping_standard"]
    assert "使用年限已满15年" in reasons[0]["message"] and "报废机动车回收企业" in reasons[0]["next_step"]


# --- ownership: nothing leaks ----------------------------------------------------------------------------------------


def test_wrong_vin_someone_elses_plate_and_unknown_plate_look_the_same(client, database_url):
    headers = verify(client, HUANG_HAI)
    wrong_vin = {**HUANG_CAR, "vin_tail": "123457"}
    someone_elses = LIN_CAR  # 林悦's plate with her own, correct VIN tail
    unknown = {**HUANG_CAR, "plate": "桂A99999"}
    checks = [_check(client, headers, car) for car in (wrong_vin, someone_elses, unknown)]
    applies = [_apply(client, headers, f"k{i}", car) for i, car in enumerate((wrong_vin, someone_elses, unknown))]
    for response in checks + applies:
        assert response.status_code == 404
        assert response.json() == checks[0].json()
    error = error_of(checks[0])
    assert error["code"] == "vehicle_not_found" and error["details"] == {}
    assert all(word not in checks[0].text for word in ("林", "浙A8B9C0", "杭州", "违法"))
    assert _count_applications(database_url) == 0


def test_personal_endpoints_need_a_verified_identity(client):
    assert error_of(_check(client, {}, HUANG_CAR))["code"] == "unauthorized"
    assert error_of(_apply(client, {}, "k", HUANG_CAR))["code"] == "unauthorized"
    assert client.get(APPLICATIONS).status_code == 401
    phone_only = verify(client, HUANG_HAI, with_id=False)
    assert error_of(_check(client, phone_only, HUANG_CAR))["code"] == "insufficient_level"


# --- validation: specific Chinese messages ------------------------------------------------------------------------


@pytest.mark.parametrize("plate", ["ABC1234", "桂I12345", "桂A1234", "桂A1234567", "桂12345", "A桂12345"])
def test_invalid_plates_are_refused_with_an_example(client, plate):
    headers = verify(client, HUANG_HAI)
    for response in (_check(client, headers, {**HUANG_CAR, "plate": plate}),
                     _apply(client, headers, "k", {**HUANG_CAR, "plate": plate})):
        error = error_of(response)
        assert (response.status_code, error["code"]) == (422, "invalid_plate")
        assert "桂A12345" in error["message"] and error["details"] == {"field": "plate"}


@pytest.mark.parametrize("tail", ["12345", "1234567", "12345O", "ABCDE!"])
def test_invalid_vin_tails_are_refused(client, tail):
    error = error_of(_apply(client, verify(client, HUANG_HAI), "k", {**HUANG_CAR, "vin_tail": tail}))
    assert error["code"] == "invalid_vin_tail" and "后6位" in error["message"] and "行驶证" in error["message"]


def test_destinations_not_served_or_the_same_city_are_refused(client):
    headers = verify(client, HUANG_HAI)
    error = error_of(_apply(client, headers, "k", {**HUANG_CAR, "destination_city": "拉萨"}))
    assert error["code"] == "destination_not_served" and "青岛" in error["message"]
    assert "拉萨" not in error["message"] and "青岛" in error["details"]["served"]
    same = error_of(_apply(client, verify(client, WANG_FANG), "k", {**WANG_CAR, "destination_city": "杭州市"}))
    assert same["code"] == "destination_same_as_registration" and "无需办理转出" in same["message"]


def test_missing_fields_and_keys_are_named(client):
    headers = verify(client, HUANG_HAI)
    missing = client.post(APPLICATIONS, json={"plate": "桂A12345", "vin_tail": "123456"},
                          headers={**headers, "Idempotency-Key": "k"})
    assert error_of(missing)["message"] == "缺少转入地城市，请补充后重新提交。"
    no_key = client.post(APPLICATIONS, json=HUANG_CAR, headers=headers)
    assert (no_key.status_code, error_of(no_key)["code"]) == (400, "idempotency_key_required")


# --- apply: once per vehicle -----------------------------------------------------------------------------------------


def test_apply_returns_the_number_and_the_stages_and_is_recorded_once(client, database_url):
    headers = verify(client, HUANG_HAI)
    today = _today(client)
    first = _apply(client, headers, "apply-1", HUANG_CAR)
    assert first.status_code == 201, first.text
    application = first.json()
    assert application["application_no"] == f"ZD{today:%Y%m%d}0001"
    assert (application["stage"], application["completed"], application["already_applied"]) == (
        "archive_sent", False, False,
    )
    assert (application["destination_office"], application["origin_city"]) == (QINGDAO_OFFICE, "南宁")
    assert "南宁" in application["paper_file"] and "无需您携带" in application["paper_file"]
    assert "无需回南宁验车" in application["owner_step"]
    due = today + timedelta(days=2)
    assert f"最迟{due.year}年{due.month}月{due.day}日前完成" in application["progress_text"]

    retried = _apply(client, headers, "apply-1", HUANG_CAR)  # the same message retried
    assert (retried.status_code, retried.json()) == (201, application)
    conflict = _apply(client, headers, "apply-1", {**HUANG_CAR, "destination_city": "济南"})
    assert (conflict.status_code, error_of(conflict)["code"]) == (409, "idempotency_conflict")
    again = _apply(client, verify(client, HUANG_HAI), "apply-2", {**HUANG_CAR, "destination_city": "成都"})
    assert again.status_code == 200
    assert again.json()["application_no"] == application["application_no"]
    assert (again.json()["destination_city"], again.json()["already_applied"]) == ("青岛", True)
    assert _count_applications(database_url) == 1
    check = _check(client, headers, HUANG_CAR).json()
    assert check["open_application"] == {
        "application_no": application["application_no"],
        "destination_city": "青岛",
        "stage": "archive_sent",
        "stage_name": "转出地车管所转递电子档案",
    }
    assert [item["application_no"] for item in _applications(client, headers)] == [application["application_no"]]
    assert _applications(client, verify(client, LIN_YUE)) == []  # nobody else sees it


def test_parallel_applications_record_one(client, database_url):
    headers = verify(client, HUANG_HAI)
    keys = ["same"] * 3 + [f"other-{i}" for i in range(5)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda key: _apply(client, headers, key, HUANG_CAR), keys))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert len({r.json()["application_no"] for r in responses}) == 1
    assert _count_applications(database_url) == 1


# --- status: the stages follow the clock ----------------------------------------------------------------------------


def test_stages_move_on_with_the_sandbox_clock(client):
    headers = verify(client, HUANG_HAI)
    day = _today(client)
    assert _apply(client, headers, "k", HUANG_CAR).status_code == 201
    first = _applications(client, headers)[0]
    assert _stage_statuses(first) == {
        "submitted": "done", "archive_sent": "current", "destination_checked": "pending",
        "awaiting_owner": "pending", "completed": "pending",
    }
    stages = {stage["code"]: stage for stage in first["stages"]}
    assert (stages["submitted"]["date"], stages["archive_sent"]["due"]) == (day.isoformat(), str(day + timedelta(2)))
    assert stages["destination_checked"]["due"] == str(day + timedelta(days=3))  # 1 day after the archive's due

    _advance(client, 1)  # the origin office sent the archive
    sent = _applications(client, headers)[0]
    assert sent["stage"] == "destination_checked" and "正在接收核查" in sent["progress_text"]
    stages = {stage["code"]: stage for stage in sent["stages"]}
    assert (stages["archive_sent"]["status"], stages["archive_sent"]["date"]) == ("done", str(day + timedelta(1)))
    assert stages["destination_checked"]["due"] == str(day + timedelta(days=2))

    _advance(client, 1)  # the destination office checked it: the owner's turn
    waiting = _applications(client, headers)[0]
    assert waiting["stage"] == "awaiting_owner" and not waiting["completed"]
    note = {stage["code"]: stage for stage in waiting["stages"]}["awaiting_owner"]["note"]
    assert QINGDAO_OFFICE in note and "示例地址" in note and "查验一次" in note
    assert "无需回南宁验车" in note and "纸质档案留存在南宁" in note
    assert "只等您到转入地查验一次" in waiting["progress_text"]

    _advance(client, 3)  # the sandbox's owner inspected the car
    done = _applications(client, headers)[0]
    assert (done["stage"], done["completed"]) == ("completed", True)
    assert set(_stage_statuses(done).values()) == {"done"}
    assert "已办结" in done["progress_text"]
    # Still the vehicle's application: asking again returns it rather than opening a second one.
    assert _apply(client, headers, "k2", HUANG_CAR).json()["application_no"] == done["application_no"]


# --- personal data in logs ------------------------------------------------------------------------------------------


def test_logs_carry_no_plate_vin_or_name(client, caplog):
    caplog.set_level(logging.DEBUG)
    headers = verify(client, HUANG_HAI)
    _check(client, headers, HUANG_CAR)
    _apply(client, headers, "k", HUANG_CAR)
    _apply(client, verify(client, LIN_YUE), "k", LIN_CAR)
    # The sandbox's own records; the caller's httpx lines (URL with plate and VIN tail) are masked in the caller's
    # process by bot.masking, checked below.
    own = [record for record in caplog.records if record.name.startswith(("services", "uvicorn"))]
    logged = "\n".join(record.getMessage() for record in own)
    assert "vehicle transfer ZD" in logged
    for secret in ("桂A12345", "浙A8B9C0", "123456", "654321", HUANG_HAI.name, LIN_YUE.name):
        assert secret not in logged
    caller = "\n".join(mask_log_text(record.getMessage()) for record in caplog.records if record.name == "httpx")
    assert "桂A***45?vin_tail=******" in caller and "123456" not in caller


def test_access_log_lines_are_masked():
    line = (
        '127.0.0.1:5000 - "GET /api/v1/vehicle-transfer/vehicles/%E6%A1%82A12345?vin_tail=123456'
        '&destination_city=%E9%9D%92%E5%B2%9B HTTP/1.1" 200'
    )
    assert mask_text(line) == (
        '127.0.0.1:5000 - "GET /api/v1/vehicle-transfer/vehicles/桂A***45?vin_tail=******'
        '&destination_city=青岛 HTTP/1.1" 200'
    )
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "%s", ("车架号LFV2A2151K3123456",), None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "车架号LFV**************"


# --- an existing database -------------------------------------------------------------------------------------------


def test_upgrading_an_existing_database_fills_the_vehicle_facts(database_url):
    """Migration 0005 on a database of 0004 whose vehicle rows predate VINs and the other registry facts."""
    engine = create_db_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        connection.execute(
            text("INSERT INTO persons (name, id_number, phone) VALUES (:name, :id_number, :phone)"),
            {"name": HUANG_HAI.name, "id_number": HUANG_HAI.id_number, "phone": HUANG_HAI.phone},
        )
        connection.execute(
            text(
                "INSERT INTO vehicles (person_id, plate, registered_city) "
                "SELECT id, '桂A12345', '南宁' FROM persons WHERE id_number = :id_number"
            ),
            {"id_number": HUANG_HAI.id_number},
        )
    engine.dispose()
    app = create_app(SandboxSettings(database_url=database_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        facts = query(database_url, "SELECT vin, vehicle_type, open_violations FROM vehicles WHERE plate = '桂A12345'")
        assert facts == [("LFV2A2151K3123456", "小型汽车", 0)]
        assert _apply(client, verify(client, HUANG_HAI), "k", HUANG_CAR).status_code == 201
    app.state.engine.dispose()


def test_downgrading_and_upgrading_again_keeps_the_vehicles(database_url):
    app = create_app(SandboxSettings(database_url=database_url))
    app.state.engine.dispose()
    engine = create_db_engine(database_url)
    config = alembic_config()
    for target in ("0004", "head"):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0004" else command.upgrade)(config, target)
    engine.dispose()
    rows = query(database_url, "SELECT plate, registered_city, vin FROM vehicles WHERE plate = '桂A12345'")
    assert rows == [("桂A12345", "南宁", None)]
