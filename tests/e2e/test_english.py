"""English for foreign travellers (docs/english.md), through Rasa's REST channel with every process running: entry
controls and port status asked in English are answered in English with the service's English data; other services
asked in English get the English reply naming the Chinese-only services, and no form; Chinese stays Chinese."""

from __future__ import annotations

import re

import pytest

from tests.e2e.stack import Chat, Stack

pytestmark = pytest.mark.e2e

HAN = re.compile(r"[\u4e00-\u9fff]")


def assert_english(chat: Chat) -> None:
    assert chat.text and not HAN.search(chat.text), chat.text
    assert not any(HAN.search(b["title"]) for b in chat.buttons), chat.buttons


def assert_no_form(chat: Chat) -> None:
    tracker = chat.tracker()
    assert not (tracker.get("active_loop") or {}).get("name"), tracker.get("active_loop")
    assert tracker["slots"].get("requested_slot") is None


def test_an_entry_question_is_answered_in_english_and_followed_up(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("Hello, what are the entry requirements for Japan?")
    assert chat.text.startswith("Entry rules of Japan for travellers from China:"), chat.text
    assert "Tests: Proof of a negative PCR test" in chat.text and "Visit Japan Web" in chat.text
    assert_english(chat)
    assert chat.slot("language") == "en"
    chat.say("What about Thailand?")
    assert chat.text.startswith("Entry rules of Thailand for travellers from China:"), chat.text
    assert "Buy travel insurance that covers medical costs." in chat.text
    chat.say("thanks")  # a chat word alone keeps the conversation in English
    assert chat.text == "You’re welcome! Is there anything else I can help you with?", chat.text


def test_ports_by_english_name_and_by_airport_code(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("Is PVG open for international arrivals?")
    assert chat.text.startswith("Shanghai Pudong International Airport, Shanghai:\nPassengers: Open to passengers"), \
        chat.text
    assert_english(chat)
    chat.say("And is the Huanggang port open for passengers?")
    assert chat.text.startswith("Shenzhen Huanggang Port, Shenzhen:\nPassengers: Closed to passengers"), chat.text
    chat.say("What time does Lo Wu close?")
    assert "Shenzhen Luohu Port (Lo Wu), Shenzhen:" in chat.text and "Opening hours: 06:30-24:00" in chat.text


def test_an_unknown_country_in_english_gets_english_suggestions(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("I'd like to check the entry rules of a country")
    assert chat.text.startswith("Which country or region would you like the entry rules for?"), chat.text
    chat.say("Japn")
    assert chat.text.startswith("Sorry, I found no entry information for “Japn”. Did you mean"), chat.text
    assert chat.buttons[0]["title"] == "Japan"
    assert_english(chat)
    chat.click("Japan")
    assert chat.text.startswith("Entry rules of Japan for travellers from China:"), chat.text


def test_a_chinese_only_service_asked_in_english_gets_the_english_reply_and_no_form(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("Hi, how can I apply for the rent subsidy? I just started working in Hangzhou")
    assert chat.text.startswith("Sorry, I can’t help with that in English."), chat.text
    assert "available in Chinese only: rent subsidy, health code" in chat.text and "12367" in chat.text
    assert_english(chat)
    assert_no_form(chat)
    chat.say("What colour is my health code?")
    assert chat.text.startswith("Sorry, I can’t help with that in English."), chat.text
    assert_no_form(chat)


def test_a_chinese_message_after_english_is_answered_in_chinese(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("Is Gongbei open today?")
    assert chat.text.startswith("Zhuhai Gongbei Port, Zhuhai:"), chat.text
    chat.say("日本现在入境要隔离吗")
    assert chat.text.startswith("日本（Japan）入境管控措施："), chat.text
    assert chat.slot("language") == "zh"
    chat.say("谢谢")
    assert chat.text.startswith("不客气"), chat.text
