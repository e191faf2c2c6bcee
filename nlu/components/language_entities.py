"""Rasa component: in an English message, a short English word is not a name.

The gazetteers' Latin aliases are matched case-insensitively, which suits Chinese messages ("去us要签证吗"), but in
an English sentence "us" and "it" are words, not 美国 and the IT industry. In a message the LanguageDetector read as
English, an entity whose text is such a word written in lower case is dropped; written in capitals ("the US") it
stays a name.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.components.language import ENGLISH
from nlu.components.language_detector import LANGUAGE

# English words that are also (lower-cased) gazetteer aliases or abbreviations people type.
ENGLISH_WORDS = frozenset({
    "us", "it", "in", "is", "am", "me", "no", "to", "on", "at", "an", "as", "be", "do", "go", "he", "if", "my", "of",
    "or", "so", "up", "we", "by", "hi", "ok", "sh", "bj", "sha", "can", "she",
})


def is_english_word(entity: dict[str, Any], text: str) -> bool:
    if "start" not in entity or "end" not in entity:
        return False
    written = text[entity["start"] : entity["end"]]
    return written.casefold() in ENGLISH_WORDS and not written.isupper()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EnglishWordsAreNotNames(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EnglishWordsAreNotNames:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            entities = message.get(ENTITIES)
            if entities and message.get(LANGUAGE) == ENGLISH:
                text = message.get(TEXT) or ""
                kept = [e for e in entities if not is_english_word(e, text)]
                if len(kept) != len(entities):
                    message.set(ENTITIES, kept, add_to_output=True)
        return messages
