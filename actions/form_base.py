"""Shared base for every form's validation action.

What every form gets from here (after RasaHQ/financial-demo's custom validation idea):
- slot values from entities anywhere in the message, or from the raw text for the slot
  being asked, checked by a validator that explains precisely what is wrong;
- repeated invalid input: the format is explained on the 2nd try, and from the 3rd the user
  is offered to stop or to talk to a person;
- `cancel` / `request_human` stop the form (the rules then run the matching action);
- a question asked in the middle of a form is answered and the form asks again;
- a progress notification (or "退订") arriving in the middle of a form is handled and the form asks again.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions import digressions, notifications
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Result,
    Valid,
)
from actions.wording import Wording

STOP_INTENTS = {"cancel", "request_human"}
FALLBACK_INTENT = "nlu_fallback"
CONFIDENT = 0.7
QUESTION = re.compile(r"[?？吗呢]|怎么|什么|哪|多少|能不能|可不可以|是否|为啥|为什么|咋")
FAILURES_SLOT = "form_failures"

Updates = dict[str, Any]


@dataclass(frozen=True)
class SlotSpec:
    """How one form slot is filled and checked."""

    validator: Callable[[str], Result]
    explain: str  # utter_explain_…: the format, shown after a repeated mistake
    entity: str | None = None  # entity that fills the slot from any message
    free_text: bool = False  # any text is plausible (names, schools): trust a confident intent
    prose: bool = False  # the citizen's own sentence (a reason): whatever the NLU reads in it, only a question leaves
    intents: dict[str, str] = field(default_factory=dict)  # intent -> value, e.g. affirm -> confirmed


YES_NO = {"affirm": CONFIRMED, "deny": DECLINED}


def latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent = tracker.latest_message.get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def question_intent(tracker: Tracker) -> tuple[str, float]:
    """The intent of a message inside a form, for answering it in place. When the NLU could not choose between two
    readings of a question (nlu_fallback), its best guess: a question is never the value asked for."""
    intent, confidence = latest_intent(tracker)
    if intent != FALLBACK_INTENT or not QUESTION.search(tracker.latest_message.get("text") or ""):
        return intent, confidence
    ranked = [r for r in tracker.latest_message.get("intent_ranking") or [] if r.get("name") != FALLBACK_INTENT]
    return (str(ranked[0]["name"]), float(ranked[0].get("confidence") or 0.0)) if ranked else (intent, confidence)


def chat_user(tracker: Tracker) -> str:
    """Who is talking, for the services' rate limits and the binding of a verified identity: the conversation id,
    which each channel namespaces itself (wechat:…, tg:…, web:…, rest:…; integrations/channels/senders.py)."""
    return tracker.sender_id


class GovFormValidationAction(FormValidationAction):
    """Subclasses set `specs` and may add `after_<slot>` hooks that run once a slot is valid: they return the slot
    updates, or an `Invalid` when the value breaks a rule only the service's data can tell (it is then explained like
    any invalid answer)."""

    specs: dict[str, SlotSpec] = {}
    # The intents that start this form: said again in the middle ("颜色不对，我要申诉" as the appeal's reason), they
    # are an answer to the question asked, not another matter.
    own_intents: frozenset[str] = frozenset()

    @abstractmethod
    def name(self) -> str:
        """validate_<form name>"""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        return domain_slots

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        active = (tracker.active_loop or {}).get("name") == self.form_name()
        if active and notifications.in_form(tracker):  # a progress notification or "退订": not an answer
            told = await notifications.handle_in_form(dispatcher, tracker)
            return [*told, SlotSet(FAILURES_SLOT, tracker.get_slot(FAILURES_SLOT)),
                    *await self._next(tracker, dispatcher, domain)]
        requested = tracker.get_slot(REQUESTED_SLOT) if active else None
        candidates, from_entities = self.extract(tracker, requested)
        fills_requested = bool(requested) and self._fills(requested, candidates, from_entities)

        if requested and not fills_requested and self._stop_requested(tracker):
            return [ActionExecutionRejected(self.form_name())]
        updates = await self.before_validation(dispatcher, tracker, requested)
        if updates is None and requested and not fills_requested and self._is_digression(tracker, requested):
            await digressions.answer(question_intent(tracker)[0], dispatcher, tracker, domain)
            updates = {}
        if updates is None:
            updates = await self._validate_all(candidates, requested, dispatcher, tracker, domain)
        tracker.slots.update(updates)
        more = await self.after_validation(dispatcher, tracker, domain)
        tracker.slots.update(more)
        updates.update(more)
        # Always set a slot: a form whose validation sets nothing is rejected by Rasa.
        updates.setdefault(FAILURES_SLOT, tracker.get_slot(FAILURES_SLOT))
        events: list[EventType] = [SlotSet(k, v) for k, v in updates.items()]
        return events + await self._next(tracker, dispatcher, domain)

    async def before_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> Updates | None:
        """Handle a special request instead of validating (return the slot updates), or None."""
        return None

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        """Run once the message's values are validated (e.g. send the SMS code, check eligibility)."""
        return {}

    async def _validate_all(
        self,
        candidates: dict[str, str],
        requested: str | None,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Updates:
        updates: Updates = {}
        reasons: dict[str, Invalid] = {}
        for slot, raw in candidates.items():
            result = await self._validate(slot, raw, dispatcher, tracker, domain)
            if isinstance(result, Invalid) and slot != requested:
                continue  # a stray value for another question must not erase what was answered
            if isinstance(result, Invalid):
                reasons[slot] = result
                result = {slot: None}
            updates.update(result)
            tracker.slots.update(result)
        updates.update(self._explain_failure(requested, reasons, dispatcher, tracker, domain))
        return updates

    # -- extraction ---------------------------------------------------------------------

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        """Candidate values: entities for any form slot, the raw text for the asked slot.

        Returns the candidates and the names of the slots whose candidate is an entity.
        """
        text = (tracker.latest_message.get("text") or "").strip()
        candidates: dict[str, str] = {}
        for slot, spec in self.specs.items():
            value = next(tracker.get_latest_entity_values(spec.entity), None) if spec.entity else None
            if value:
                candidates[slot] = str(value)
        from_entities = set(candidates)
        spec = self.specs.get(requested or "")
        intent, _ = latest_intent(tracker)
        if spec and intent in spec.intents:
            candidates[requested] = spec.intents[intent]
            from_entities.add(requested)
        elif spec and requested not in candidates and text and not text.startswith("/"):
            candidates[requested] = text
        return candidates, from_entities

    def _fills(self, requested: str, candidates: dict[str, str], from_entities: set[str]) -> bool:
        """Does the message answer the question asked? Free text cannot tell: the intent decides."""
        raw = candidates.get(requested)
        spec = self.specs.get(requested)
        if raw is None:
            return False
        if spec is None or requested in from_entities:
            return True
        return not spec.free_text and isinstance(spec.validator(raw), Valid)

    def _stop_requested(self, tracker: Tracker) -> bool:
        intent, confidence = latest_intent(tracker)
        return intent in STOP_INTENTS and confidence >= 0.5

    def _is_digression(self, tracker: Tracker, requested: str) -> bool:
        intent, confidence = question_intent(tracker)
        if not digressions.handles(intent) or intent in self.own_intents or self._only_values(tracker):
            return False
        spec = self.specs.get(requested)
        asked = bool(QUESTION.search(tracker.latest_message.get("text") or ""))
        if spec is not None and spec.free_text and (intent == "out_of_scope" or asked or spec.prose):
            # An unknown word typed when a name is asked for ("新加破") or a reason that reads like a request is an
            # attempt at the answer, not another matter; a question ("贷款车能转吗") is never a name or a reason.
            return asked
        return confidence >= CONFIDENT or (spec is not None and not spec.free_text)

    def _only_values(self, tracker: Tracker) -> bool:
        """A message that is little more than a value this form takes ("浙A8B9C0" typed where the VIN is asked, to
        correct the plate) is an answer, whatever intent one message alone reads as."""
        text = (tracker.latest_message.get("text") or "").strip()
        wanted = {spec.entity for spec in self.specs.values() if spec.entity}
        covered = sum(int(e.get("end", 0)) - int(e.get("start", 0))
                      for e in tracker.latest_message.get("entities") or [] if e.get("entity") in wanted)
        return bool(text) and covered >= 0.6 * len(text)

    # -- validation ---------------------------------------------------------------------

    async def _validate(
        self,
        slot: str,
        raw: str,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Updates | Invalid:
        spec = self.specs.get(slot)
        result = spec.validator(raw) if spec else Valid(raw)
        if isinstance(result, Invalid):
            return result
        hook: Callable[..., Awaitable[Updates | Invalid]] | None = getattr(self, f"after_{slot}", None)
        if hook is None:
            return {slot: result.value}
        return await hook(result.value, dispatcher, tracker, domain)

    def _explain_failure(
        self,
        requested: str | None,
        reasons: dict[str, Invalid],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Updates:
        """Explain an invalid answer; escalate help when the same question keeps failing."""
        if not requested or requested not in reasons:
            return {FAILURES_SLOT: None} if requested and tracker.slots.get(requested) else {}
        previous = tracker.get_slot(FAILURES_SLOT) or {}
        count = previous.get("count", 0) + 1 if previous.get("slot") == requested else 1
        # One message: the reason, then (2nd try) how to write it, then (3rd try) the ways out.
        words = Wording(domain, tracker)
        invalid = reasons[requested]
        reason = words.part(invalid.response, **invalid.values)
        if count == 1:
            dispatcher.utter_message(response="utter_invalid_answer", reason=reason)
        else:
            explain = words.part(self.specs[requested].explain)
            dispatcher.utter_message(
                response="utter_invalid_answer_way_out" if count >= 3 else "utter_invalid_answer_explained",
                reason=reason,
                explain=explain,
            )
        return {FAILURES_SLOT: {"slot": requested, "count": count}}

    async def _next(
        self, tracker: Tracker, dispatcher: CollectingDispatcher, domain: DomainDict
    ) -> list[EventType]:
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        missing = next((s for s in required if tracker.slots.get(s) is None), None)
        return [SlotSet(REQUESTED_SLOT, missing)]
