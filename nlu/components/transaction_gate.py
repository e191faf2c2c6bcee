"""Rasa component: a form that asks for personal data or changes something starts only when the citizen clearly asked.

Runs after the FallbackClassifier. When the top intent is one that starts such a form (config `intents`) but its
confidence is below `threshold`, the message becomes `nlu_fallback`, exactly as the FallbackClassifier marks it, so
the assistant asks first ("您是想……吗？" with buttons, actions/conversation.py) instead of starting the form. A
button's payload (/rent_subsidy_apply) bypasses NLU with full confidence, so one click confirms. The threshold is
chosen on development data by scripts/choose_thresholds.py.

A service's bare name (config `keywords`: "补贴", "健康码", "过户") is asked about whatever the confidence: it names a
service, not what the citizen wants of it (apply, check progress, or learn the rules), and the classifier's
confidence on two characters says more about the training data than about the citizen. A bare action ("打卡",
"申诉") says what is wanted and is not asked about.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class TransactionGate(GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"intents": [], "threshold": 0.9, "keywords": []}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TransactionGate:
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        self.intents = frozenset(config["intents"])
        self.threshold = float(config["threshold"])
        self.keywords = frozenset(config.get("keywords") or ())

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            confidence = intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0
            unsure = confidence < self.threshold or self._bare_keyword(message.get(TEXT) or "")
            if intent.get(INTENT_NAME_KEY) in self.intents and unsure:
                fallback = {INTENT_NAME_KEY: DEFAULT_NLU_FALLBACK_INTENT_NAME, PREDICTED_CONFIDENCE_KEY: self.threshold}
                message.data[INTENT] = fallback
                message.data.setdefault(INTENT_RANKING_KEY, []).insert(0, fallback)
        return messages

    def _bare_keyword(self, text: str) -> bool:
        return "".join(char for char in text if char.isalnum()) in self.keywords
