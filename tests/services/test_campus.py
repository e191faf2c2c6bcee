"""Campus recruitment: fair and position search, one registration per phone per fair."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from services.clock import china_today
from tests.services.helpers import CHEN_XIAO, LIU_YANG, error_of, verify

FAIRS = "/api/v1/campus/job-fairs"
POSITIONS = "/api/v1/campus/positions"
FORM = {
    "name": "刘洋",
    "school": "浙江大学",
    "major": "计算机科学与技术",
    "degree": "本科",
    "graduation_year": 2020,
}


def _all_fairs(client, **params):  # type: ignore[no-untyped-def]
    return client.get(FAIRS, params={"page_size": 50, **params}).json()


def _register(client, headers, fair_id, key, form=FORM):  # type: ignore[no-untyped-def]
    return client.post(
        f"{FAIRS}/{fair_id}/registrations", json=form, headers={**headers, "Idempotency-Key": key}
    )


def test_catalogue_has_many_fairs_in_many_cities_and_online(shared_client):
    body = _all_fairs(shared_client, include_past="true")
    fairs = body["items"]
    assert body["total"] >= 30
    assert len({fair["city"] for fair in fairs if fair["city"]}) >= 8
    assert any(fair["online"] for fair in fairs)
    statuses = {fair["fair_id"]: fair["status"] for fair in fairs}
    assert statuses["JF0001"] == statuses["JF0002"] == "past"
    assert statuses["JF0003"] == "full"
    assert list(statuses.values()).count("open") >= 25
    industries = {industry for fair in fairs for industry in fair["industries"]}
    assert {"互联网", "金融", "制造业", "教育", "医疗健康", "新能源"} <= industries


def test_seed_dates_are_relative_to_today(shared_client):
    today = china_today()
    fairs = _all_fairs(shared_client)["items"]
    starts = [date.fromisoformat(fair["start_date"]) for fair in fairs]
    assert starts == sorted(starts)
    assert sum(1 for start in starts if today <= start <= today + timedelta(days=60)) >= 20


def test_past_fairs_are_hidden_unless_asked_for(shared_client):
    ids = {fair["fair_id"] for fair in _all_fairs(shared_client)["items"]}
    assert "JF0001" not in ids and "JF0002" not in ids


def test_results_are_paged_five_at_a_time(shared_client):
    first = shared_client.get(FAIRS).json()
    second = shared_client.get(FAIRS, params={"page": 2}).json()
    assert (first["page"], first["page_size"], len(first["items"])) == (1, 5, 5)
    assert first["total"] > 10
    assert not {f["fair_id"] for f in first["items"]} & {f["fair_id"] for f in second["items"]}


def test_filter_by_city_online_industry_major_and_dates(shared_client):
    hangzhou = _all_fairs(shared_client, city="杭州市")["items"]
    assert hangzhou and all(fair["city"] == "杭州" for fair in hangzhou)
    online = _all_fairs(shared_client, online="true")["items"]
    assert len(online) >= 3 and all(fair["online"] and fair["city"] is None for fair in online)
    medical = _all_fairs(shared_client, industry="医疗健康")["items"]
    assert medical and all("医疗健康" in fair["industries"] for fair in medical)
    for fair in _all_fairs(shared_client, major="计算机")["items"]:
        assert "不限" in fair["majors"] or any("计算机" in major for major in fair["majors"])
    today = china_today()
    window = _all_fairs(
        shared_client, date_from=today.isoformat(), date_to=(today + timedelta(days=7)).isoformat()
    )
    for fair in window["items"]:
        assert date.fromisoformat(fair["start_date"]) <= today + timedelta(days=7)


def test_one_fair_and_unknown_fair(shared_client):
    fair = shared_client.get(f"{FAIRS}/jf0005").json()
    assert fair["fair_id"] == "JF0005" and fair["status"] == "open"
    error = error_of(shared_client.get(f"{FAIRS}/JF9999"))
    assert error["code"] == "unknown_fair"


def test_positions_by_city_major_and_degree(shared_client):
    everything = shared_client.get(POSITIONS, params={"page_size": 50}).json()
    assert everything["total"] >= 60
    vocational = shared_client.get(POSITIONS, params={"degree": "专科", "page_size": 50}).json()["items"]
    assert vocational and all(item["degree"] == "专科" for item in vocational)
    bachelor = shared_client.get(POSITIONS, params={"degree": "本科", "page_size": 50}).json()["items"]
    assert {item["degree"] for item in bachelor} == {"专科", "本科"}
    cs = shared_client.get(
        POSITIONS, params={"city": "杭州", "major": "计算机科学与技术", "degree": "本科", "page_size": 50}
    ).json()["items"]
    assert cs and all(item["city"] == "杭州" for item in cs)
    assert any(item["title"] == "Java 开发工程师" for item in cs)


def test_unknown_degree_is_explained(shared_client):
    error = error_of(shared_client.get(POSITIONS, params={"degree": "小学"}))
    assert error["code"] == "invalid_field" and error["details"]["field"] == "degree"


def test_register_then_repeat_returns_the_same_registration(client):
    headers = verify(client, LIU_YANG, with_id=False)  # phone verification is enough
    before = client.get(f"{FAIRS}/JF0005").json()["registered"]
    first = _register(client, headers, "JF0005", "k1")
    assert first.status_code == 201
    registration = first.json()
    assert registration["registration_no"].startswith("BM")
    assert registration["status"] == "registered" and registration["title"] == "杭州数字经济人才专场招聘会"
    again = _register(client, verify(client, LIU_YANG, with_id=False), "JF0005", "k2")
    assert again.status_code == 200
    assert again.json()["registration_no"] == registration["registration_no"]
    assert client.get(f"{FAIRS}/JF0005").json()["registered"] == before + 1
    mine = client.get("/api/v1/campus/registrations", headers=headers).json()["items"]
    assert [item["registration_no"] for item in mine] == [registration["registration_no"]]


def test_same_key_with_different_details_is_a_conflict(client):
    headers = verify(client, LIU_YANG, with_id=False)
    assert _register(client, headers, "JF0005", "k").status_code == 201
    response = _register(client, headers, "JF0006", "k")
    assert response.status_code == 409
    assert error_of(response)["code"] == "idempotency_conflict"


def test_full_and_past_fairs_are_refused_with_a_reason(client):
    headers = verify(client, LIU_YANG, with_id=False)
    full = _register(client, headers, "JF0003", "k1")
    assert full.status_code == 409
    assert error_of(full)["code"] == "fair_full" and "已满" in error_of(full)["message"]
    past = _register(client, headers, "JF0001", "k2")
    assert past.status_code == 409
    assert error_of(past)["code"] == "fair_past" and "结束" in error_of(past)["message"]
    assert client.get("/api/v1/campus/registrations", headers=headers).json()["items"] == []


def test_registration_fields_are_validated(client):
    headers = verify(client, LIU_YANG, with_id=False)
    response = _register(client, headers, "JF0005", "k", {**FORM, "degree": "大专以下"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "invalid_field" and error["details"]["field"] == "degree"
    assert "学历" in error["message"]
    missing = _register(
        client, headers, "JF0005", "k2", {key: v for key, v in FORM.items() if key != "school"}
    )
    assert error_of(missing)["details"]["field"] == "school"


def test_parallel_registrations_take_one_seat(client):
    headers = verify(client, LIU_YANG, with_id=False)
    before = client.get(f"{FAIRS}/JF0007").json()["registered"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda i: _register(client, headers, "JF0007", f"k{i % 3}"), range(8)))
    assert all(response.status_code in (200, 201) for response in responses), [r.text for r in responses]
    assert len({response.json()["registration_no"] for response in responses}) == 1
    assert client.get(f"{FAIRS}/JF0007").json()["registered"] == before + 1


def test_registrations_are_per_phone(client):
    _register(client, verify(client, LIU_YANG, with_id=False), "JF0005", "k")
    other = verify(client, CHEN_XIAO)
    assert client.get("/api/v1/campus/registrations", headers=other).json()["items"] == []
    assert _register(client, other, "JF0005", "k").status_code == 201


def test_registration_needs_verification(client):
    response = client.post(f"{FAIRS}/JF0005/registrations", json=FORM, headers={"Idempotency-Key": "k"})
    assert response.status_code == 401
