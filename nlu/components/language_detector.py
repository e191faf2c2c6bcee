"""Rasa component: the language of each message (nlu/components/language.py), in the parse result's `language`.

Runs after the entity extractors, so that names ("罗湖" in an English question, "Japan" in a Chinese one) are left
out of the count. The action server copies the result into the `language` slot (actions/english.py), which chooses
the responses' English variations; None (chat words, names, digits alone) leaves the slot as it was.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.components.language import detect

LANGUAGE = "language"  # the key in the parse result


def name_spans(entities: list[dict[str, Any]]) -> list[tuple[int, int]]:
    return [(e["start"], e["end"]) for e in entities if "start" in e and "end" in e]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class LanguageDetector(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            message.set(LANGUAGE, detect(text, name_spans(message.get(ENTITIES) or [])), add_to_output=True)
        return messages
