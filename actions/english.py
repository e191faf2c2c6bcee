"""English for foreign travellers (docs/english.md): the conversation's language, kept in the slot `language`.

The NLU detects each message's language (nlu/components/language_detector.py: "zh", "en", or None when a message
cannot tell). Rasa runs `action_validate_slot_mappings` after every message; it copies the detected language into
the slot, whose value picks the responses' English variations (`condition: language = en` in the domain). A message
that cannot tell ("ok", "Japan", a button's payload) keeps the conversation's language.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from nlu.components.language import ENGLISH, LANGUAGES

LANGUAGE_SLOT = "language"


def in_english(tracker: Tracker) -> bool:
    """Is the conversation in English? What the actions ask before building text of their own (button titles)."""
    return tracker.get_slot(LANGUAGE_SLOT) == ENGLISH


def detected(tracker: Tracker) -> str | None:
    """The latest message's language as the NLU read it (None: the message cannot tell, or it was a payload)."""
    language = tracker.latest_message.get(LANGUAGE_SLOT)
    return language if language in LANGUAGES else None


class ValidateSlotMappings(ValidationAction):
    """Fills the custom-mapped global slot `language`; other custom slots are the forms' business."""

    def name(self) -> str:
        return "action_validate_slot_mappings"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return [LANGUAGE_SLOT]

    def extract_language(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = detected(tracker)
        return {LANGUAGE_SLOT: language} if language else {}

    def validate_language(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Only extract_language sets the slot, with a detected language: nothing to check (without this method
        rasa-sdk warns on every message that the slot has no validation)."""
        return {LANGUAGE_SLOT: value}
