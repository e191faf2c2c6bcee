"""Rasa component: one entity per span, and only plausible ones.

Several extractors see the same text: the regexes (exact formats), the gazetteer (known
names) and DIET (learned, may cut a span or guess a near-miss). When their spans overlap,
keep the most precise extractor's entity so a slot is never filled twice or with half a value.
DIET's guesses for format entities (ID numbers, phones, ...) are dropped: only the regexes
know a format. Its guesses for gazetteer entities are kept only when they name a known value.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.case_numbers import normalise_case_number
from nlu.gazetteer import load_all

PRIORITY = {"RegexEntityExtractor": 0, "GazetteerEntityExtractor": 1}
DEFAULT_PRIORITY = 2
FORMAT_ENTITIES = {"id_number", "phone", "credit_code", "plate_number", "case_number", "company_name"}
PRECISE = set(PRIORITY)
# City names that are also what Chinese speakers call a place abroad: with that country in the same message the
# name means the foreign place (德州 = Texas beside 美国), and the message is not about the Chinese city.
FOREIGN_NICKNAMES = {"德州": "美国", "加州": "美国", "新州": "澳大利亚"}


def normalise(entity: dict[str, Any]) -> dict[str, Any]:
    if entity.get("entity") == "case_number" and isinstance(entity.get("value"), str):
        # a writing the canonical form does not know stays as written: the form explains what is wrong with it
        return {**entity, "value": normalise_case_number(entity["value"]) or entity["value"]}
    return entity


def _overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a["start"] < b["end"] and b["start"] < a["end"]


def plausible(entity: dict[str, Any], known: dict[str, set[str]]) -> bool:
    if entity.get("extractor") in PRECISE:
        return True
    if entity.get("entity") in FORMAT_ENTITIES:
        return False
    values = known.get(entity.get("entity", ""))
    return values is None or str(entity.get("value")) in values


def resolve(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop entities that overlap a more precise (or, at equal precision, longer) one."""

    def rank(entity: dict[str, Any]) -> tuple[int, int]:
        length = entity.get("end", 0) - entity.get("start", 0)
        return PRIORITY.get(entity.get("extractor", ""), DEFAULT_PRIORITY), -length

    kept: list[dict[str, Any]] = []
    for entity in sorted(entities, key=rank):
        if "start" not in entity or not any(_overlaps(entity, k) for k in kept if "start" in k):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.get("start", 0))


# What may follow a name inside one jieba word without making it another word (金融行业, 银行业, 杭州市).
NAME_SUFFIXES = ("行业", "业", "市", "省", "区", "县", "方向", "专业", "类", "岗")


def inside_a_longer_word(entity: dict[str, Any], tokens: list[Token]) -> bool:
    """A gazetteer name inside a longer jieba word is part of that other word: 银行 in 银行卡, 北京 in 北京大学."""
    for token in tokens:
        if token.start <= entity["start"] and entity["end"] <= token.end:
            before, after = token.text[: entity["start"] - token.start], token.text[entity["end"] - token.start :]
            return bool(before) or (bool(after) and after not in NAME_SUFFIXES)
    return False


def foreign_nickname(entity: dict[str, Any], entities: list[dict[str, Any]]) -> bool:
    country = FOREIGN_NICKNAMES.get(str(entity.get("value"))) if entity.get("entity") == "city" else None
    return country is not None and any(
        other.get("entity") == "country_region" and other.get("value") == country for other in entities
    )


def in_context(entity: dict[str, Any], entities: list[dict[str, Any]], tokens: list[Token]) -> bool:
    from_gazetteer = entity.get("extractor") == "GazetteerEntityExtractor" and "start" in entity
    if from_gazetteer and inside_a_longer_word(entity, tokens):
        return False
    return not foreign_nickname(entity, entities)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class EntityResolver(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EntityResolver:
        return cls()

    def __init__(self) -> None:
        self.known = {entity: {e.name for e in entries} for entity, entries in load_all().items()}

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES)
            if entities:
                tokens = message.get(TOKENS_NAMES[TEXT]) or []
                kept = [e for e in entities if plausible(e, self.known) and in_context(e, entities, tokens)]
                message.set(ENTITIES, [normalise(e) for e in resolve(kept)], add_to_output=True)
        return messages
