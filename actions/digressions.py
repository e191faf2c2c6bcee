"""Questions asked in the middle of a form: answered in place, then the form asks again."""

from __future__ import annotations

import importlib
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.names import FORM_LABELS, INTENT_LABELS, label

# Intents answered by a fixed response.
RESPONSES = {
    "greet": "utter_help",
    "help": "utter_help",
    "bot_challenge": "utter_bot_challenge",
    "thank": "utter_thank",
    "out_of_scope": "utter_out_of_scope",
}
# Intents answered by looking something up ("module:function", imported lazily to avoid a cycle).
LOOKUPS = {
    "rent_subsidy_policy": "actions.rent_subsidy:answer_policy",
    "entry_control_query": "actions.immigration:answer_entry_control_digression",
    "port_status_query": "actions.immigration:answer_port_status_digression",
    "policy_question": "actions.policy_questions:answer_digression",
    "job_fair_registrations": "actions.campus:answer_registrations_digression",
    # Public tax questions (deadline, online filing, a surcharge with its numbers); the personal ones are another
    # transaction (tax_service_query stays in OTHER_TRANSACTIONS for them).
    "tax_service_query": "actions.tax:answer_digression",
}
# Starting another transaction in the middle of one: finish or cancel the current one first.
OTHER_TRANSACTIONS = frozenset(
    {
        "rent_subsidy_apply", "rent_subsidy_status", "job_fair_search", "job_search", "job_fair_register",
        "health_code_apply", "health_code_query", "health_code_check_in", "health_code_appeal",
        "work_resumption_apply", "work_resumption_status", "vehicle_transfer_apply", "vehicle_transfer_status",
        "tax_service_query", "court_case_query", "court_hearing_query", "mediation_sign",
    }
)


# Inside a form, "这个补贴每个月多少钱" is about the form's own service, however the NLU (which sees one message,
# not the conversation) read it: form -> (words naming its topic, the intent that answers about it).
FORM_TOPICS = {
    "rent_subsidy_form": (re.compile(r"补贴|补助|补帖"), "rent_subsidy_policy"),
    "rent_status_form": (re.compile(r"补贴|补助|补帖"), "rent_subsidy_policy"),
}
UNPLACED = {"out_of_scope", "policy_question"}


def in_context(intent: str, tracker: Tracker) -> str:
    """The intent of a question asked inside a form, read in the form's context."""
    topic = FORM_TOPICS.get((tracker.active_loop or {}).get("name", ""))
    if topic and intent in UNPLACED and topic[0].search(tracker.latest_message.get("text") or ""):
        return topic[1]
    return intent


def handles(intent: str) -> bool:
    return intent in RESPONSES or intent in LOOKUPS or intent in OTHER_TRANSACTIONS


async def answer(
    intent: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> None:
    intent = in_context(intent, tracker)
    if intent in RESPONSES:
        dispatcher.utter_message(response=RESPONSES[intent])
        return
    if intent in LOOKUPS:
        module, function = LOOKUPS[intent].split(":")
        handler: Any = getattr(importlib.import_module(module), function)
        if await handler(dispatcher, tracker, domain):
            return
    form = label(FORM_LABELS, (tracker.active_loop or {}).get("name", ""))
    if intent in OTHER_TRANSACTIONS:
        dispatcher.utter_message(
            response="utter_finish_current_first", form=form, wanted=label(INTENT_LABELS, intent)
        )
    else:  # a lookup that could not answer (no country or port named): any other business
        dispatcher.utter_message(response="utter_finish_current_first_other", form=form)
