"""Gazetteer names are entities only where they mean the name: not inside another word, not a foreign nickname."""

from __future__ import annotations

import jieba
import pytest
from rasa.nlu.tokenizers.tokenizer import Token

from bot.settings import ROOT
from nlu.components.entity_resolver import in_context

USER_DICT = ROOT / "nlu" / "generated" / "jieba" / "userdict.txt"


@pytest.fixture(scope="module")
def tokenizer() -> jieba.Tokenizer:
    if not USER_DICT.exists():
        pytest.fail("run `python -m bot build` (make test does) to generate the jieba dictionary")
    tokenizer = jieba.Tokenizer()
    tokenizer.load_userdict(str(USER_DICT))
    return tokenizer


def found(text: str, name: str, entity: str) -> dict:
    start = text.index(name)
    return {"entity": entity, "value": name, "start": start, "end": start + len(name),
            "extractor": "GazetteerEntityExtractor"}


def tokens(tokenizer: jieba.Tokenizer, text: str) -> list[Token]:
    return [Token(word, start, end) for word, start, end in tokenizer.tokenize(text)]


@pytest.mark.parametrize(("text", "name", "entity", "kept"), [
    ("我的银行卡号是6222021234567890", "银行", "industry", False),
    ("北京大学今年有招聘会吗", "北京", "city", False),
    ("我在银行业工作，想看看招聘会", "银行", "industry", True),
    ("想找金融行业的岗位", "金融", "industry", True),
    ("杭州市有招聘会吗", "杭州", "city", True),
])
def test_a_name_inside_another_word_is_not_that_name(tokenizer, text, name, entity, kept) -> None:
    entity_found = found(text, name, entity)
    assert in_context(entity_found, [entity_found], tokens(tokenizer, text)) is kept


def test_dezhou_beside_the_united_states_is_texas(tokenizer) -> None:
    text = "去美国德州要隔离吗"
    city, country = found(text, "德州", "city"), found(text, "美国", "country_region")
    assert not in_context(city, [city, country], tokens(tokenizer, text))
    alone = "德州今年有招聘会吗"
    city = found(alone, "德州", "city")
    assert in_context(city, [city], tokens(tokenizer, alone))
