"""Questions asked in the middle of a form: answered in place, then the form asks again."""

from __future__ import annotations

import importlib
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

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
}
# Starting another transaction in the middle of one: finish or cancel the current one first.
OTHER_TRANSACTIONS = {
    "rent_subsidy_apply": "申请租房补贴",
    "rent_subsidy_status": "查询租房补贴进度",
    "job_fair_search": "查询招聘会",
    "job_search": "查询岗位",
    "job_fair_register": "报名招聘会",
    "job_fair_registrations": "查询报名记录",
}
FORM_LABELS = {
    "rent_subsidy_form": "租房补贴申请",
    "rent_status_form": "租房补贴进度查询",
    "entry_control_form": "入境政策查询",
    "port_status_form": "口岸通关状态查询",
    "job_fair_registration_form": "招聘会报名",
    "job_registrations_form": "报名记录查询",
}


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
    form = FORM_LABELS.get((tracker.active_loop or {}).get("name", ""), "当前业务")
    wanted = OTHER_TRANSACTIONS.get(intent, "办理其他业务")
    dispatcher.utter_message(
        text=f"您正在办理“{form}”。如需{wanted}，请先完成当前业务，或回复“取消”后再告诉我。"
    )
