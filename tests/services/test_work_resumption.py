"""Enterprise work-resumption filing: rules from configuration, who may act for a company, every refusal, and one
filing per company and planned date."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text
from stdnum.cn import uscc

from bot.settings import SandboxSettings
from services import sandbox_clock
from services.app import create_app
from services.db import alembic_config, create_db_engine
from tests.services.helpers import CHEN_XIAO, WANG_JIANGUO, error_of, query, verify

BASE = "/api/v1/work-resumption"
FILINGS = f"{BASE}/filings"
LVYUAN = "91330110MA2K8L6R2R"  # 杭州绿源食品有限公司: food, 120 staff, legal representative 王建国
XINGGUANG = "91330102MA2J7X4Q84"  # 杭州星光娱乐有限公司: KTV (negative list), contact 王建国
YUNFAN = "91330106MA2H3K5P13"  # 杭州云帆科技有限公司: software, 35 staff, contact 陈晓
NOBODYS = "91330110MA2K8L6R9" + uscc.calc_check_digit("91330110MA2K8L6R9")  # valid, but no such company


def _today(client: TestClient) -> date:
    return date.fromisoformat(client.get(f"{BASE}/rules").json()["today"])


def _working_days_after(start: date, days: int) -> date:
    day = start
    while days:
        day += timedelta(days=1)
        days -= day.weekday() < 5
    return day


def _body(client: TestClient, **changes: object) -> dict:
    body = {
        "credit_code": LVYUAN,
        "planned_date": (_today(client) + timedelta(days=3)).isoformat(),
        "returning_staff": 120,
        "key_area_staff": 6,
        "supplies_days": 7,
        "isolation_rooms": 2,
        "commitment": True,
    }
    return body | changes


def _file(client: TestClient, headers: dict, key: str, body: dict):  # type: ignore[no-untyped-def]
    return client.post(FILINGS, json=body, headers={**headers, "Idempotency-Key": key})


def _advance(client: TestClient, days: int) -> None:
    session = client.app.state.session_factory()
    try:
        sandbox_clock.advance(session, days)
    finally:
        session.close()


# --- rules ------------------------------------------------------------------------------------------------------


def test_rules_come_from_configuration_with_the_earliest_date(client):
    rules = client.get(f"{BASE}/rules").json()
    today = _today(client)
    assert rules["min_days_ahead"] == 3
    assert rules["earliest_planned_date"] == (today + timedelta(days=3)).isoformat()
    assert (rules["min_supplies_days"], rules["staff_per_isolation_room"]) == (3, 100)
    assert [entry["name"] for entry in rules["negative_list"]] == ["KTV等歌舞娱乐场所", "电影院", "洗浴场所"]
    assert all("人员密集的密闭场所" in entry["reason"] and entry["next_step"] for entry in rules["negative_list"])
    assert [(level["code"], level["max_staff"], level["working_days"]) for level in rules["review_levels"]] == [
        ("street", 100, 1),
        ("district", None, 2),
    ]
    assert "承诺" in rules["commitment_text"] and rules["hotline"] == "12345" and rules["sample_data"] is True


def test_the_earliest_date_follows_the_sandbox_clock(client):
    before = date.fromisoformat(client.get(f"{BASE}/rules").json()["earliest_planned_date"])
    _advance(client, 10)
    after = date.fromisoformat(client.get(f"{BASE}/rules").json()["earliest_planned_date"])
    assert after - before == timedelta(days=10)


def test_changing_the_config_file_changes_the_rules(make_client, tmp_path: Path):
    config = yaml.safe_load(SandboxSettings().work_resumption_config.read_text(encoding="utf-8"))
    config["min_days_ahead"] = 5
    config["min_supplies_days"] = 7
    config["review_levels"][0]["max_staff"] = 200
    path = tmp_path / "work_resumption.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    client = make_client(work_resumption_config=path)
    rules = client.get(f"{BASE}/rules").json()
    assert rules["earliest_planned_date"] == (_today(client) + timedelta(days=5)).isoformat()
    headers = verify(client, WANG_JIANGUO)
    assert client.get(f"{BASE}/companies/{LVYUAN}", headers=headers).json()["review_level"]["code"] == "street"
    refused = _file(client, headers, "k", _body(client, planned_date=rules["earliest_planned_date"], supplies_days=5))
    assert error_of(refused)["code"] == "insufficient_supplies" and "7天" in error_of(refused)["message"]


# --- the company check --------------------------------------------------------------------------------------------


def test_company_check_tells_the_chat_who_may_file(client):
    headers = verify(client, WANG_JIANGUO)
    lvyuan = client.get(f"{BASE}/companies/{LVYUAN}", headers=headers).json()
    assert lvyuan["name"] == "杭州绿源食品有限公司" and lvyuan["industry"] == "食品生产"
    assert (lvyuan["staff_count"], lvyuan["role"], lvyuan["role_text"]) == (120, "legal_representative", "法定代表人")
    assert lvyuan["may_file"] is True and lvyuan["refusal"] is None
    assert lvyuan["review_level"]["code"] == "district"
    xingguang = client.get(f"{BASE}/companies/{XINGGUANG.lower()}", headers=headers).json()
    assert (xingguang["role"], xingguang["may_file"]) == ("contact", False)
    assert xingguang["refusal"]["code"] == "industry_not_allowed"
    assert "人员密集的密闭场所" in xingguang["refusal"]["message"] and xingguang["refusal"]["next_step"]
    yunfan = client.get(f"{BASE}/companies/{YUNFAN}", headers=verify(client, CHEN_XIAO)).json()
    assert (yunfan["name"], yunfan["staff_count"], yunfan["may_file"]) == ("杭州云帆科技有限公司", 35, True)
    assert yunfan["review_level"]["code"] == "street"


def test_someone_elses_company_looks_exactly_like_no_company(client):
    headers = verify(client, CHEN_XIAO)
    not_hers = client.get(f"{BASE}/companies/{LVYUAN}", headers=headers)
    missing = client.get(f"{BASE}/companies/{NOBODYS}", headers=headers)
    assert not_hers.status_code == missing.status_code == 404
    assert not_hers.json() == missing.json()
    assert error_of(not_hers)["code"] == "company_not_found_or_not_authorised"
    assert "绿源" not in not_hers.text and "食品" not in not_hers.text
    filed_not_hers = _file(client, headers, "k1", _body(client))
    filed_missing = _file(client, headers, "k2", _body(client, credit_code=NOBODYS))
    assert filed_not_hers.status_code == filed_missing.status_code == 404
    assert filed_not_hers.json() == filed_missing.json() == not_hers.json()
    listed = client.get(FILINGS, params={"credit_code": LVYUAN}, headers=headers)
    assert listed.status_code == 404 and listed.json() == not_hers.json()


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (LVYUAN[:-1] + "A", "checksum"),
        ("91330110MA2K8L6R2", "format"),
        ("91330110MA2K8L6RIO", "format"),  # I and O are not in the GB 32100 alphabet
    ],
)
def test_invalid_credit_codes_are_explained(client, code, reason):
    headers = verify(client, WANG_JIANGUO)
    for response in (
        client.get(f"{BASE}/companies/{code}", headers=headers),
        _file(client, headers, "k", _body(client, credit_code=code)),
    ):
        assert response.status_code == 422
        error = error_of(response)
        assert error["code"] == "invalid_credit_code" and error["details"] == {"field": "credit_code", "reason": reason}
        assert "统一社会信用代码" in error["message"]


def test_an_absurdly_long_code_is_an_invalid_credit_code_too(client):
    error = error_of(_file(client, verify(client, WANG_JIANGUO), "k", _body(client, credit_code="9" * 41)))
    assert (error["code"], error["details"]["field"]) == ("invalid_credit_code", "credit_code")


def test_codes_typed_in_blocks_or_lower_case_are_accepted(client):
    headers = verify(client, WANG_JIANGUO)
    response = client.get(f"{BASE}/companies/{'9133 0110 ma2k 8l6r 2r'}", headers=headers)
    assert response.status_code == 200 and response.json()["credit_code"] == LVYUAN


# --- filing ---------------------------------------------------------------------------------------------------


def test_wang_jianguo_files_for_lvyuan_after_fixing_each_refusal(client):
    headers = verify(client, WANG_JIANGUO)
    today = _today(client)
    earliest = today + timedelta(days=3)

    too_early = _file(client, headers, "k1", _body(client, planned_date=(today + timedelta(days=2)).isoformat()))
    error = error_of(too_early)
    assert (too_early.status_code, error["code"]) == (422, "planned_date_too_early")
    assert error["details"] == {"earliest_planned_date": earliest.isoformat(), "min_days_ahead": 3}
    assert f"{earliest.year}年{earliest.month}月{earliest.day}日" in error["message"]

    # Far-off dates are refused too: one company cannot be filed for on every day of the next years.
    too_late = error_of(_file(client, headers, "k0", _body(client, planned_date="2099-01-01")))
    assert too_late["code"] == "planned_date_too_late"
    assert too_late["details"]["latest_planned_date"] == (today + timedelta(days=90)).isoformat()

    few_supplies = error_of(_file(client, headers, "k2", _body(client, supplies_days=2)))
    assert few_supplies["code"] == "insufficient_supplies" and "3天" in few_supplies["message"]

    one_room = error_of(_file(client, headers, "k3", _body(client, isolation_rooms=1)))
    assert one_room["code"] == "insufficient_isolation_rooms"
    assert one_room["details"]["rooms_needed"] == 2 and "至少2间" in one_room["message"]

    too_many = error_of(_file(client, headers, "k4", _body(client, key_area_staff=121)))
    assert too_many["code"] == "invalid_field" and too_many["details"]["field"] == "key_area_staff"

    no_commitment = _file(client, headers, "k5", _body(client, commitment=False))
    assert error_of(no_commitment)["code"] == "commitment_required"
    assert "本企业承诺" in error_of(no_commitment)["message"]
    assert client.get(FILINGS, headers=headers).json()["items"] == []

    filed = _file(client, headers, "k6", _body(client))
    assert filed.status_code == 201, filed.text
    filing = filed.json()
    assert filing["filing_no"] == f"FG{today:%Y%m%d}0001"
    assert (filing["status"], filing["status_text"]) == ("submitted", "已备案（待审核）")
    assert (filing["company_name"], filing["credit_code"]) == ("杭州绿源食品有限公司", LVYUAN)
    assert filing["planned_date"] == earliest.isoformat() and filing["filed_on"] == today.isoformat()
    assert (filing["review_level_code"], filing["review_level"]) == ("district", "区县级企业复工专班")  # 120 > 100
    assert filing["review_deadline"] == _working_days_after(today, 2).isoformat()
    assert filing["filed_by_masked"] == "王**" and filing["filed_at"].endswith("+08:00")


def test_filing_again_or_retrying_returns_the_one_filing(client):
    headers = verify(client, WANG_JIANGUO)
    first = _file(client, headers, "key-1", _body(client))
    assert first.status_code == 201
    retried = _file(client, headers, "key-1", _body(client))  # the same message retried
    assert (retried.status_code, retried.json()) == (201, first.json())
    again = _file(client, verify(client, WANG_JIANGUO), "key-2", _body(client, supplies_days=10))  # asked later
    assert again.status_code == 200 and again.json() == first.json()
    conflict = _file(client, headers, "key-1", _body(client, supplies_days=9))
    assert (conflict.status_code, error_of(conflict)["code"]) == (409, "idempotency_conflict")

    other_day = _body(client, planned_date=(_today(client) + timedelta(days=4)).isoformat())
    second = _file(client, headers, "key-3", other_day).json()
    assert second["filing_no"].endswith("0002")
    listed = client.get(FILINGS, headers=headers).json()["items"]
    assert [item["filing_no"] for item in listed] == [second["filing_no"], first.json()["filing_no"]]
    only_lvyuan = client.get(FILINGS, params={"credit_code": LVYUAN}, headers=headers).json()["items"]
    assert len(only_lvyuan) == 2
    assert client.get(FILINGS, params={"credit_code": XINGGUANG}, headers=headers).json()["items"] == []
    assert client.get(FILINGS, headers=verify(client, CHEN_XIAO)).json()["items"] == []


def test_a_filing_made_earlier_is_returned_even_when_its_date_is_now_close(client):
    headers = verify(client, WANG_JIANGUO)
    body = _body(client)
    first = _file(client, headers, "k1", body).json()
    _advance(client, 2)  # the planned date is now only one day ahead
    again = _file(client, headers, "k2", body)
    assert again.status_code == 200 and again.json()["filing_no"] == first["filing_no"]


def test_filing_date_and_number_follow_the_sandbox_clock(client):
    _advance(client, 30)
    headers = verify(client, CHEN_XIAO)
    today = _today(client)
    body = _body(client, credit_code=YUNFAN, returning_staff=35, key_area_staff=0, isolation_rooms=1)
    filing = _file(client, headers, "k", body).json()
    assert filing["filing_no"] == f"FG{today:%Y%m%d}0001" and filing["filed_on"] == today.isoformat()
    assert (filing["review_level_code"], filing["review_deadline"]) == (
        "street",
        _working_days_after(today, 1).isoformat(),
    )


def test_a_negative_list_company_is_refused_with_the_reason(client):
    response = _file(client, verify(client, WANG_JIANGUO), "k", _body(client, credit_code=XINGGUANG))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "industry_not_allowed"
    assert "杭州星光娱乐有限公司" in error["message"] and "人员密集的密闭场所" in error["message"]
    assert error["details"]["industry"] == "KTV" and error["details"]["next_step"]
    assert error["details"]["negative_list"] == "KTV等歌舞娱乐场所" and "密闭场所" in error["details"]["reason"]


def test_parallel_duplicates_record_one_filing(client):
    headers = verify(client, WANG_JIANGUO)
    body = _body(client)
    keys = ["same-key"] * 4 + [f"other-key-{i}" for i in range(6)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda key: _file(client, headers, key, body), keys))
    assert all(response.status_code in (200, 201) for response in responses), [r.text for r in responses]
    assert len({response.json()["filing_no"] for response in responses}) == 1
    assert len(client.get(FILINGS, headers=headers).json()["items"]) == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"returning_staff": -1}, "returning_staff"),
        ({"returning_staff": 0}, "returning_staff"),
        ({"key_area_staff": -3}, "key_area_staff"),
        ({"supplies_days": 2.5}, "supplies_days"),
        ({"isolation_rooms": "2"}, "isolation_rooms"),
        ({"planned_date": "下周一"}, "planned_date"),
    ],
)
def test_impossible_numbers_and_dates_are_refused(client, changes, field):
    response = _file(client, verify(client, WANG_JIANGUO), "k", _body(client, **changes))
    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["details"]["field"]) == ("invalid_field", field)


def test_a_missing_field_is_named_in_chinese(client):
    body = _body(client)
    del body["planned_date"]
    error = error_of(_file(client, verify(client, WANG_JIANGUO), "k", body))
    assert error["message"] == "缺少计划复工日期，请补充后重新提交。"


def test_filing_needs_an_idempotency_key(client):
    response = client.post(FILINGS, json=_body(client), headers=verify(client, WANG_JIANGUO))
    assert (response.status_code, error_of(response)["code"]) == (400, "idempotency_key_required")


def test_everything_personal_needs_a_verified_identity(client):
    paths = [("GET", f"{BASE}/companies/{LVYUAN}"), ("GET", FILINGS), ("POST", FILINGS)]
    phone_only = verify(client, WANG_JIANGUO, with_id=False)
    for method, path in paths:
        kwargs = {"json": _body(client)} if method == "POST" else {}
        anonymous = client.request(method, path, headers={"Idempotency-Key": "k"}, **kwargs)
        assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "unauthorized")
        phone = client.request(method, path, headers={**phone_only, "Idempotency-Key": "k"}, **kwargs)
        assert (phone.status_code, error_of(phone)["code"]) == (403, "insufficient_level")
    assert client.get(f"{BASE}/rules").status_code == 200  # the public rules need nobody


def test_logs_carry_no_names_or_id_numbers(client, caplog):
    caplog.set_level(logging.DEBUG)
    headers = verify(client, WANG_JIANGUO)
    _file(client, headers, "k", _body(client))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("services", "uvicorn")))
    assert "work resumption filing FG" in logged
    assert WANG_JIANGUO.name not in logged and WANG_JIANGUO.id_number not in logged
    assert WANG_JIANGUO.phone not in logged


# --- an existing database -------------------------------------------------------------------------------------


def test_upgrading_an_existing_database_fills_enterprise_facts_and_contacts(database_url):
    """Migration 0004 on a database of 0003 whose enterprise rows predate industry and staff counts."""
    engine = create_db_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(
            text(
                "INSERT INTO enterprises (name, credit_code, registered_city) "
                "VALUES ('杭州云帆科技有限公司', :code, '杭州')"
            ),
            {"code": YUNFAN},
        )
    engine.dispose()
    app = create_app(SandboxSettings(database_url=database_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        facts = query(database_url, "SELECT industry, staff_count FROM enterprises WHERE credit_code = :c", c=YUNFAN)
        assert facts == [("软件和信息技术服务", 35)]
        company = client.get(f"{BASE}/companies/{YUNFAN}", headers=verify(client, CHEN_XIAO))
        assert company.status_code == 200 and company.json()["may_file"] is True
        assert _file(client, verify(client, WANG_JIANGUO), "k", _body(client)).status_code == 201
    app.state.engine.dispose()


def test_downgrading_and_upgrading_again_keeps_the_registry(database_url):
    app = create_app(SandboxSettings(database_url=database_url))
    app.state.engine.dispose()
    engine = create_db_engine(database_url)
    config = alembic_config()
    for target in ("0003", "head"):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0003" else command.upgrade)(config, target)
    engine.dispose()
    names = query(database_url, "SELECT name FROM enterprises WHERE credit_code = :c", c=LVYUAN)
    assert names == [("杭州绿源食品有限公司",)]
    assert query(database_url, "SELECT industry FROM enterprises WHERE credit_code = :c", c=LVYUAN) == [(None,)]
