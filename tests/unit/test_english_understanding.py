"""English messages in the NLU (docs/english.md): which language a message is in, English names found word by word,
English words not taken for names, and the English scope: an English message never starts a Chinese form."""

from __future__ import annotations

import pytest
from rasa.shared.nlu.training_data.message import Message

from nlu.components.language import detect
from nlu.components.language_detector import LanguageDetector
from nlu.components.language_entities import EnglishWordsAreNotNames
from nlu.components.language_names import LatinNameExtractor
from nlu.components.language_scope import EnglishScope
from nlu.components.transaction_gate import TransactionGate

SERVED = ["entry_control_query", "port_status_query", "greet", "goodbye", "thank", "affirm", "deny", "help",
          "bot_challenge", "request_human", "out_of_scope", "cancel", "inform"]
SCOPE = EnglishScope({"supported": SERVED, "inform_values": ["country_region", "port"]})


@pytest.mark.parametrize(
    ("text", "names", "language"),
    [
        ("What are the entry requirements for Japan?", [], "en"),
        ("Is 罗湖 open today?", [(3, 5)], "en"),  # a Chinese name in an English sentence
        ("Do I need a 核酸 test for Japan?", [], "en"),
        ("我想去Japan", [(3, 8)], "zh"),  # a Latin name in a Chinese sentence
        ("US visa现在还暂停吗", [(0, 2)], "zh"),
        ("check一下PVG的口岸状态", [(7, 10)], "zh"),
        ("hello 想问France的entry requirement", [(8, 14)], "zh"),
        ("check下我的vehicle transfer status", [], "zh"),  # mixed: more often a Chinese speaker's
        ("thx 很有用", [], "zh"),
        ("你好", [], "zh"),
        ("Привет, мне нужна виза", [], "en"),  # another alphabet: English suits better than Chinese
        ("ｈｅｌｌｏ ｔｈｅｒｅ", [], "en"),  # full-width letters
        ("thank you so much", [], "en"),
    ],
)
def test_the_language_of_a_message(text: str, names: list[tuple[int, int]], language: str) -> None:
    assert detect(text, names) == language


@pytest.mark.parametrize("text", ["ok", "hi", "thx", "Hello", "ok bye~", "thank you", "nihao", "123", "？？？", ""])
def test_chat_words_digits_and_punctuation_alone_cannot_tell(text: str) -> None:
    assert detect(text) is None


@pytest.mark.parametrize("text", ["91330110MA2K8L6R2X", "33010619950314002X", "A12345", "chen.xiao@example.com",
                                  "www.gov.cn", "X"])
def test_codes_and_addresses_typed_into_a_chinese_form_are_not_english(text: str) -> None:
    assert detect(text) is None
    assert detect(f"我的是{text}") == "zh"


@pytest.mark.parametrize(("text", "names"), [("Japan", [(0, 5)]), ("日本", [(0, 2)]), ("PVG please", [(0, 3)])])
def test_a_name_alone_cannot_tell(text: str, names: list[tuple[int, int]]) -> None:
    """"Japan" typed where the country is asked keeps the conversation's language, whichever it is."""
    assert detect(text, names) is None


def entity(name: str, value: str, text: str, surface: str, extractor: str = "GazetteerEntityExtractor") -> dict:
    start = text.index(surface)
    return {"entity": name, "value": value, "start": start, "end": start + len(surface), "extractor": extractor}


def understood(text: str, entities: list[dict] | None = None, intent: str = "greet", confidence: float = 0.9,
               ranking: list[dict] | None = None) -> Message:
    """A message through the English components, in the pipeline's order, after the classifier said `intent`."""
    ranking = ranking or [{"name": intent, "confidence": confidence}]
    message = Message(data={"text": text, "entities": entities or [], "intent": dict(ranking[0]),
                            "intent_ranking": ranking})
    for component in (LatinNameExtractor(), LanguageDetector(), EnglishWordsAreNotNames(), SCOPE):
        [message] = component.process([message])
    return message


def test_the_detected_language_is_part_of_the_parse_result() -> None:
    message = understood("Is Lo Wu open at night?")
    assert message.get("language") == "en"
    assert message.as_dict(only_output_properties=True)["language"] == "en"
    assert understood("罗湖口岸几点开门").get("language") == "zh"
    assert understood("ok").get("language") is None


def test_latin_names_are_found_word_by_word_where_the_gazetteer_loses_them() -> None:
    text = "Entry rules of India now, and the US and UK?"
    found = {(e["value"], text[e["start"]:e["end"]]) for e in understood(text).get("entities")}
    assert found == {("印度", "India"), ("美国", "US"), ("英国", "UK")}
    ports = understood("Is Shanghai Pudong airport or Lo Wu open?").get("entities")
    assert [e["value"] for e in ports] == ["上海浦东国际机场口岸", "深圳罗湖口岸"]  # the longest name wins


def test_a_name_already_found_is_not_found_twice() -> None:
    text = "Is Lo Wu open?"
    gazetteer = entity("port", "深圳罗湖口岸", text, "Lo Wu")
    assert understood(text, [gazetteer]).get("entities") == [gazetteer]


def test_in_english_lower_case_words_are_not_names_but_capitals_are() -> None:
    text = "Can you tell us if it is open in the US?"
    entities = [entity("country_region", "美国", text, "us"), entity("industry", "互联网", text, "it")]
    kept = understood(text, entities).get("entities")
    assert [(e["value"], text[e["start"]:e["end"]]) for e in kept] == [("美国", "US")]
    chinese = "去us要签证吗"
    assert understood(chinese, [entity("country_region", "美国", chinese, "us")]).get("entities")  # a name here


@pytest.mark.parametrize("intent", ["rent_subsidy_apply", "health_code_query", "tax_service_query",
                                    "policy_question", "job_search", "nlu_fallback", "show_more"])
def test_an_english_ask_for_another_service_gets_the_english_reply_not_a_form(intent: str) -> None:
    message = understood("I would like to apply for this service please", intent=intent, confidence=0.97)
    assert message.get("intent") == {"name": "out_of_scope", "confidence": 0.97}
    assert message.get("chinese_only") == {"intent": intent, "confidence": 0.97}
    assert message.get("intent_ranking")[0]["name"] == intent  # the classifier's reading is kept


def test_the_transaction_gate_path_ends_in_the_english_reply_too() -> None:
    """A gated form's intent below the gate's threshold becomes nlu_fallback (Chinese buttons); in English it
    becomes the English reply instead."""
    gate = TransactionGate({"intents": ["rent_subsidy_apply"], "threshold": 0.8, "keywords": []})
    ranking = [{"name": "rent_subsidy_apply", "confidence": 0.6}, {"name": "out_of_scope", "confidence": 0.2}]
    message = Message(data={"text": "how do I get the rent subsidy", "entities": [], "intent": dict(ranking[0]),
                            "intent_ranking": ranking})
    [message] = LanguageDetector().process([message])
    [message] = gate.process([message])
    assert message.get("intent")["name"] == "nlu_fallback"
    [message] = SCOPE.process([message])
    assert message.get("intent")["name"] == "out_of_scope"


@pytest.mark.parametrize("intent", SERVED)
def test_english_asks_the_assistant_serves_in_english_keep_their_intent(intent: str) -> None:
    text = "What about the entry rules for Japan?"
    message = understood(text, [entity("country_region", "日本", text, "Japan")], intent=intent)
    assert message.get("intent")["name"] == intent and message.get("chinese_only") is None


def test_a_bare_value_in_english_is_served_only_when_it_is_a_country_or_a_port() -> None:
    text = "I'm going to Hangzhou"
    city = understood(text, [entity("city", "杭州", text, "Hangzhou")], intent="inform")
    assert city.get("intent")["name"] == "out_of_scope"  # a city belongs to the Chinese job-fair search
    text = "I'm going to Japan"
    country = understood(text, [entity("country_region", "日本", text, "Japan")], intent="inform")
    assert country.get("intent")["name"] == "inform"


@pytest.mark.parametrize(("text", "intent"), [("我想申请租房补贴", "rent_subsidy_apply"), ("ok", "rent_subsidy_apply"),
                                              ("补贴", "nlu_fallback")])
def test_chinese_and_undecided_messages_are_left_as_they_were(text: str, intent: str) -> None:
    message = understood(text, intent=intent)
    assert message.get("intent")["name"] == intent and message.get("chinese_only") is None
