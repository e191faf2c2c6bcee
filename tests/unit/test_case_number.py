"""Court case numbers: the regex finds them as citizens write them, the entity resolver gives one canonical value."""

from __future__ import annotations

import re

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.case_numbers import normalise_case_number
from bot.settings import ROOT
from nlu.components.entity_resolver import EntityResolver


def case_number_regex() -> re.Pattern[str]:
    data = yaml.safe_load((ROOT / "nlu" / "data" / "regex.yml").read_text("utf-8"))
    (item,) = [i for i in data["nlu"] if i.get("regex") == "case_number"]
    (pattern,) = [line[2:] for line in item["examples"].splitlines() if line.startswith("- ")]
    return re.compile(pattern, re.IGNORECASE)  # as the RegexEntityExtractor (case_sensitive: false)


WRITINGS = [
    ("(2020)浙0106民初1234号", "(2020)浙0106民初1234号"),
    ("（2020）浙0106民初1234号", "(2020)浙0106民初1234号"),
    ("〔2022〕沪0115民初20451号", "(2022)沪0115民初20451号"),
    ("【2025】浙0106民初2048号", "(2025)浙0106民初2048号"),
    ("[2024]京0105民初1029号", "(2024)京0105民初1029号"),
    ("（2023）粤0192民初9876", "(2023)粤0192民初9876号"),
    ("（2024） 浙0106执1502号", "(2024)浙0106执1502号"),
    ("（2024）粤0192民初 7788 号", "(2024)粤0192民初7788号"),
    ("( 2019 )浙01民终4521号", "(2019)浙01民终4521号"),
    ("（2022）京0108民初15522號", "(2022)京0108民初15522号"),
    ("(2024)浙0106執1502號", "(2024)浙0106执1502号"),
    ("（２０２１）浙０１９２民初３３００号", "(2021)浙0192民初3300号"),
    ("(2019)最高法民终123号", "(2019)最高法民终123号"),
    ("(2023)浙0106执恢12号", "(2023)浙0106执恢12号"),
    ("(2026)沪0115行初17号", "(2026)沪0115行初17号"),
]


@pytest.mark.parametrize(("written", "canonical"), WRITINGS)
def test_a_case_number_is_found_whole_and_normalised(written: str, canonical: str) -> None:
    text = f"帮我查一下{written}的进度"
    match = case_number_regex().search(text)
    assert match is not None and match.group() == written
    assert normalise_case_number(written) == canonical


@pytest.mark.parametrize("text", [
    "2020年3月5日开庭", "手机13800000001", "身份证330106199503140023", "2020-01-02", "(2020)", "（2020）年",
    "第(1)条第3款", "(2020)浙0106", "车牌桂A12345", "91330106MA2H3K5P13", "(1234)浙0106民初1号",
])
def test_numbers_and_dates_are_not_case_numbers(text: str) -> None:
    assert case_number_regex().search(text) is None


def test_every_annotated_case_number_is_what_the_regex_finds() -> None:
    regex, problems = case_number_regex(), []
    for path in sorted((ROOT / "nlu" / "data").glob("*.yml")):
        for message in load_data(str(path)).training_examples:
            text = message.get(TEXT)
            spans = {(m.start(), m.end()) for m in regex.finditer(text)}
            for entity in message.get(ENTITIES) or []:
                if entity["entity"] == "case_number" and (entity["start"], entity["end"]) not in spans:
                    problems.append(f"{path.name}: {text}")
    assert problems == []


def test_the_resolver_gives_the_canonical_case_number() -> None:
    text = "案号〔2021〕浙0192民初3300 进展如何"
    written = "〔2021〕浙0192民初3300"
    start = text.index(written)
    message = Message(data={TEXT: text, ENTITIES: [
        {"entity": "case_number", "value": written, "start": start, "end": start + len(written),
         "extractor": "RegexEntityExtractor"},
    ]})
    (entity,) = EntityResolver().process([message])[0].get(ENTITIES)
    assert entity["value"] == "(2021)浙0192民初3300号"
    assert (entity["start"], entity["end"]) == (start, start + len(written))
