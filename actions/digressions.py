"""Questions asked in the middle of a form: answered in place, then the form asks again."""

from __future__ import annotations

import importlib
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
}
# Starting another transaction in the middle of one: finish or cancel the current one first.
OTHER_TRANSACTIONS = frozenset(
    {
        "rent_subsidy_apply", "rent_subsidy_status", "job_fair_search", "job_search", "job_fair_register",
        "health_code_apply", "health_code_query", "health_code_check_in", "health_code_appeal",
        "work_resumption_apply", "work_resumption_status",
    }
)


def handles(intent: str) -> bool:
    return intent in RESPONSES or intent in LOOKUPS or intent in OTHER_TRANSACTIONS


async def answer(
    intent: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
) -> None:
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
