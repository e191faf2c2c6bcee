"""Entry/exit information: country measures and port status, with alias resolution and fuzzy suggestions."""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.errors import ApiError
from services.models import Country, CountryAlias, Port, PortAlias

ENTRY_STATUS_TEXT = {"allowed": "允许入境", "restricted": "有条件入境", "suspended": "暂停入境"}
PASSENGER_STATUS_TEXT = {"open": "客运正常通关", "limited": "客运限流/部分开放", "suspended": "客运暂停"}
CARGO_STATUS_TEXT = {"open": "货运正常", "limited": "货运限量", "suspended": "暂停货运"}
# The same in English, for foreign travellers (the *_en fields of the answers).
ENTRY_STATUS_TEXT_EN = {
    "allowed": "Entry allowed", "restricted": "Entry with conditions", "suspended": "Entry suspended",
}
PASSENGER_STATUS_TEXT_EN = {
    "open": "Open to passengers", "limited": "Limited passenger crossings", "suspended": "Closed to passengers",
}
CARGO_STATUS_TEXT_EN = {"open": "Cargo as usual", "limited": "Limited cargo", "suspended": "No cargo"}
PORT_SOURCE = "各口岸管理部门公告整理（示例数据）"
PORT_SOURCE_EN = "Compiled from notices of the port authorities (sample data)"
MAX_SUGGESTIONS = 5
SIMILARITY_CUTOFF = 0.6


def normalize_name(value: str) -> str:
    """Full-width → half-width, lower case, no spaces or dots: 'U.S.A ' and 'ｕｓａ' both become 'usa'."""
    text = unicodedata.normalize("NFKC", value or "").lower()
    return re.sub(r"[\s.·•'’\-_]", "", text)


def _similarity(query: str, key: str) -> float:
    """difflib ratio, nudged up when the first character agrees: for two-character Chinese names one shared
    character gives 0.5 either way, and 美过 → 美国 is a much better guess than 火星 → 星洲."""
    bonus = 0.1 if query[:1] == key[:1] else 0.0
    return difflib.SequenceMatcher(None, query, key).ratio() + bonus


def _suggest(query: str, names_by_key: dict[str, str]) -> list[str]:
    """Canonical names for the closest keys: substring matches first, then by similarity."""
    if not query:
        return []
    found: list[str] = []
    for key, canonical in names_by_key.items():
        # Short Latin aliases (us, uk) would match inside unrelated words, so they only count from 4 letters.
        long_enough = len(key) >= 4 or (len(key) >= 2 and not key.isascii())
        if query in key or (long_enough and key in query):
            found.append(canonical)
    scored = sorted(
        ((_similarity(query, key), canonical) for key, canonical in names_by_key.items()), reverse=True
    )
    found.extend(canonical for score, canonical in scored if score >= SIMILARITY_CUTOFF)
    return list(dict.fromkeys(found))[:MAX_SUGGESTIONS]


# --- countries -----------------------------------------------------------------------------------------


def _country_keys(session: Session) -> dict[str, str]:
    keys = {normalize_name(name): name for name in session.execute(select(Country.name)).scalars()}
    for alias, canonical in session.execute(select(CountryAlias.alias, CountryAlias.country_name)):
        keys.setdefault(alias, canonical)
    return keys


def find_country(session: Session, name: str) -> Country:
    query = normalize_name(name)
    keys = _country_keys(session)
    canonical = keys.get(query) if query else None
    if canonical is None:
        suggestions = _suggest(query, keys)
        hint = (
            f"您是不是要查询：{'、'.join(suggestions)}？"
            if suggestions
            else "请输入国家或地区的中文名称，例如“美国”“日本”。"
        )
        english = {row.name: row.english_name for row in _rows(session, Country, suggestions)}
        raise ApiError(
            404,
            "unknown_country",
            f"抱歉，暂未找到“{name.strip()}”的入境政策信息。{hint}",
            {"suggestions": suggestions, "suggestions_en": [english.get(n) or n for n in suggestions]},
        )
    return session.get(Country, canonical)


def _rows(session: Session, model: type, names: list[str]) -> list:
    return list(session.execute(select(model).where(model.name.in_(names))).scalars()) if names else []


def country_dict(country: Country) -> dict[str, Any]:
    return {
        "country": country.name,
        "english_name": country.english_name,
        "entry_status": country.entry_status,
        "entry_status_text": ENTRY_STATUS_TEXT[country.entry_status],
        "quarantine_days": country.quarantine_days,
        "test_requirement": country.test_requirement,
        "visa_status": country.visa_status,
        "flights": country.flights,
        "notes": country.notes,
        "updated_at": country.updated_at.isoformat(),
        "source": country.source,
        # English for foreign travellers; None where a row has no translation yet.
        "entry_status_text_en": ENTRY_STATUS_TEXT_EN[country.entry_status],
        "test_requirement_en": country.test_requirement_en,
        "visa_status_en": country.visa_status_en,
        "flights_en": country.flights_en,
        "notes_en": country.notes_en,
        "source_en": country.source_en,
        "sample_data": True,
    }


def search_countries(session: Session, q: str | None) -> list[dict[str, Any]]:
    """Prefix search over canonical names and aliases; an empty query lists everything."""
    query = normalize_name(q or "")
    matches = {canonical for key, canonical in _country_keys(session).items() if key.startswith(query)}
    rows = session.execute(select(Country).order_by(Country.name)).scalars()
    return [
        {"country": row.name, "english_name": row.english_name, "entry_status": row.entry_status}
        for row in rows
        if row.name in matches
    ]


# --- ports ---------------------------------------------------------------------------------------------


def _port_keys(session: Session) -> dict[str, str]:
    keys = {normalize_name(name): name for name in session.execute(select(Port.name)).scalars()}
    for alias, canonical in session.execute(select(PortAlias.alias, PortAlias.port_name)):
        keys.setdefault(alias, canonical)
    return keys


def find_port(session: Session, name: str) -> Port:
    keys = _port_keys(session)
    query = normalize_name(name)
    # People say 罗湖 as well as 罗湖口岸: try the name with and without the suffix.
    candidates = [query, query + "口岸", query.removesuffix("口岸")]
    canonical = next((keys[c] for c in candidates if c and c in keys), None)
    if canonical is None:
        suggestions = _suggest(query.removesuffix("口岸") or query, keys)
        hint = (
            f"您是不是要查询：{'、'.join(suggestions)}？"
            if suggestions
            else "请输入口岸名称，例如“深圳罗湖口岸”。"
        )
        english = {row.name: row.english_name for row in _rows(session, Port, suggestions)}
        raise ApiError(
            404,
            "unknown_port",
            f"抱歉，暂未找到“{name.strip()}”的口岸信息。{hint}",
            {"suggestions": suggestions, "suggestions_en": [english.get(n) or n for n in suggestions]},
        )
    return session.get(Port, canonical)


def port_dict(port: Port) -> dict[str, Any]:
    return {
        "port": port.name,
        "city": port.city,
        "province": port.province,
        "kind": port.kind,
        "passenger_status": port.passenger_status,
        "passenger_status_text": PASSENGER_STATUS_TEXT[port.passenger_status],
        "cargo_status": port.cargo_status,
        "cargo_status_text": CARGO_STATUS_TEXT[port.cargo_status],
        "hours": port.hours,
        "notes": port.notes,
        "updated_at": port.updated_at.isoformat(),
        "source": PORT_SOURCE,
        # English for foreign travellers; None where a row has no translation yet.
        "english_name": port.english_name,
        "city_en": port.city_en,
        "passenger_status_text_en": PASSENGER_STATUS_TEXT_EN[port.passenger_status],
        "cargo_status_text_en": CARGO_STATUS_TEXT_EN[port.cargo_status],
        "hours_en": port.hours_en,
        "notes_en": port.notes_en,
        "source_en": PORT_SOURCE_EN,
        "sample_data": True,
    }


def list_ports(
    session: Session, passenger_status: str | None, city: str | None, kind: str | None
) -> list[dict[str, Any]]:
    query = select(Port).order_by(Port.province, Port.name)
    if passenger_status:
        query = query.where(Port.passenger_status == passenger_status)
    if city:
        query = query.where(Port.city == city.strip().removesuffix("市"))
    if kind:
        query = query.where(Port.kind == kind)
    return [port_dict(row) for row in session.execute(query).scalars()]
