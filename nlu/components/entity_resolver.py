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
from rasa.shared.nlu.constants import ENTITIES
from rasa.shared.nlu.training_data.message import Message

from nlu.gazetteer import load_all

PRIORITY = {"RegexEntityExtractor": 0, "GazetteerEntityExtractor": 1}
DEFAULT_PRIORITY = 2
FORMAT_ENTITIES = {"id_number", "phone", "credit_code", "plate_number", "case_number"}
PRECISE = set(PRIORITY)


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
                kept = [e for e in entities if plausible(e, self.known)]
                message.set(ENTITIES, resolve(kept), add_to_output=True)
        return messages
