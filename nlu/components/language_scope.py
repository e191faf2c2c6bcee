"""Rasa component: in English the assistant serves only what it can answer in English (docs/english.md).

Runs last, after the FallbackClassifier and the TransactionGate. An English message (nlu/components/
language_detector.py) whose intent is not one of the config's `supported` intents becomes `out_of_scope`, whose
English variation says which services answer in English, which are Chinese-only and where to get help: a Chinese
form (which would ask for an ID number in Chinese) never starts from an English message, whatever the classifier's
confidence. So does an English message the classifier is unsure of (`nlu_fallback`): the "您是想……吗？" buttons are
Chinese, and the English reply says what can be asked instead. A bare value (`inform`) is served in English only when
it names a country or a port (config `inform_values`): "Hangzhou" belongs to the Chinese job-fair search.

The classifier's own reading stays in the intent ranking, and the replaced intent in the parse result's
`chinese_only` ({"intent", "confidence"}), for the conversation log and scripts/evaluate_nlu.py.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY
from rasa.shared.nlu.training_data.message import Message

from nlu.components.language import ENGLISH
from nlu.components.language_detector import LANGUAGE

CHINESE_ONLY = "chinese_only"  # the key in the parse result
ENGLISH_REPLY_INTENT = "out_of_scope"


def chinese_only(
    language: str | None,
    intent: str | None,
    entities: list[dict[str, Any]],
    supported: frozenset[str],
    inform_values: frozenset[str],
) -> bool:
    """Does this message get the English "only in Chinese" reply instead of what its intent would start?"""
    if language != ENGLISH:
        return False
    if intent == "inform":
        named = {e.get("entity") for e in entities}
        return not named or not named <= inform_values
    return intent not in supported


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class EnglishScope(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"supported": [], "inform_values": []}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> EnglishScope:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.supported = frozenset(config["supported"]) | {ENGLISH_REPLY_INTENT}
        self.inform_values = frozenset(config.get("inform_values") or ())

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            name = intent.get(INTENT_NAME_KEY)
            entities = message.get(ENTITIES) or []
            if chinese_only(message.get(LANGUAGE), name, entities, self.supported, self.inform_values):
                confidence = intent.get(PREDICTED_CONFIDENCE_KEY)
                message.set(CHINESE_ONLY, {"intent": name, "confidence": confidence}, add_to_output=True)
                message.data[INTENT] = {INTENT_NAME_KEY: ENGLISH_REPLY_INTENT, PREDICTED_CONFIDENCE_KEY: confidence}
        return messages
