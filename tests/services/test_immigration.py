"""Entry/exit information: countries and ports by name or alias, suggestions for unknown names."""

from __future__ import annotations

import pytest

from tests.services.helpers import error_of

COUNTRIES = "/api/v1/immigration/countries"
PORTS = "/api/v1/immigration/ports"


def test_sample_data_covers_many_countries_and_regions(shared_client):
    items = shared_client.get(COUNTRIES).json()["items"]
    names = {item["country"] for item in items}
    assert len(names) >= 45
    required = (
        "香港 澳门 台湾 美国 英国 日本 韩国 新加坡 泰国 马来西亚 澳大利亚 新西兰 加拿大 德国 法国 意大利 "
        "西班牙 俄罗斯 越南 印度尼西亚 菲律宾 阿联酋"
    )
    assert set(required.split()) <= names
    assert {item["entry_status"] for item in items} == {"allowed", "restricted", "suspended"}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("美国", "美国"),
        ("美利坚", "美国"),
        ("US", "美国"),
        ("usa", "美国"),
        ("United States", "美国"),
        ("ＵＳＡ", "美国"),
        ("UK", "英国"),
        ("Japan", "日本"),
        ("南韩", "韩国"),
        ("澳洲", "澳大利亚"),
        ("印尼", "印度尼西亚"),
        ("UAE", "阿联酋"),
        ("HK", "香港"),
        ("Macau", "澳门"),
    ],
)
def test_names_aliases_and_english_names_resolve(shared_client, name, expected):
    response = shared_client.get(f"{COUNTRIES}/{name}")
    assert response.status_code == 200, response.text
    assert response.json()["country"] == expected


def test_country_measures_are_dated_and_labelled_as_sample_data(shared_client):
    body = shared_client.get(f"{COUNTRIES}/日本").json()
    assert body["entry_status"] == "restricted"
    assert body["entry_status_text"] == "有条件入境"
    assert "核酸" in body["test_requirement"]
    assert body["visa_status"] and body["flights"]
    assert body["updated_at"].count("-") == 2
    assert "示例数据" in body["source"]
    assert body["sample_data"] is True


def test_suspended_country_reports_quarantine_and_visa_status(shared_client):
    body = shared_client.get(f"{COUNTRIES}/缅甸").json()
    assert body["entry_status"] == "suspended"
    assert body["entry_status_text"] == "暂停入境"
    assert body["quarantine_days"] == 14


@pytest.mark.parametrize(("name", "suggestion"), [("美过", "美国"), ("Japn", "日本"), ("新加", "新加坡")])
def test_unknown_names_get_suggestions(shared_client, name, suggestion):
    response = shared_client.get(f"{COUNTRIES}/{name}")
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "unknown_country"
    assert suggestion in error["details"]["suggestions"]
    assert len(error["details"]["suggestions"]) <= 5
    assert suggestion in error["message"]


def test_nonsense_gets_no_suggestions_but_a_polite_hint(shared_client):
    error = error_of(shared_client.get(f"{COUNTRIES}/火星"))
    assert error["details"]["suggestions"] == []
    assert "例如" in error["message"]


def test_country_search_by_prefix(shared_client):
    names = [item["country"] for item in shared_client.get(COUNTRIES, params={"q": "新"}).json()["items"]]
    assert {"新加坡", "新西兰"} <= set(names)


def test_sample_data_covers_many_ports_of_every_kind(shared_client):
    items = shared_client.get(PORTS).json()["items"]
    assert len(items) >= 22
    assert {item["kind"] for item in items} == {"air", "land", "sea"}
    names = {item["port"] for item in items}
    assert {
        "上海浦东国际机场口岸",
        "北京首都国际机场口岸",
        "深圳罗湖口岸",
        "珠海拱北口岸",
        "满洲里口岸",
    } <= names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("上海浦东国际机场口岸", "上海浦东国际机场口岸"),
        ("浦东机场", "上海浦东国际机场口岸"),
        ("罗湖", "深圳罗湖口岸"),
        ("罗湖口岸", "深圳罗湖口岸"),
        ("二连浩特", "二连浩特口岸"),
        ("PVG", "上海浦东国际机场口岸"),
    ],
)
def test_ports_resolve_by_alias(shared_client, name, expected):
    response = shared_client.get(f"{PORTS}/{name}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["port"] == expected
    assert body["passenger_status_text"] and body["cargo_status_text"] and body["hours"]
    assert body["sample_data"] is True


def test_list_of_ports_with_suspended_passenger_traffic(shared_client):
    items = shared_client.get(PORTS, params={"passenger_status": "suspended"}).json()["items"]
    assert len(items) >= 3
    assert all(item["passenger_status"] == "suspended" for item in items)
    assert "瑞丽口岸" in {item["port"] for item in items}


def test_ports_by_city(shared_client):
    items = shared_client.get(PORTS, params={"city": "深圳市"}).json()["items"]
    assert items and all(item["city"] == "深圳" for item in items)


def test_unknown_port_gets_suggestions(shared_client):
    error = error_of(shared_client.get(f"{PORTS}/拱北关"))
    assert error["code"] == "unknown_port"
    assert "珠海拱北口岸" in error["details"]["suggestions"]


def test_invalid_status_filter_is_explained(shared_client):
    response = shared_client.get(PORTS, params={"passenger_status": "closed"})
    assert response.status_code == 422
    error = error_of(response)
    assert error["details"]["field"] == "passenger_status"
    assert "客运状态" in error["message"]
