"""Entry/exit information: countries and ports by name or alias, suggestions for unknown names, the same facts in
English for foreign travellers."""

from __future__ import annotations

import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import text

from bot.settings import SandboxSettings
from services.app import create_app
from services.db import alembic_config, create_db_engine
from services.models import Base
from tests.services.helpers import error_of, query

HAN = re.compile(r"[\u4e00-\u9fff]")
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


# --- in English, for foreign travellers ---------------------------------------------------------------


def test_country_measures_in_english(shared_client):
    body = shared_client.get(f"{COUNTRIES}/Japan").json()
    assert body["country"] == "日本" and body["english_name"] == "Japan"
    assert body["entry_status_text_en"] == "Entry with conditions"
    assert "PCR" in body["test_requirement_en"] and "Visit Japan Web" in body["visa_status_en"]
    assert body["flights_en"] and body["notes_en"].startswith("Random checks")
    assert "sample data" in body["source_en"]
    assert body["test_requirement"] == "入境前 72 小时内核酸检测阴性证明（示例要求）"  # the Chinese text is unchanged


def test_every_country_and_port_has_its_english_text(shared_client):
    countries = [item["country"] for item in shared_client.get(COUNTRIES).json()["items"]]
    for name in countries:
        body = shared_client.get(f"{COUNTRIES}/{name}").json()
        for field in ("test_requirement_en", "visa_status_en", "flights_en", "source_en"):
            assert body[field] and not HAN.search(body[field]), (name, field, body[field])
        assert body["notes_en"] is not None and bool(body["notes_en"]) == bool(body["notes"]), name
    for port in shared_client.get(PORTS).json()["items"]:
        for field in ("english_name", "city_en", "hours_en", "passenger_status_text_en", "cargo_status_text_en"):
            assert port[field] and not HAN.search(port[field]), (port["port"], field)
        assert port["notes_en"] is not None and bool(port["notes_en"]) == bool(port["notes"]), port["port"]


@pytest.mark.parametrize(
    ("name", "expected", "english"),
    [
        ("PVG", "上海浦东国际机场口岸", "Shanghai Pudong International Airport"),
        ("Pudong Airport", "上海浦东国际机场口岸", "Shanghai Pudong International Airport"),
        ("Lo Wu", "深圳罗湖口岸", "Shenzhen Luohu Port (Lo Wu)"),
        ("luohu", "深圳罗湖口岸", "Shenzhen Luohu Port (Lo Wu)"),
        ("Shenzhen Bay", "深圳湾口岸", "Shenzhen Bay Port"),
        ("Friendship Pass", "友谊关口岸", "Youyiguan (Friendship Pass) Port"),
        ("Hong Kong-Zhuhai-Macao Bridge", "港珠澳大桥珠海公路口岸", "Hong Kong-Zhuhai-Macao Bridge Zhuhai Port"),
    ],
)
def test_ports_resolve_by_english_name(shared_client, name, expected, english):
    body = shared_client.get(f"{PORTS}/{name}").json()
    assert body["port"] == expected and body["english_name"] == english


def test_port_status_in_english(shared_client):
    body = shared_client.get(f"{PORTS}/Huanggang").json()
    assert body["passenger_status_text_en"] == "Closed to passengers"
    assert body["cargo_status_text_en"] == "Cargo as usual"
    assert body["city_en"] == "Shenzhen" and body["hours_en"] == "Cargo 24 hours"
    assert "Futian" in body["notes_en"] and "sample data" in body["source_en"]


def test_unknown_names_get_english_suggestions_too(shared_client):
    country = error_of(shared_client.get(f"{COUNTRIES}/Japn"))["details"]
    assert country["suggestions"][0] == "日本" and country["suggestions_en"][0] == "Japan"
    assert len(country["suggestions_en"]) == len(country["suggestions"])
    port = error_of(shared_client.get(f"{PORTS}/Pudong Airprt"))["details"]
    assert "上海浦东国际机场口岸" in port["suggestions"]
    assert port["suggestions_en"][port["suggestions"].index("上海浦东国际机场口岸")] == (
        "Shanghai Pudong International Airport"
    )


def test_english_migration_fills_a_sandbox_seeded_before_it_and_downgrades(database_url):
    engine = create_db_engine(database_url)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
        # Rows of the previous release, without English (their columns do not exist yet); an operator changed the
        # Chinese text, which seeding must keep.
        connection.execute(text(
            "INSERT INTO countries (name, english_name, entry_status, test_requirement, visa_status, flights, notes,"
            " updated_at, source) VALUES ('日本', 'Japan', 'restricted', '运营人员改过的检测要求', '签证', '航班', '',"
            " '2026-11-01', '来源')"
        ))
        connection.execute(text(
            "INSERT INTO ports (name, city, province, kind, passenger_status, cargo_status, hours, notes, updated_at)"
            " VALUES ('上海浦东国际机场口岸', '上海', '上海', 'air', 'open', 'open', '24小时通关', '', '2026-11-01')"
        ))
    engine.dispose()
    with TestClient(create_app(SandboxSettings(database_url=database_url))) as client:
        japan = client.get(f"{COUNTRIES}/Japan").json()
        assert japan["test_requirement"] == "运营人员改过的检测要求"
        assert japan["test_requirement_en"].startswith("Proof of a negative PCR") and japan["source_en"]
        assert client.get(f"{PORTS}/Pudong Airport").json()["english_name"] == "Shanghai Pudong International Airport"
    client.app.state.engine.dispose()
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in differences if "countries" in repr(d) or "ports" in repr(d)] == []
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    engine.dispose()
    assert query(database_url, "SELECT count(*) FROM countries")[0][0] >= 45  # the rows survive the downgrade
