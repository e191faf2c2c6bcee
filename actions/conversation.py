"""General conversation actions: clarify, cancel, hand over to a person, bare values."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActiveLoop,
    ConversationPaused,
    EventType,
    FollowupAction,
    SessionStarted,
    SlotSet,
)
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions import court, vehicle_transfer
from actions.campus import ActionSearchJobFairs, ActionSearchJobs
from actions.court import COURT_SLOTS
from actions.health_code import HEALTH_SLOTS
from actions.policy_questions import answer_question
from actions.tax import TAX_SLOTS
from actions.vehicle_transfer import VEHICLE_SLOTS
from actions.wording import Wording
from actions.work_resumption import WORK_SLOTS
from bot.names import FORM_LABELS, label

# What each intent means in the citizen's words, for the "您是想……吗？" buttons: these are phrased as a choice
# offered to the citizen ("看看能办理哪些业务"), unlike the console's names for intents (bot/names.py: INTENT_LABELS).
CLARIFY_LABELS = {
    "greet": "打个招呼",
    "goodbye": "结束对话",
    "thank": "表示感谢",
    "help": "看看能办理哪些业务",
    "bot_challenge": "确认是否在和机器人对话",
    "request_human": "转人工服务",
    "cancel": "取消当前业务",
    "rent_subsidy_apply": "申请租房补贴",
    "rent_subsidy_status": "查询租房补贴的办理进度",
    "rent_subsidy_policy": "了解租房补贴政策",
    "entry_control_query": "查询出入境/入境管控政策",
    "port_status_query": "查询口岸通关状态",
    "job_fair_search": "查找招聘会",
    "job_search": "查找招聘岗位",
    "job_fair_register": "报名参加招聘会",
    "job_fair_registrations": "查询我的招聘会报名记录",
    "health_code_apply": "申领健康码",
    "health_code_query": "查询我的健康码",
    "health_code_check_in": "进行每日健康打卡",
    "health_code_appeal": "对健康码颜色申请复核",
    "work_resumption_apply": "办理企业复工申报",
    "work_resumption_status": "查询复工申报的办理进度",
    "vehicle_transfer_apply": "办理机动车转籍（档案电子转递）",
    "vehicle_transfer_status": "查询机动车转籍的办理进度",
    "tax_service_query": "咨询纳税申报、滞纳金或延期缴税",
    "court_case_query": "查询我的案件进度",
    "court_hearing_query": "查询开庭或听证安排、确认是否在线参加",
    "mediation_sign": "阅读并签署调解协议",
    "show_more": "查看更多结果",
}
# Services that answer their own rules' questions when the NLU is unsure ("转籍还要回南宁验车吗").
UNSURE_RULES = {
    "vehicle_transfer_apply": vehicle_transfer.answer_unsure_rule_question,
    "vehicle_transfer_status": vehicle_transfer.answer_unsure_rule_question,
    "court_case_query": court.answer_unsure_rule_question,
    "court_hearing_query": court.answer_unsure_rule_question,
    "mediation_sign": court.answer_unsure_rule_question,
}
# Words that ask about a rule ("……的话", "一般", "要多少天") rather than for something to be done ("咋弄").
RULE_QUESTION = re.compile(r"的话|一般|通常|规定|标准|条件|多少天|多久|几天|是不是都")
# Words of a message about one's own case (or one's family's or company's).
OWN_CASE = re.compile(r"我|本人|俺|咱|家里|家人|老人|孩子|爸|妈|老婆|老公|公司|单位|帮|给.{0,3}办")
# Slots of a transaction that must not survive its cancellation (identity stays verified).
TRANSACTION_SLOTS = [
    "rent_commitment", "rent_eligibility", "job_fair_id", "school", "reg_major", "reg_degree",
    "graduation_year", "fair_registration_confirm", "form_failures",
    *HEALTH_SLOTS,
    *WORK_SLOTS,
    *VEHICLE_SLOTS,
    *TAX_SLOTS,
    *COURT_SLOTS,
]


def general_question(tracker: Tracker) -> bool:
    """A question about a rule, not about one's own case ("黄码的话要打卡多少天", not "我还要打卡几天"): when the NLU
    is unsure, it belongs to the knowledge base rather than to a transaction's buttons."""
    text = tracker.latest_message.get("text") or ""
    return bool(RULE_QUESTION.search(text)) and not OWN_CASE.search(text)


def payload_for(intent: str, entities: list[dict[str, Any]]) -> str:
    values = {e["entity"]: e["value"] for e in entities if e.get("entity") and e.get("value")}
    return f"/{intent}{json.dumps(values, ensure_ascii=False) if values else ''}"


class ActionClarify(Action):
    """Low NLU confidence: offer the likely intents as buttons instead of guessing."""

    def name(self) -> str:
        return "action_clarify"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ranking = tracker.latest_message.get("intent_ranking") or []
        entities = tracker.latest_message.get("entities") or []
        guesses = [r["name"] for r in ranking if r["name"] != "nlu_fallback"]
        if guesses and (guesses[0] in ("policy_question", "out_of_scope") or general_question(tracker)):
            # Most likely a question: the knowledge base answers, offers its closest questions, or says it does not
            # know (buttons of intents would only lose the question's words).
            answer_question(dispatcher, tracker)
            return []
        if guesses and guesses[0] in UNSURE_RULES and await UNSURE_RULES[guesses[0]](dispatcher, tracker, domain):
            return []  # a question about the rules of the likeliest service, answered from them
        likely = [r["name"] for r in ranking if r["name"] in CLARIFY_LABELS]
        buttons = [{"title": CLARIFY_LABELS[i], "payload": payload_for(i, entities)} for i in likely[:3]]
        if not buttons:
            dispatcher.utter_message(response="utter_default")
            return []
        choices = "、".join(f"“{b['title']}”" for b in buttons)
        # The way out comes last, after the guesses (a response's own buttons would come first): its title is a
        # part of the domain.
        human = Wording(domain, tracker).part("utter_clarify_human_button")
        buttons.append({"title": human, "payload": "/request_human"})
        dispatcher.utter_message(response="utter_clarify", choices=choices, buttons=buttons)
        return []


class ActionCancelTransaction(Action):
    def name(self) -> str:
        return "action_cancel_transaction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        if not form:
            dispatcher.utter_message(response="utter_nothing_to_cancel")
            return []
        dispatcher.utter_message(response="utter_transaction_cancelled", form=label(FORM_LABELS, form))
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)] + [SlotSet(s, None) for s in TRANSACTION_SLOTS]


class ActionRequestHuman(Action):
    """Acknowledge and record a handoff request; the operator console picks it up from the log."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(
            response="utter_handoff_requested",
            json_message={"handoff": {"requested_at": datetime.now(timezone.utc).isoformat()}},
        )
        events: list[EventType] = [SlotSet("handoff_requested", True)]
        if tracker.active_loop and tracker.active_loop.get("name"):
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        return events


class ActionHandleInform(Action):
    """A bare value outside any form: continue the topic the value belongs to."""

    def name(self) -> str:
        return "action_handle_inform"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        entities = {e["entity"] for e in tracker.latest_message.get("entities") or []}
        if "country_region" in entities:
            return [FollowupAction("entry_control_form")]
        if "port" in entities:
            return [FollowupAction("port_status_form")]
        if "case_number" in entities:
            return [FollowupAction("court_case_form")]
        last_list = (tracker.get_slot("result_list") or {}).get("kind")
        if "ordinal" in entities and last_list == "fairs":
            return [FollowupAction("job_fair_registration_form")]
        if entities & {"city", "industry", "major", "degree"}:
            # Run the search here rather than as a follow-up action: no rule covers the turn after one.
            search = ActionSearchJobs() if last_list == "positions" else ActionSearchJobFairs()
            return await search.run(dispatcher, tracker, domain)
        dispatcher.utter_message(response="utter_which_business")
        return []


class ActionSessionStart(Action):
    """Rasa's session start (nothing carries over: a verified identity is valid for one session), except that
    a conversation an operator has taken over stays paused: without this, a citizen who writes after an hour
    of silence would get the assistant back in the middle of a conversation with a human."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        if tracker.is_paused():
            events.append(ConversationPaused())
        return [*events, ActionExecuted("action_listen")]
