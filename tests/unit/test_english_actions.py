"""The actions in English (docs/english.md): the conversation's language kept in its slot, entry and port answers
with the service's English data, English suggestions, English form questions and failures; Chinese unchanged."""

from __future__ import annotations

import re

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa_sdk import Tracker

from actions.english import ValidateSlotMappings
from actions.immigration import (
    ActionEntryControlAnswer,
    ActionPortStatusAnswer,
    ValidateEntryControlForm,
    ValidatePortStatusForm,
)
from tests.unit.conftest import entity, tracker
from tests.unit.conftest import run as run_raw
from tests.unit.rendering import run

HAN = re.compile(r"[\u4e00-\u9fff]")
EN = {"language": "en"}


def said(text: str, language: str | None) -> Tracker:
    t = tracker(text, "greet")
    t.latest_message["language"] = language
    return t


@pytest.mark.parametrize(("language", "slot"), [("en", "en"), ("zh", "zh")])
async def test_the_detected_language_becomes_the_conversations(language: str, slot: str, domain: dict) -> None:
    outcome = await run_raw(ValidateSlotMappings(), said("…", language), domain)
    assert outcome.slots == {"language": slot} and outcome.messages == []


async def test_a_message_that_cannot_tell_keeps_the_conversations_language(domain: dict) -> None:
    for t in (said("ok", None), tracker("/greet", "greet")):  # a chat word; a button's payload (no NLU)
        t.slots["language"] = "en"
        outcome = await run_raw(ValidateSlotMappings(), t, domain)
        assert outcome.events == []


async def test_entry_controls_are_answered_with_the_services_english_text(live_services: str, domain: dict) -> None:
    outcome = await run(ActionEntryControlAnswer(), tracker(slots={"country_region": "日本", **EN}), domain)
    text = outcome.text
    assert text.startswith("Entry rules of Japan for travellers from China:"), text
    assert "Entry: Entry with conditions" in text and "Quarantine: none" in text
    assert "Tests: Proof of a negative PCR test taken within 72 hours" in text
    assert "Visit Japan Web" in text and "Note: Random checks may take place" in text
    assert "(sample data)" in text and not HAN.search(text), text
    quarantine = await run(ActionEntryControlAnswer(), tracker(slots={"country_region": "菲律宾", **EN}), domain)
    assert "Quarantine: 3 days" in quarantine.text


async def test_the_same_answer_in_chinese_is_unchanged(live_services: str, domain: dict) -> None:
    for slots in ({"country_region": "日本"}, {"country_region": "日本", "language": "zh"}):
        outcome = await run(ActionEntryControlAnswer(), tracker(slots=slots), domain)
        assert outcome.text.startswith("日本（Japan）入境管控措施：") and "Entry rules" not in outcome.text


async def test_a_port_is_answered_in_english(live_services: str, domain: dict) -> None:
    outcome = await run(ActionPortStatusAnswer(), tracker(slots={"port": "深圳皇岗口岸", **EN}), domain)
    assert outcome.text.startswith("Shenzhen Huanggang Port, Shenzhen:\nPassengers: Closed to passengers\n"
                                   "Cargo: Cargo as usual\nOpening hours: Cargo 24 hours"), outcome.text
    assert "use the Futian or Shenzhen Bay port instead" in outcome.text and not HAN.search(outcome.text)


async def test_closed_ports_are_listed_in_english(live_services: str, domain: dict) -> None:
    t = tracker("Which ports are closed at the moment?", "port_status_query", slots=EN)
    validated = await run(ValidatePortStatusForm(), t, domain)
    answer = await run(ActionPortStatusAnswer(), tracker(slots=validated.slots | EN), domain)
    assert answer.text.startswith("Ports of entry closed to passengers at the moment:\n")
    assert "· Ruili Port, Ruili: Closed to passengers" in answer.text and not HAN.search(answer.text)


async def test_an_unknown_country_is_suggested_in_english(live_services: str, domain: dict) -> None:
    t = tracker("Japn", form="entry_control_form", requested="country_region", slots=EN)
    outcome = await run(ValidateEntryControlForm(), t, domain)
    assert outcome.text.startswith("Sorry, I found no entry information for “Japn”. Did you mean"), outcome.text
    assert outcome.buttons[0] == {"title": "Japan", "payload": '/entry_control_query{"country_region": "日本"}'}
    assert outcome.slots["country_region"] is None and outcome.slots["requested_slot"] == "country_region"


async def test_an_unknown_port_is_suggested_in_english(live_services: str, domain: dict) -> None:
    t = tracker("Gongbay", form="port_status_form", requested="port", slots=EN)
    outcome = await run(ValidatePortStatusForm(), t, domain)
    assert outcome.text.startswith("Sorry, I couldn’t find the port “Gongbay”."), outcome.text
    titles = {b["title"]: b["payload"] for b in outcome.buttons}
    assert titles["Zhuhai Gongbei Port"] == '/port_status_query{"port": "珠海拱北口岸"}'


async def test_an_english_answer_around_the_name_is_understood(live_services: str, domain: dict) -> None:
    t = tracker("I'm flying to the States, please", form="entry_control_form", requested="country_region",
                slots=EN)
    outcome = await run(ValidateEntryControlForm(), t, domain)
    assert outcome.slots["country_region"] == "美国" and outcome.slots["requested_slot"] is None
    t = tracker("It's the US", "inform", entities=[entity("country_region", "美国", "US")], slots=EN,
                form="entry_control_form", requested="country_region")
    assert (await run(ValidateEntryControlForm(), t, domain)).slots["country_region"] == "美国"


async def test_a_failed_answer_is_explained_in_english(live_services: str, domain: dict) -> None:
    t = tracker("x" * 40, form="entry_control_form", requested="country_region", slots=EN)
    first = await run(ValidateEntryControlForm(), t, domain)
    assert first.text == "Please tell me the name.", first.text
    t = tracker("x" * 40, form="entry_control_form", requested="country_region", slots=EN | first.slots)
    second = await run(ValidateEntryControlForm(), t, domain)
    assert second.text.startswith("Please tell me the name.\nHow to answer: type the name of a country or region")


async def test_the_service_down_is_said_in_english(services_down: None, domain: dict) -> None:
    outcome = await run(ActionPortStatusAnswer(), tracker(slots={"port": "深圳罗湖口岸", **EN}), domain)
    assert outcome.text.startswith("Sorry, this service is not available right now.")
    assert outcome.buttons[0] == {"title": "Talk to staff", "payload": "/request_human"}


@pytest.mark.parametrize(
    ("response", "english"),
    [
        ("utter_ask_country_region", "Which country or region would you like the entry rules for?"),
        ("utter_ask_port", "Which port of entry would you like to check?"),
        ("utter_greet", "Hello! I’m the government services assistant."),
        ("utter_out_of_scope", "Sorry, I can’t help with that in English."),
        ("utter_help", "In English I can help you with:"),
    ],
)
def test_questions_and_replies_rasa_sends_itself_follow_the_language(response: str, english: str,
                                                                      domain: dict) -> None:
    nlg = TemplatedNaturalLanguageGenerator(domain["responses"])
    assert nlg.generate_from_slots(response, {"language": "en"}, "rest")["text"].startswith(english)
    for chinese in ({"language": "zh"}, {"language": None}):
        assert HAN.search(nlg.generate_from_slots(response, chinese, "rest")["text"])


def test_the_english_only_reply_says_what_is_chinese_only_and_where_to_get_help(domain: dict) -> None:
    nlg = TemplatedNaturalLanguageGenerator(domain["responses"])
    reply = nlg.generate_from_slots("utter_out_of_scope", {"language": "en"}, "rest")["text"]
    for service in ("rent subsidy", "health code", "work resumption", "vehicle registration transfer", "e-tax",
                    "court", "campus recruitment", "12367", "12345", "entry rules", "ports of entry"):
        assert service in reply
