"""The entry/exit client in English: the facts a foreign traveller reads, and English names for the suggestions."""

from __future__ import annotations

import pytest

from integrations.services import ImmigrationClient, ServiceRejected
from integrations.services.immigration import english_suggestions


async def test_country_and_port_carry_their_english_text(config):
    async with ImmigrationClient(config) as client:
        japan = await client.get_country("Japan")
        assert japan.country == "日本" and japan.english_name == "Japan"
        assert japan.entry_status_text_en == "Entry with conditions" and "PCR" in japan.test_requirement_en
        assert japan.visa_status_en and japan.flights_en and "sample data" in japan.source_en
        port = await client.get_port("Lo Wu")
        assert port.port == "深圳罗湖口岸" and port.english_name == "Shenzhen Luohu Port (Lo Wu)"
        assert port.city_en == "Shenzhen" and port.passenger_status_text_en == "Open to passengers"
        assert port.hours_en == "06:30-24:00" and port.notes_en == "Passengers only; no cargo."
        closed = await client.list_ports(passenger_status="suspended")
        assert all(item.passenger_status_text_en == "Closed to passengers" and item.english_name for item in closed)


async def test_unknown_names_are_suggested_in_english_in_the_same_order(config):
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceRejected) as country:
            await client.get_country("Thailnd")
        with pytest.raises(ServiceRejected) as port:
            await client.get_port("Gongbay")
    assert country.value.suggestions[0] == "泰国" and english_suggestions(country.value)[0] == "Thailand"
    assert "珠海拱北口岸" in port.value.suggestions
    named = dict(zip(port.value.suggestions, english_suggestions(port.value), strict=True))
    assert named["珠海拱北口岸"] == "Zhuhai Gongbei Port"


def test_a_suggestion_without_an_english_name_keeps_its_chinese_one():
    error = ServiceRejected("unknown_country", "…", {"suggestions": ["日本", "南极"], "suggestions_en": ["Japan"]}, 404)
    assert english_suggestions(error) == ["Japan", "南极"]
