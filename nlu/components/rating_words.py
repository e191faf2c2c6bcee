"""Rasa component: a message that names a rating level ("满意", "差评", "五星") is a rating (好差评).

Runs last. The rating words are a closed vocabulary (bot/rating_levels.py), while the classifier, seeing one message,
reads a bare "满意" as a yes and "一般般吧" as chit-chat. When a Chinese message that is not a question contains an
unmistakable rating word and the classifier chose a general intent (yes, no, a bare value, thanks, chit-chat, not
sure), the message becomes `rate_service` with its `rating_level`. A request for a service or a person, or a
question about how 好差评 works ("差评以后会有人回访吗"), is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot.rating_levels import UNMISTAKABLE, find

RATE = "rate_service"
ENTITY = "rating_level"
# A question, or words about the 好差评 system itself ("好差评制度", "差评的处理流程"): not a rating.
QUESTION = re.compile(r"[?？吗呢嘛]|怎么|什么|哪|多少|多久|几[个天级]|会不会|能不能|可不可以|是否|为啥|为什么|咋|如何|"
                      r"制度|规则|流程|等级|介绍|了解")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class RatingWords(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"general_intents": [], "confidence": 0.9}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> RatingWords:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.general = frozenset(config["general_intents"]) | {RATE}
        self.confidence = float(config["confidence"])

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if self._is_rating(message):
                self._rate(message)
        return messages

    def _is_rating(self, message: Message) -> bool:
        text = message.get(TEXT) or ""
        intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        return (intent in self.general and message.get("language") != "en" and not text.startswith("/")
                and not QUESTION.search(text) and bool(UNMISTAKABLE.search(text)))

    def _rate(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        found = find(text)
        if found is None:
            return
        intent = message.get(INTENT) or {}
        if intent.get(INTENT_NAME_KEY) != RATE:
            rated = {INTENT_NAME_KEY: RATE, PREDICTED_CONFIDENCE_KEY: max(self.confidence,
                                                                         intent.get(PREDICTED_CONFIDENCE_KEY) or 0)}
            message.data[INTENT] = rated
            message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, rated)
        entities = message.get(ENTITIES) or []
        if not any(e.get("entity") == ENTITY for e in entities):  # the classifier's own span, when it found one
            entities = [*entities, {"entity": ENTITY, "start": found.start, "end": found.end, "value": found.level,
                                    "extractor": type(self).__name__}]
            message.set(ENTITIES, entities, add_to_output=True)
