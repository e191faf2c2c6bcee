"""Court and procuratorate (移动微法院, 检察院 video hearings): rules from configuration, a party's own cases with one
no-leak answer for everyone else's, case numbers in their usual writings, online-hearing consent recorded once,
mediation signatures once per party and version (a new version voids them), dates relative to the sandbox clock."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from bot.case_numbers import normalise_case_number
from bot.settings import SandboxSettings
from services.app import create_app
from services.court_rules import load_court_rules
from services.db import alembic_config, create_db_engine
from services.masking import mask_text
from services.models import Base
from tests.services.helpers import (
    CHEN_XIAO,
    HUANG_HAI,
    LIN_YUE,
    PRODUCTION_SECRET_KEY,
    error_of,
    query,
    verify,
)

BASE = "/api/v1/court"
RENTAL = "(2020)浙0106民初1234号"  # 陈晓 v. 赵国华: hearing H0001 in 7 days
SHOPPING = "(2020)浙0192民初567号"  # 陈晓 v. a company: agreement version 1, the company has signed
LOAN = "(2020)浙0106民初9999号"  # 林悦's case only
NOBODYS = "(2020)浙0106民初8888号"
PUBLISH = "/dev/court/mediation-version"


def _today(client: TestClient) -> date:
    return date.fromisoformat(client.get("/dev/clock").json()["today"])


def _advance(client: TestClient, days: int) -> None:
    assert client.post("/dev/clock", json={"advance_days": days}).status_code == 200


def _get(client: TestClient, path: str, headers: dict) -> dict:
    response = client.get(f"{BASE}{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _consent(client: TestClient, headers: dict, key: str, hearing_id: str, agree: bool):  # type: ignore[no-untyped-def]
    return client.post(
        f"{BASE}/hearings/{hearing_id}/consent", json={"agree": agree}, headers={**headers, "Idempotency-Key": key}
    )


def _sign(client: TestClient, headers: dict, key: str, case_number: str, version: int):  # type: ignore[no-untyped-def]
    return client.post(
        f"{BASE}/cases/{case_number}/mediation/signature", json={"version": version},
        headers={**headers, "Idempotency-Key": key},
    )


def _count(database_url: str, table: str) -> int:
    return query(database_url, f"SELECT count(*) FROM {table}")[0][0]  # noqa: S608 - table names of this test


def _at(day: date, clock: str) -> str:
    return f"{day.isoformat()}T{clock}:00+08:00"


# --- rules from configuration ----------------------------------------------------------------------


def test_rules_answer_the_common_questions_with_their_basis(client):
    rules = client.get(f"{BASE}/rules").json()
    assert set(rules) == {
        "faq", "hotline", "joining_instructions", "identity_recheck", "in_court_note", "procuratorate_note",
        "sample_data",
    }
    faq = rules["faq"]
    assert set(faq) == {
        "online_refusal", "online_how", "identity_check", "mediation_effect", "litigation_fee", "case_stages",
        "procuratorate_hearing", "reschedule",
    }
    assert "法释〔2021〕12号" in faq["online_refusal"] and "线下开庭" in faq["online_refusal"]
    assert "12368" in faq["online_refusal"] and "合理期限" in faq["online_refusal"]
    assert "人脸识别" in faq["identity_check"]
    assert "民事诉讼法" in faq["mediation_effect"] and "强制执行" in faq["mediation_effect"]
    assert "7日内" in faq["litigation_fee"] and "国务院令第481号" in faq["litigation_fee"]
    assert "第二十二条" in faq["litigation_fee"] and "减半" in faq["litigation_fee"] and "缓交" in faq["litigation_fee"]
    hearing = faq["procuratorate_hearing"]
    assert "人民检察院审查案件听证工作规定" in hearing and "书面意见" in hearing
    assert "延期开庭" in faq["reschedule"] and "12368" in faq["reschedule"]
    assert all("调解中" in faq["case_stages"] and name in faq["case_stages"] for name in ("已立案", "已结案"))
    assert (rules["hotline"], rules["sample_data"]) == ("12368", True)
    assert "移动微法院" in rules["joining_instructions"] and "12309" in rules["procuratorate_note"]


def test_changed_configuration_changes_the_wording(make_client, tmp_path: Path):
    config = yaml.safe_load(SandboxSettings().court_config.read_text(encoding="utf-8"))
    config["faq"]["litigation_fee"] = "诉讼费按法院通知交纳（测试）。"
    config["mediation"]["review_days"] = 3
    path = tmp_path / "court.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    client = make_client(court_config=path)
    assert client.get(f"{BASE}/rules").json()["faq"]["litigation_fee"] == "诉讼费按法院通知交纳（测试）。"
    signed = _sign(client, verify(client, CHEN_XIAO), "k", SHOPPING, 1).json()
    assert "3个工作日内" in signed["next_step"]


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda config: config["faq"].pop("reschedule"), "faq missing"),
        (lambda config: config["stages"].pop(), "stages must be exactly"),
        (lambda config: config["mediation"].update(all_signed="{court}{nonsense}"), "unknown placeholder"),
    ],
)
def test_a_broken_configuration_stops_the_start(make_client, tmp_path: Path, change, problem):
    config = yaml.safe_load(SandboxSettings().court_config.read_text(encoding="utf-8"))
    change(config)
    path = tmp_path / "court.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as caught:
        load_court_rules(path)
    assert str(path) in str(caught.value)
    with pytest.raises(ValueError, match=problem):
        make_client(court_config=path)


# --- case numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("(2020)浙0106民初1234号", RENTAL),
        ("（2020）浙0106民初1234号", RENTAL),
        ("〔2020〕浙0106民初1234号", RENTAL),
        ("[2020]浙0106民初1234号", RENTAL),
        ("【2020】浙0106民初1234", RENTAL),
        ("  (2020)浙0106民初1234  ", RENTAL),
        ("（２０２０）浙０１０６民初１２３４号", RENTAL),
        ("(2020) 浙0106 民初 1234 号", RENTAL),
        ("2020浙0106民初1234号", RENTAL),
        ("(2020)浙0106民初01234号", RENTAL),
        ("(2021)浙民终88号", "(2021)浙民终88号"),
        ("(2020)最高法民申7号", "(2020)最高法民申7号"),
        ("(2020)浙0192执保3", "(2020)浙0192执保3号"),
        ("2020浙0106民初", None),
        ("(2020)浙0106民初号", None),
        ("(2020)浙0106民初0号", None),
        ("(20)浙0106民初1234号", None),
        ("(2020)AB0106民初1234号", None),
        ("(2020)浙0106民初1234号号", None),
        ("浙0106民初1234号", None),
        ("", None),
        ("(2020)浙0106民初" + "1" * 60 + "号", None),
    ],
)
def test_case_numbers_in_their_usual_writings(typed, canonical):
    assert normalise_case_number(typed) == canonical


@pytest.mark.parametrize("typed", ["（2020）浙0106民初1234号", "〔2020〕浙0106民初1234", "[2020]浙0106民初1234号 "])
def test_every_writing_finds_the_case(client, typed):
    case = _get(client, f"/cases/{typed}", verify(client, CHEN_XIAO))
    assert case["case_number"] == RENTAL


def test_a_malformed_case_number_is_explained_with_an_example(client):
    headers = verify(client, CHEN_XIAO)
    for response in (
        client.get(f"{BASE}/cases/浙0106民初1234号", headers=headers),
        client.get(f"{BASE}/cases/abc/mediation", headers=headers),
        _sign(client, headers, "k", "12345", 1),
    ):
        error = error_of(response)
        assert (response.status_code, error["code"]) == (422, "invalid_case_number")
        assert RENTAL in error["message"] and error["details"] == {"field": "case_number", "example": RENTAL}
    too_long = client.get(f"{BASE}/cases/{'(2020)浙0106民初' + '1' * 80 + '号'}", headers=headers)
    assert (too_long.status_code, error_of(too_long)["code"]) == (422, "invalid_case_number")
    absurd = client.get(f"{BASE}/cases/{'1' * 300}", headers=headers)  # bounded before anything reads it
    assert absurd.status_code == 422 and error_of(absurd)["details"]["field"] == "case_number"


# --- cases: her own, and nothing of anyone else's --------------------------------------------------


def test_chen_xiao_sees_her_cases_newest_first(client):
    headers = verify(client, CHEN_XIAO)
    today = _today(client)
    shopping, rental = _get(client, "/cases", headers)["items"]
    assert rental == {
        "case_number": RENTAL,
        "court": "杭州市西湖区人民法院",
        "cause": "房屋租赁合同纠纷（押金返还）",
        "role": "原告",
        "stage": "hearing_scheduled",
        "stage_name": "已排期开庭",
        "next_step": rental["next_step"],
        "next_date": _at(today + timedelta(days=7), "10:00"),
        "judge": "王法官",
        "other_parties": ["赵**", "杭州安居房产经纪有限公司"],
        "has_hearing": True,
        "has_mediation": False,
    }
    when = today + timedelta(days=7)
    assert f"{when.year}年{when.month}月{when.day}日10:00" in rental["next_step"] and "第三法庭" in rental["next_step"]
    assert "需要您同意" in rental["next_step"]
    assert (shopping["case_number"], shopping["court"], shopping["stage"]) == (SHOPPING, "杭州互联网法院", "mediation")
    assert (shopping["has_mediation"], shopping["has_hearing"], shopping["next_date"]) == (True, False, None)
    assert "确认无误后签署" in shopping["next_step"]
    assert _get(client, f"/cases/{RENTAL}", headers) == rental
    assert [case["case_number"] for case in _get(client, "/cases", verify(client, LIN_YUE))["items"]] == [LOAN]
    assert _get(client, "/cases", verify(client, HUANG_HAI))["items"] == []


def test_someone_elses_case_looks_exactly_like_no_case(client, database_url, caplog):
    caplog.set_level(logging.INFO)
    headers = verify(client, CHEN_XIAO)
    responses = [
        client.get(f"{BASE}/cases/{LOAN}", headers=headers),
        client.get(f"{BASE}/cases/{NOBODYS}", headers=headers),
        client.get(f"{BASE}/cases/{LOAN}/mediation", headers=headers),
        client.get(f"{BASE}/cases/{NOBODYS}/mediation", headers=headers),
        _sign(client, headers, "k1", LOAN, 1),
        _sign(client, headers, "k2", NOBODYS, 1),
    ]
    for response in responses:
        assert response.status_code == 404
        assert response.json() == responses[0].json()
    error = error_of(responses[0])
    assert error["code"] == "case_not_found" and error["details"] == {} and "12368" in error["message"]
    assert all(word not in responses[0].text for word in ("林", "孙", "民间借贷", "陈法官"))
    person_id = query(database_url, "SELECT id FROM persons WHERE id_number = :n", n=CHEN_XIAO.id_number)[0][0]
    attempts = query(
        database_url, "SELECT person_id, case_number, action, outcome FROM court_access_attempts ORDER BY id"
    )
    assert attempts == [
        (person_id, LOAN, "case", "not_a_party"),
        (person_id, NOBODYS, "case", "no_such_case"),
        (person_id, LOAN, "mediation", "not_a_party"),
        (person_id, NOBODYS, "mediation", "no_such_case"),
        (person_id, LOAN, "signature", "not_a_party"),
        (person_id, NOBODYS, "signature", "no_such_case"),
    ]
    refused = [r.getMessage() for r in caplog.records if r.name == "services.court" and "refused" in r.getMessage()]
    assert f"court case {LOAN}: case refused for person {person_id} (not_a_party)" in refused
    assert _get(client, f"/cases/{LOAN}", verify(client, LIN_YUE))["role"] == "原告"  # still hers


def test_personal_endpoints_need_a_verified_identity(client):
    personal = [
        ("GET", "/cases"), ("GET", f"/cases/{RENTAL}"), ("GET", "/hearings"), ("GET", "/mediations"),
        ("GET", f"/cases/{SHOPPING}/mediation"), ("POST", "/hearings/H0001/consent"),
        ("POST", f"/cases/{SHOPPING}/mediation/signature"),
    ]
    phone_only = verify(client, CHEN_XIAO, with_id=False)
    for method, path in personal:
        body = {"agree": True} if path.endswith("consent") else {"version": 1}
        anonymous = client.request(method, f"{BASE}{path}", json=body, headers={"Idempotency-Key": "k"})
        assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "unauthorized"), path
        low = client.request(method, f"{BASE}{path}", json=body, headers={**phone_only, "Idempotency-Key": "k"})
        assert (low.status_code, error_of(low)["code"]) == (403, "insufficient_level"), path


# --- hearings and consent --------------------------------------------------------------------------


def test_each_person_sees_her_own_hearings_dated_by_the_sandbox_clock(client):
    today = _today(client)
    [hearing] = _get(client, "/hearings", verify(client, CHEN_XIAO))["items"]
    assert hearing["hearing_id"] == "H0001" and hearing["kind"] == "court"
    assert (hearing["organ"], hearing["case_number"]) == ("杭州市西湖区人民法院", RENTAL)
    assert hearing["scheduled_at"] == _at(today + timedelta(days=7), "10:00")
    assert "第三法庭" in hearing["place"] and "示例地址" in hearing["place"]
    assert (hearing["online_possible"], hearing["mode"], hearing["consent"], hearing["consent_at"]) == (
        True, "pending", None, None,
    )
    assert hearing["joining_instructions"] == "" and "人脸识别" in hearing["identity_recheck"]
    assert "同等法律效力" in hearing["how_it_works"]
    [procuratorate] = _get(client, "/hearings", verify(client, HUANG_HAI))["items"]
    assert (procuratorate["hearing_id"], procuratorate["kind"], procuratorate["case_number"]) == (
        "H0003", "procuratorate", None,
    )
    assert procuratorate["organ"] == "杭州市西湖区人民检察院" and "不起诉" in procuratorate["subject"]
    assert procuratorate["scheduled_at"] == _at(today + timedelta(days=5), "14:30")
    assert procuratorate["mode"] == "pending" and "检察官" in procuratorate["how_it_works"]
    [loan] = _get(client, "/hearings", verify(client, LIN_YUE))["items"]
    assert (loan["hearing_id"], loan["case_number"]) == ("H0002", LOAN)


def test_past_hearings_drop_out_of_the_list_and_cannot_be_consented_to(client):
    headers = verify(client, CHEN_XIAO)
    _advance(client, 7)  # the hearing is today: still listed
    assert [item["hearing_id"] for item in _get(client, "/hearings", headers)["items"]] == ["H0001"]
    _advance(client, 1)
    assert _get(client, "/hearings", headers)["items"] == []
    case = _get(client, f"/cases/{RENTAL}", headers)
    assert (case["has_hearing"], case["next_date"]) == (False, None) and "传票" in case["next_step"]
    over = _consent(client, headers, "k", "H0001", True)
    assert (over.status_code, error_of(over)["code"]) == (422, "hearing_over")


def test_consent_is_recorded_once(client, database_url):
    headers = verify(client, CHEN_XIAO)
    first = _consent(client, headers, "consent-1", "h0001", True)  # ids are case-insensitive
    assert first.status_code == 201, first.text
    hearing = first.json()
    assert (hearing["hearing_id"], hearing["mode"], hearing["consent"], hearing["already_recorded"]) == (
        "H0001", "online", "agreed", False,
    )
    assert datetime.fromisoformat(hearing["consent_at"]).utcoffset() == timedelta(hours=8)
    assert "移动微法院" in hearing["joining_instructions"]
    retried = _consent(client, headers, "consent-1", "H0001", True)
    assert (retried.status_code, retried.json()) == (201, hearing)
    conflict = _consent(client, headers, "consent-1", "H0001", False)
    assert (conflict.status_code, error_of(conflict)["code"]) == (409, "idempotency_conflict")
    again = _consent(client, verify(client, CHEN_XIAO), "consent-2", "H0001", True)
    assert again.status_code == 200 and again.json() == {**hearing, "already_recorded": True}
    changed = _consent(client, headers, "consent-3", "H0001", False)
    error = error_of(changed)
    assert (changed.status_code, error["code"], error["details"]) == (409, "consent_already_recorded",
                                                                       {"consent": "agreed"})
    assert "已经同意在线开庭" in error["message"] and "承办法官" in error["message"] and "12368" in error["message"]
    assert _get(client, "/hearings", headers)["items"][0]["mode"] == "online"
    assert "已同意在线开庭" in _get(client, f"/cases/{RENTAL}", headers)["next_step"]
    assert _count(database_url, "court_hearing_consents") == 1


def test_a_procuratorate_hearing_can_be_refused(client):
    headers = verify(client, HUANG_HAI)
    refused = _consent(client, headers, "k", "H0003", False)
    assert refused.status_code == 201
    assert (refused.json()["mode"], refused.json()["consent"], refused.json()["joining_instructions"]) == (
        "in_person", "refused", "",
    )
    change = error_of(_consent(client, headers, "k2", "H0003", True))
    assert change["code"] == "consent_already_recorded" and change["details"] == {"consent": "refused"}
    assert "检察官" in change["message"] and "12309" in change["message"]


def test_someone_elses_or_an_unknown_hearing_is_not_found(client, database_url):
    headers = verify(client, CHEN_XIAO)
    responses = [_consent(client, headers, "a", "H0002", True), _consent(client, headers, "b", "H0003", True),
                 _consent(client, headers, "c", "H9999", True)]
    for response in responses:
        assert response.status_code == 404 and response.json() == responses[0].json()
    assert error_of(responses[0])["code"] == "hearing_not_found"
    assert _count(database_url, "court_hearing_consents") == 0


def test_consent_needs_a_key_and_an_answer(client):
    headers = verify(client, CHEN_XIAO)
    no_key = client.post(f"{BASE}/hearings/H0001/consent", json={"agree": True}, headers=headers)
    assert (no_key.status_code, error_of(no_key)["code"]) == (400, "idempotency_key_required")
    no_answer = client.post(f"{BASE}/hearings/H0001/consent", json={}, headers={**headers, "Idempotency-Key": "k"})
    error = error_of(no_answer)
    assert (no_answer.status_code, error["code"], error["details"]["field"]) == (422, "invalid_field", "agree")
    assert "同意" in error["message"]
    not_bool = client.post(f"{BASE}/hearings/H0001/consent", json={"agree": "yes"},
                           headers={**headers, "Idempotency-Key": "k"})
    assert not_bool.status_code == 422 and "yes" not in not_bool.text


def test_parallel_consents_record_one(make_server, database_url):
    url = make_server()
    with httpx.Client(base_url=url, timeout=30) as http:
        headers = verify(http, CHEN_XIAO)
        keys = ["same"] * 3 + [f"other-{i}" for i in range(5)]

        def give(key: str) -> httpx.Response:
            return http.post(f"{BASE}/hearings/H0001/consent", json={"agree": True},
                             headers={**headers, "Idempotency-Key": key})

        with ThreadPoolExecutor(max_workers=8) as pool:
            responses = list(pool.map(give, keys))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert 201 in [r.status_code for r in responses]
    assert len({r.json()["consent_at"] for r in responses}) == 1
    assert _count(database_url, "court_hearing_consents") == 1


# --- mediation agreements --------------------------------------------------------------------------


def test_the_agreement_waits_for_her_signature(client):
    headers = verify(client, CHEN_XIAO)
    mediation = _get(client, "/cases/（2020）浙0192民初567号/mediation", headers)
    assert (mediation["case_number"], mediation["court"], mediation["version"]) == (SHOPPING, "杭州互联网法院", 1)
    text = mediation["text"]
    assert "调解协议" in text and "6,999元" in text and "案件受理费" in text and "减半" in text
    pay_by = _today(client) + timedelta(days=15)
    assert f"{pay_by.year}年{pay_by.month}月{pay_by.day}日前" in text  # the payment date follows the clock
    assert [(p["role"], p["name"], p["signed"]) for p in mediation["parties"]] == [
        ("原告", "陈*", False), ("被告", "杭州优选汇电子商务有限公司", True),
    ]
    published, company_signed = (datetime.fromisoformat(mediation[key] if key else mediation["parties"][1]["signed_at"])
                                  for key in ("published_at", None))
    assert published < company_signed < datetime.fromisoformat(client.get("/dev/clock").json()["now"])
    assert (mediation["signed_by_me"], mediation["my_signed_at"], mediation["all_signed"]) == (False, None, False)
    assert mediation["waiting_for"] == ["原告陈*"] and mediation["voided_versions"] == 0
    assert "确认无误后签署" in mediation["next_step"] and "其他当事人均已签署" in mediation["next_step"]
    assert _get(client, "/mediations", headers)["items"] == [mediation]
    assert _get(client, "/mediations", verify(client, LIN_YUE))["items"] == []
    none = client.get(f"{BASE}/cases/{RENTAL}/mediation", headers=headers)
    assert (none.status_code, error_of(none)["code"]) == (404, "no_mediation")
    assert error_of(_sign(client, headers, "k", RENTAL, 1))["code"] == "no_mediation"


def test_her_signature_is_recorded_once(client, database_url):
    headers = verify(client, CHEN_XIAO)
    first = _sign(client, headers, "sign-1", SHOPPING, 1)
    assert first.status_code == 201, first.text
    signed = first.json()
    assert (signed["signed_by_me"], signed["all_signed"], signed["waiting_for"], signed["already_signed"]) == (
        True, True, [], False,
    )
    assert signed["my_signed_at"] == signed["parties"][0]["signed_at"] and signed["parties"][0]["signed"]
    assert all(words in signed["next_step"] for words in ("司法确认", "5个工作日内", "调解书"))
    retried = _sign(client, headers, "sign-1", SHOPPING, 1)
    assert (retried.status_code, retried.json()) == (201, signed)
    again = _sign(client, verify(client, CHEN_XIAO), "sign-2", SHOPPING, 1)
    assert again.status_code == 200 and again.json() == {**signed, "already_signed": True}
    assert _count(database_url, "court_mediation_signatures") == 2  # the company's and hers
    case = _get(client, f"/cases/{SHOPPING}", headers)
    assert "司法确认" in case["next_step"]


def test_parallel_signatures_record_one(make_server, database_url):
    url = make_server()
    with httpx.Client(base_url=url, timeout=30) as http:
        headers = verify(http, CHEN_XIAO)

        def sign(key: str) -> httpx.Response:
            return http.post(f"{BASE}/cases/{SHOPPING}/mediation/signature", json={"version": 1},
                             headers={**headers, "Idempotency-Key": key})

        with ThreadPoolExecutor(max_workers=6) as pool:
            responses = list(pool.map(sign, [f"key-{i}" for i in range(6)]))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["my_signed_at"] for r in responses}) == 1
    assert _count(database_url, "court_mediation_signatures") == 2


def test_a_new_version_voids_the_signatures(client, database_url):
    headers = verify(client, CHEN_XIAO)
    assert _sign(client, headers, "v1", SHOPPING, 1).status_code == 201
    revised = "调解协议（第二版，示例）"
    published = client.post(PUBLISH, json={"case_number": "（2020）浙0192民初567号", "text": revised})
    assert published.status_code == 201, published.text
    public = published.json()
    assert (public["version"], public["voided_versions"], public["all_signed"]) == (2, 1, False)
    assert "signed_by_me" not in public and "my_signed_at" not in public
    assert not any(party["signed"] for party in public["parties"])
    assert query(database_url, "SELECT count(*) FROM court_mediation_signatures WHERE void = :yes", yes=True) == [(2,)]

    mediation = _get(client, f"/cases/{SHOPPING}/mediation", headers)
    assert (mediation["version"], mediation["text"], mediation["signed_by_me"]) == (2, revised, False)
    assert mediation["waiting_for"] == ["原告陈*", "被告杭州优选汇电子商务有限公司"]
    assert "除您之外，尚待被告杭州优选汇电子商务有限公司签署" in mediation["next_step"]
    old = _sign(client, headers, "v1-again", SHOPPING, 1)
    error = error_of(old)
    assert (old.status_code, error["code"], error["details"]) == (409, "agreement_version_changed",
                                                                   {"current_version": 2})
    assert "重新阅读" in error["message"]
    new = _sign(client, headers, "v2", SHOPPING, 2)
    assert new.status_code == 201 and new.json()["waiting_for"] == ["被告杭州优选汇电子商务有限公司"]
    assert "您已签署" in new.json()["next_step"] and not new.json()["all_signed"]
    assert _count(database_url, "court_mediation_signatures") == 3  # two void, one valid


def test_signature_needs_a_version(client):
    headers = verify(client, CHEN_XIAO)
    for body in ({}, {"version": 0}, {"version": "1"}, {"version": True}):
        response = client.post(f"{BASE}/cases/{SHOPPING}/mediation/signature", json=body,
                               headers={**headers, "Idempotency-Key": "k"})
        assert response.status_code == 422 and error_of(response)["details"]["field"] == "version", body


def test_publishing_needs_a_known_case(client):
    unknown = client.post(PUBLISH, json={"case_number": NOBODYS, "text": "x"})
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "case_not_found")
    first = client.post(PUBLISH, json={"case_number": RENTAL, "text": "租赁押金调解协议（示例）"})
    assert first.status_code == 201 and first.json()["version"] == 1
    assert _get(client, f"/cases/{RENTAL}", verify(client, CHEN_XIAO))["has_mediation"] is True


def test_the_dev_route_is_absent_in_production(make_client):
    client = make_client(env="production", secret_key=PRODUCTION_SECRET_KEY)
    response = client.post(PUBLISH, json={"case_number": SHOPPING, "text": "x"})
    assert (response.status_code, error_of(response)["code"]) == (404, "not_found")
    assert not any(path.startswith("/dev") for path in client.get("/openapi.json").json()["paths"])
    assert client.get(f"{BASE}/rules").status_code == 200


# --- seed, logs, schema ----------------------------------------------------------------------------


def test_seeding_twice_adds_nothing(database_url):
    tables = ["court_cases", "court_parties", "court_hearings", "court_hearing_invitees",
              "court_mediation_agreements", "court_mediation_signatures"]
    counts = []
    for _ in range(2):
        app = create_app(SandboxSettings(database_url=database_url))
        app.state.engine.dispose()
        counts.append([_count(database_url, table) for table in tables])
    assert counts[0] == counts[1] == [3, 7, 3, 1, 1, 1]


def test_logs_name_no_party(client, caplog):
    caplog.set_level(logging.DEBUG)
    headers = verify(client, CHEN_XIAO)
    _get(client, "/cases", headers)
    client.get(f"{BASE}/cases/{LOAN}", headers=headers)
    _consent(client, headers, "consent", "H0001", True)
    _sign(client, headers, "signature", SHOPPING, 1)
    own = [record for record in caplog.records if record.name.startswith(("services", "uvicorn"))]
    logged = "\n".join(record.getMessage() for record in own)
    assert "hearing H0001: consent agreed" in logged and f"mediation {SHOPPING} v1: signed" in logged
    for secret in (CHEN_XIAO.name, LIN_YUE.name, "赵国华", "孙建明", CHEN_XIAO.id_number):
        assert secret not in logged


def test_access_log_keeps_case_numbers_readable():
    line = (
        '127.0.0.1:5000 - "GET /api/v1/court/cases/%282020%29%E6%B5%990106%E6%B0%91%E5%88%9D1234%E5%8F%B7 '
        'HTTP/1.1" 200'
    )
    assert mask_text(line) == f'127.0.0.1:5000 - "GET /api/v1/court/cases/{RENTAL} HTTP/1.1" 200'
    assert "330106199503140023" not in mask_text(f"GET /x?id_number=330106199503140023 {RENTAL}")


def test_the_migration_matches_the_models_and_downgrades(database_url):
    app = create_app(SandboxSettings(database_url=database_url))
    app.state.engine.dispose()
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in differences if "court" in repr(diff)] == []
    config = alembic_config()
    for target in ("0006", "head"):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0006" else command.upgrade)(config, target)
    engine.dispose()
    assert _count(database_url, "court_cases") == 0  # the tables are back, empty until the next start seeds them
