"""Rasa component: entities from the spaCy EntityRuler built from the gazetteers.

Rasa's own SpacyEntityExtractor returns the surface text as the value; this one returns the
ruler's pattern id, i.e. the canonical name (美利坚 -> 美国), with the exact character span.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message


def _is_ascii_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def inside_ascii_word(text: str, start: int, end: int) -> bool:
    """True when a match like 'US' sits inside a longer Latin word ('BUS', 'USB')."""
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return (_is_ascii_word_char(text[start]) and _is_ascii_word_char(before)) or (
        _is_ascii_word_char(text[end - 1]) and _is_ascii_word_char(after)
    )


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class GazetteerEntityExtractor(GraphComponent, EntityExtractorMixin):
    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"dimensions": None}

    def __init__(self, config: dict[str, Any]) -> None:
        self._config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GazetteerEntityExtractor:
        return cls(config)

    @staticmethod
    def required_packages() -> list[str]:
        return ["spacy"]

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            entities = self.add_extractor_name(self.extract(model.model(text), text))
            entities = self.filter_irrelevant_entities(entities, self._config["dimensions"])
            message.set(ENTITIES, message.get(ENTITIES, []) + entities, add_to_output=True)
        return messages

    @staticmethod
    def extract(doc: Any, text: str) -> list[dict[str, Any]]:
        return [
            {
                "entity": ent.label_,
                "value": ent.ent_id_ or ent.text,
                "start": ent.start_char,
                "end": ent.end_char,
                "confidence": 1.0,
            }
            for ent in doc.ents
            if not inside_ascii_word(text, ent.start_char, ent.end_char)
        ]
