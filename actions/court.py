"""The court in the chat (移动微法院) and the procuratorate's video hearings, for a verified party.

Cases: the person's cases (court, cause, stage, next date), or the one whose number was given; a case the person is
not a party to gets the same answer as a number that does not exist, and the attempt is recorded for the operators.
Hearings: the person's hearings (court and procuratorate); one that needs consent to be held online is shown and the
consent asked (agree → joining instructions and the identity check before it; refuse → in person, where and when).
Mediation: the agreement's text is shown, the party confirms and signs once; an agreement already signed is said to be
so; a new version met while signing (earlier signatures void) is shown and asked again.
The rules' questions (不同意在线开庭可以吗, 调解协议签了有效吗, 诉讼费什么时候交…) are answered from the service's
ready-made answers, at the start of a form (nothing is asked then) or inside one; others go to the knowledge base.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import QUESTION, YES_NO, GovFormValidationAction, SlotSpec, Updates, chat_user, latest_intent
from actions.identity import IDENTITY, IDENTITY_SPECS, IdentityMixin, identity_slots
from actions.policy_questions import answer_question
from actions.slot_values import plain
from actions.validators.common import CONFIRMED, DECLINED, Invalid, chinese_date, validate_confirmation
from actions.validators.court import AGREED, REFUSED, validate_case_number, validate_choice, validate_consent
from actions.wording import Wording
from bot.masking import hash_sender_id
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.court import Hearing, Mediation
from integrations.services.court import hearing_from_json as hearing_of
from integrations.services.court import mediation_from_json as mediation_of

logger = logging.getLogger(__name__)

CASES, HEARING, MEDIATION = "court_case", "court_hearing", "mediation"  # transaction_result services (console)
SETTLED = "settled"  # fills the form's remaining questions when there is nothing more to ask
ANSWERED = "answered"  # court_result: a rule question that started the form was answered
RUN = "form_run"  # a key of the stored hearing / agreement: this run of the form, for the idempotency key
COURT_SLOTS = ["case_number", "court_items", "court_hearing", "court_consent", "court_agreement", "court_confirm",
               "court_result"]
NOT_FOUND = {"case_not_found", "hearing_not_found"}

CASE_SPEC = SlotSpec(validate_case_number, "utter_explain_case_number", entity="case_number")
RULE_INTENTS = frozenset({"policy_question", "out_of_scope", "court_case_query", "court_hearing_query",
                          "mediation_sign"})
OWN = re.compile(r"我|本人|俺|咱")
# A rule question's topic → the service's ready-made answer (services/config/court.yml: faq).
RULE_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("online_refusal", re.compile(r"(?:不同意|不想|不愿意?|拒绝|不接受).{0,6}(?:在线|线上|网上|视频|远程)")),
    ("mediation_effect", re.compile(r"调解.{0,10}(?:有效|效力|生效|反悔|算数|作数)")),
    ("litigation_fee", re.compile(r"诉讼费|受理费|案件费")),
    ("identity_check", re.compile(r"人脸|刷脸|身份.{0,4}(?:核验|验证|认证|核实)")),
    ("reschedule", re.compile(r"改期|延期开庭|推迟|换个时间|改时间|时间.{0,4}(?:冲突|去不了)")),
    ("procuratorate_hearing", re.compile(r"听证")),
    ("online_how", re.compile(r"(?:在线|线上|网上|视频|远程).{0,6}(?:怎么|如何|需要|要什么)|设备|摄像头|网络")),
    ("case_stages", re.compile(r"阶段|流程|步骤")),
)


# -- the service's objects in slots (JSON) -------------------------------------------------------------------------


MODE_PARTS = {"pending": "utter_court_mode_pending", "online": "utter_court_mode_online",
              "in_person": "utter_court_mode_in_person"}
HEARING_NAMES = {"court": "utter_court_hearing_name_court", "procuratorate": "utter_court_hearing_name_procuratorate"}


def needs_consent(hearing: Hearing) -> bool:
    return hearing.online_possible and hearing.consent is None


# -- what the citizen reads -----------------------------------------------------------------------------------------


def moment_text(moment: datetime | None) -> str:
    """2026年12月7日（星期一）10:00"""
    return f"{chinese_date(moment.date(), weekday=True)}{moment:%H:%M}" if moment else ""


def hearing_text(hearing: Hearing, words: Wording) -> str:
    said = {"organ": hearing.organ, "time": moment_text(hearing.scheduled_at), "place": hearing.place,
            "mode": words.part(MODE_PARTS[hearing.mode])}
    if hearing.kind == "procuratorate":
        return words.part("utter_court_hearing_item_procuratorate", subject=hearing.subject or "", **said)
    return words.part("utter_court_hearing_item", case_number=hearing.case_number or "", **said)


def hearing_listing(hearings: list[Hearing], words: Wording) -> str:
    return "\n\n".join(f"{number}. {hearing_text(h, words)}" for number, h in enumerate(hearings, start=1))


def parties_text(mediation: Mediation, words: Wording) -> str:
    return "\n".join(
        words.part("utter_mediation_party_signed" if party.signed else "utter_mediation_party_waiting",
                   role=party.role, party=party.name)
        for party in mediation.parties
    )


def mediation_status(mediation: Mediation, words: Wording) -> str:
    """Who has signed, and what happens next (the service says who still has to sign)."""
    if mediation.all_signed:
        return words.part("utter_mediation_all_signed", parties=parties_text(mediation, words),
                          next_step=mediation.next_step)
    return words.part("utter_mediation_waiting", parties=parties_text(mediation, words), next_step=mediation.next_step)


async def rule_answer(tracker: Tracker) -> str | None:
    """The service's ready-made answer to a rule question of the message, or None (the knowledge base answers)."""
    text = tracker.latest_message.get("text") or ""
    key = next((key for key, words in RULE_TOPICS if words.search(text)), None)
    if key is None:
        return None
    try:
        rules = await services.court().get_rules()
    except ServiceUnavailable:
        return None
    return rules.faq.get(key)


def asks_about_rules(tracker: Tracker) -> bool:
    """A question that names no case and is not about the citizen ("诉讼费什么时候交", not "检察院通知我…什么时候")."""
    text = tracker.latest_message.get("text") or ""
    named = any(e.get("entity") == "case_number" for e in tracker.latest_message.get("entities") or [])
    return bool(QUESTION.search(text)) and not named and not OWN.search(text)


async def answer_unsure_rule_question(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    """A rule question read as (or most likely as) a court request: the rule is the answer, nothing is asked."""
    answer = await rule_answer(tracker) if asks_about_rules(tracker) else None
    if answer is not None:
        dispatcher.utter_message(response="utter_court_rule_answer_first", answer=answer)
    return answer is not None


def record_refused_case(tracker: Tracker, case_number: str) -> None:
    # The service recorded the attempt too; this line names the conversation as the console does (hashed).
    logger.warning("court: case %s is not a case of the verified person in conversation %s", case_number,
                   hash_sender_id(tracker.sender_id))


# -- the forms --------------------------------------------------------------------------------------------------------


class CourtForm(IdentityMixin, GovFormValidationAction):
    """What the three court forms share: identity first, the rules' questions answered, a settled end."""

    level = IDENTITY
    questions: list[str] = []

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        if tracker.get_slot("court_result") == ANSWERED:
            return []
        return identity_slots(tracker, IDENTITY) + self.questions

    def settle(self, result: Any) -> Updates:
        """Nothing more to ask: fill the remaining questions so the form ends, and say why in court_result."""
        return {slot: SETTLED for slot in self.questions} | {"court_result": result}

    def verified_and_open(self, tracker: Tracker) -> bool:
        return not identity_slots(tracker, IDENTITY) and not tracker.get_slot("court_result")

    async def before_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> Updates | None:
        updates = await super().before_validation(dispatcher, tracker, requested)
        if updates is not None:
            return updates
        if requested is None:
            if latest_intent(tracker)[0] in RULE_INTENTS and await answer_unsure_rule_question(dispatcher, tracker, {}):
                return {"court_result": ANSWERED}
            return None
        named = any(e.get("entity") == "case_number" for e in tracker.latest_message.get("entities") or [])
        if named or not QUESTION.search(tracker.latest_message.get("text") or ""):
            return None
        if requested == "court_consent":
            # A question is never the decision ("不同意的话可以吗"): answered, then the decision is asked again.
            answer = await rule_answer(tracker)
            if answer is None:
                answer_question(dispatcher, tracker)
            else:
                dispatcher.utter_message(response="utter_court_rule_answer", answer=answer)
            return {}
        candidates, from_entities = self.extract(tracker, requested)
        if latest_intent(tracker)[0] not in RULE_INTENTS or self._fills(requested, candidates, from_entities):
            return None
        answer = await rule_answer(tracker)
        if answer is None:
            return None  # the knowledge base answers, as in every form
        dispatcher.utter_message(response="utter_court_rule_answer", answer=answer)
        return {}

    def unavailable(self, error: ServiceUnavailable, service: str, dispatcher: CollectingDispatcher) -> Updates:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified_no_repeat")
        return self.settle("error") | {services.RESULT_SLOT: services.result(service, "error")}

    def not_found(self, case_number: str, service: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Updates:
        """The same answer for a case that does not exist and one of somebody else: nothing about it is told."""
        dispatcher.utter_message(response="utter_court_case_not_found", case_number=case_number)
        record_refused_case(tracker, case_number)
        return self.settle("not_found") | {services.RESULT_SLOT: services.result(service, "rejected", case_number)}


class ValidateCourtCaseForm(CourtForm):
    """Identity only; a case number in the request narrows the answer to that case."""

    own_intents = frozenset({"court_case_query"})
    specs = {**IDENTITY_SPECS, "case_number": CASE_SPEC}

    def name(self) -> str:
        return "validate_court_case_form"


class ValidateCourtHearingForm(CourtForm):
    """Identity → which hearing (asked only when several wait for consent) → consent to hold it online."""

    own_intents = frozenset({"court_hearing_query"})
    questions = ["court_hearing", "court_consent"]
    specs = {
        **IDENTITY_SPECS,
        "case_number": CASE_SPEC,
        "court_hearing": SlotSpec(validate_choice, "utter_explain_court_choice"),
        "court_consent": SlotSpec(validate_consent, "utter_explain_court_consent",
                                  intents={"affirm": AGREED, "deny": REFUSED}),
    }

    def name(self) -> str:
        return "validate_court_hearing_form"

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        if not self.verified_and_open(tracker) or tracker.get_slot("court_items") is not None:
            return updates
        return updates | await self.load_hearings(dispatcher, tracker, domain)

    async def load_hearings(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Updates:
        try:
            hearings = await services.court().list_hearings(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker))
        except ServiceUnavailable as error:
            return self.unavailable(error, HEARING, dispatcher)
        case_number = tracker.get_slot("case_number")
        if case_number:
            hearings = [h for h in hearings if h.case_number == case_number]
            if not hearings:
                dispatcher.utter_message(response="utter_court_hearing_none_for_case", case_number=case_number)
                return self.settle("none") | {services.RESULT_SLOT: services.result(HEARING, "completed")}
        if not hearings:
            dispatcher.utter_message(response="utter_court_hearings_none")
            return self.settle("none") | {services.RESULT_SLOT: services.result(HEARING, "completed")}
        pending = [h for h in hearings if needs_consent(h)]
        items = {"court_items": [plain(h) | {RUN: uuid.uuid4().hex} for h in pending]}
        if len(pending) == 1:
            return items | {"court_hearing": pending[0].hearing_id}
        words = Wording(domain, tracker)
        if not pending:  # every decision is made: the hearings as they stand
            dispatcher.utter_message(response="utter_court_hearings", count=len(hearings),
                                     hearings=hearing_listing(hearings, words))
            return items | self.settle("shown") | {services.RESULT_SLOT: services.result(HEARING, "completed")}
        return items  # several wait for consent: action_ask_court_hearing lists them

    async def after_court_hearing(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        items = tracker.get_slot("court_items") or []
        chosen = picked(items, value)
        if chosen is None:
            return Invalid("utter_invalid_court_choice", {"count": len(items)})
        return {"court_hearing": chosen["hearing_id"]}

    async def after_court_consent(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        chosen = chosen_hearing(tracker)
        if chosen is None:
            return {"court_consent": None}
        key = idempotency_key(tracker.sender_id, "court_consent", f"{chosen['hearing_id']}:{chosen[RUN]}")
        try:
            hearing = await services.court().give_consent(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker), idempotency_key=key,
                hearing_id=chosen["hearing_id"], agree=value == AGREED)
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_submission_kept")
            return {"court_consent": None, services.RESULT_SLOT: services.result(HEARING, "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return self.settle("rejected") | {services.RESULT_SLOT: services.result(HEARING, "rejected")}
        return {"court_consent": value, "court_result": plain(hearing),
                services.RESULT_SLOT: services.result(HEARING, "completed", hearing.hearing_id)}


def picked(items: list[dict[str, Any]], value: str) -> dict[str, Any] | None:
    """The item of a list shown to the citizen, by its number ("2") or its case number."""
    if value.isdigit():
        return items[int(value) - 1] if 1 <= int(value) <= len(items) else None
    return next((item for item in items if item.get("case_number") == value), None)


def chosen_hearing(tracker: Tracker) -> dict[str, Any] | None:
    wanted = tracker.get_slot("court_hearing")
    return next((item for item in tracker.get_slot("court_items") or [] if item["hearing_id"] == wanted), None)


class ValidateMediationSignForm(CourtForm):
    """Identity → the case (from the request, the only agreement waiting, or a choice) → the text → signature."""

    own_intents = frozenset({"mediation_sign"})
    questions = ["case_number", "court_confirm"]
    specs = {
        **IDENTITY_SPECS,
        "case_number": SlotSpec(validate_choice, "utter_explain_case_number", entity="case_number"),
        "court_confirm": SlotSpec(validate_confirmation, "utter_explain_mediation_confirm", intents=YES_NO),
    }

    def name(self) -> str:
        return "validate_mediation_sign_form"

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        if not self.verified_and_open(tracker):
            return updates
        if not tracker.get_slot("case_number"):
            if tracker.get_slot("court_items") is None:
                updates |= await self.load_mediations(dispatcher, tracker, domain)
            return updates
        if not tracker.get_slot("court_agreement"):
            updates |= await self.load_agreement(tracker.get_slot("case_number"), dispatcher, tracker, domain)
        return updates

    async def load_mediations(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Updates:
        try:
            mediations = await services.court().list_mediations(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker))
        except ServiceUnavailable as error:
            return self.unavailable(error, MEDIATION, dispatcher)
        waiting = [m for m in mediations if not m.signed_by_me]
        if len(waiting) == 1:
            tracker.slots["case_number"] = waiting[0].case_number
            return {"case_number": waiting[0].case_number,
                    **await self.load_agreement(waiting[0].case_number, dispatcher, tracker, domain)}
        if not waiting:
            words = Wording(domain, tracker)
            if mediations:
                listing = "\n\n".join(signed_text(m, words) for m in mediations)
                dispatcher.utter_message(response="utter_mediations_all_signed_by_me", mediations=listing)
            else:
                dispatcher.utter_message(response="utter_mediations_none")
            return self.settle("none") | {services.RESULT_SLOT: services.result(MEDIATION, "completed")}
        return {"court_items": [{"case_number": m.case_number, "court": m.court} for m in waiting]}

    async def after_case_number(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        if not value.isdigit():  # a case number: any of hers, listed or not
            return {"case_number": value, "court_agreement": None}
        items = tracker.get_slot("court_items") or []
        chosen = picked(items, value)
        if chosen is None:
            return Invalid("utter_invalid_court_choice", {"count": len(items)})
        return {"case_number": chosen["case_number"], "court_agreement": None}

    async def load_agreement(
        self, case_number: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        try:
            mediation = await services.court().get_mediation(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker), case_number=case_number)
        except ServiceUnavailable as error:
            return self.unavailable(error, MEDIATION, dispatcher)
        except ServiceRejected as error:
            if error.code == "case_not_found":
                return self.not_found(case_number, MEDIATION, dispatcher, tracker)
            dispatcher.utter_message(response="utter_mediation_none_for_case", reason=error.message)
            return self.settle("none") | {services.RESULT_SLOT: services.result(MEDIATION, "rejected")}
        if mediation.signed_by_me:
            dispatcher.utter_message(response="utter_mediation_already_signed", case_number=case_number,
                                     version=mediation.version, signed_at=moment_text(mediation.my_signed_at),
                                     status=mediation_status(mediation, Wording(domain, tracker)))
            return self.settle("already_signed") | {services.RESULT_SLOT: services.result(MEDIATION, "completed")}
        return {"court_agreement": plain(mediation) | {RUN: uuid.uuid4().hex}}

    async def after_court_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        agreement = tracker.get_slot("court_agreement")
        if not agreement:
            return {"court_confirm": None}
        if value == DECLINED:
            dispatcher.utter_message(response="utter_mediation_declined", case_number=agreement["case_number"])
            return {"court_confirm": DECLINED, "court_result": "declined"}
        key = idempotency_key(tracker.sender_id, "mediation_sign",
                              f"{agreement['case_number']}:{agreement['version']}:{agreement[RUN]}")
        try:
            mediation = await services.court().sign_mediation(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker), idempotency_key=key,
                case_number=agreement["case_number"], version=agreement["version"])
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_submission_kept")
            return {"court_confirm": None, services.RESULT_SLOT: services.result(MEDIATION, "error")}
        except ServiceRejected as error:
            if error.code == "agreement_version_changed":
                # The court issued a new text: earlier signatures are void; the new one is shown and asked again.
                dispatcher.utter_message(response="utter_mediation_version_changed")
                return {"court_confirm": None, "court_agreement": None,
                        **await self.load_agreement(agreement["case_number"], dispatcher, tracker, domain)}
            services.tell_refused(dispatcher, error)
            return self.settle("rejected") | {services.RESULT_SLOT: services.result(MEDIATION, "rejected")}
        return {"court_confirm": CONFIRMED, "court_result": plain(mediation),
                services.RESULT_SLOT: services.result(MEDIATION, "completed", agreement["case_number"])}


def signed_text(mediation: Mediation, words: Wording) -> str:
    return words.part("utter_mediation_signed_item", case_number=mediation.case_number, court=mediation.court,
                      version=mediation.version, status=mediation_status(mediation, words))


# -- the questions that show the service's data ---------------------------------------------------------------------


class ActionAskCourtHearing(Action):
    """Several hearings wait for consent: list them and ask which one."""

    def name(self) -> str:
        return "action_ask_court_hearing"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hearings = [hearing_of(item) for item in tracker.get_slot("court_items") or []]
        words = Wording(domain, tracker)
        buttons = [{"title": words.part("utter_court_hearing_button", number=number), "payload": str(number)}
                   for number in range(1, len(hearings) + 1)]
        dispatcher.utter_message(response="utter_ask_court_hearing", count=len(hearings),
                                 hearings=hearing_listing(hearings, words), buttons=buttons)
        return []


class ActionAskCourtConsent(Action):
    """Show the hearing (when, where, how it works) and ask whether it may be held online."""

    def name(self) -> str:
        return "action_ask_court_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        chosen = chosen_hearing(tracker)
        if chosen is None:
            dispatcher.utter_message(response="utter_court_check_unavailable")
            return []
        hearing = hearing_of(chosen)
        values = {"organ": hearing.organ, "time": moment_text(hearing.scheduled_at), "place": hearing.place,
                  "how_it_works": hearing.how_it_works}
        if hearing.kind == "procuratorate":
            dispatcher.utter_message(response="utter_ask_court_consent_procuratorate", subject=hearing.subject,
                                     **values)
        else:
            dispatcher.utter_message(response="utter_ask_court_consent", case_number=hearing.case_number, **values)
        return []


class ActionAskMediationCase(Action):
    """Several agreements wait for the person's signature: list them and ask which one."""

    def name(self) -> str:
        return "action_ask_case_number"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        items = tracker.get_slot("court_items") or []
        if not items:
            dispatcher.utter_message(response="utter_ask_case_number")
            return []
        words = Wording(domain, tracker)
        listing = "\n".join(words.part("utter_mediation_case_item", number=number, case_number=item["case_number"],
                                       court=item["court"]) for number, item in enumerate(items, start=1))
        buttons = [{"title": item["case_number"], "payload": str(number)} for number, item in enumerate(items, 1)]
        dispatcher.utter_message(response="utter_ask_case_number_mediations", count=len(items), cases=listing,
                                 buttons=buttons)
        return []


class ActionAskCourtConfirm(Action):
    """The agreement's full text, who has signed, and the question."""

    def name(self) -> str:
        return "action_ask_court_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        data = tracker.get_slot("court_agreement")
        if not data:
            dispatcher.utter_message(response="utter_court_check_unavailable")
            return []
        mediation = mediation_of(data)
        words = Wording(domain, tracker)
        note = words.part("utter_mediation_new_version_note", version=mediation.version) \
            if mediation.voided_versions else ""
        dispatcher.utter_message(response="utter_ask_court_confirm", case_number=mediation.case_number,
                                 court=mediation.court, version=mediation.version, agreement=mediation.text,
                                 parties=parties_text(mediation, words), note=note)
        return []


# -- the results --------------------------------------------------------------------------------------------------


class ActionCourtCases(Action):
    """After the case form: the case asked for, or all the person's cases; then forget the form's answers."""

    def name(self) -> str:
        return "action_court_cases"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        cleared: list[EventType] = [SlotSet(slot, None) for slot in COURT_SLOTS]
        if tracker.get_slot("court_result") == ANSWERED or not tracker.get_slot("identity_token"):
            return cleared
        case_number = tracker.get_slot("case_number")
        token, user = tracker.get_slot("identity_token"), chat_user(tracker)
        try:
            if case_number:
                cases = [await services.court().get_case(token=token, chat_user=user, case_number=case_number)]
            else:
                cases = await services.court().list_cases(token=token, chat_user=user)
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified_no_repeat")
            return [*cleared, services.result_event(CASES, "error")]
        except ServiceRejected as error:
            if error.code in NOT_FOUND and case_number:
                dispatcher.utter_message(response="utter_court_case_not_found", case_number=case_number)
                record_refused_case(tracker, case_number)
            else:
                services.tell_refused(dispatcher, error)
            return [*cleared, services.result_event(CASES, "rejected", case_number)]
        if not cases:
            dispatcher.utter_message(response="utter_court_cases_none")
        else:
            words = Wording(domain, tracker)
            listing = "\n\n".join(case_text(case, words) for case in cases)
            dispatcher.utter_message(response="utter_court_cases", count=len(cases), cases=listing)
        return [*cleared, services.result_event(CASES, "completed")]


def case_text(case: Any, words: Wording) -> str:
    next_date = words.part("utter_court_case_next_date", date=moment_text(case.next_date)) if case.next_date else ""
    return words.part("utter_court_case_item", case_number=case.case_number, court=case.court, cause=case.cause,
                      role=case.role, stage_name=case.stage_name, next_step=case.next_step, next_date=next_date)


class ActionCourtHearing(Action):
    """After the hearing form: the consent recorded (how to join, or where to come), then forget the answers."""

    def name(self) -> str:
        return "action_court_hearing"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result = tracker.get_slot("court_result")
        if isinstance(result, dict) and result.get("hearing_id"):
            hearing = hearing_of(result)
            words = Wording(domain, tracker)
            said = {"organ": hearing.organ, "time": moment_text(hearing.scheduled_at),
                    "hearing_name": words.part(HEARING_NAMES[hearing.kind])}
            if hearing.already_recorded:
                dispatcher.utter_message(response="utter_court_consent_already", **said,
                                         decision=words.part(MODE_PARTS[hearing.mode]),
                                         joining_instructions=hearing.joining_instructions)
            elif hearing.consent == AGREED:
                dispatcher.utter_message(response="utter_court_consent_agreed", **said,
                                         joining_instructions=hearing.joining_instructions,
                                         identity_recheck=hearing.identity_recheck)
            else:
                dispatcher.utter_message(response="utter_court_consent_refused", **said, place=hearing.place)
        return [SlotSet(slot, None) for slot in COURT_SLOTS]


class ActionSignMediation(Action):
    """After the mediation form: the signature recorded and where the agreement stands; then forget the answers."""

    def name(self) -> str:
        return "action_sign_mediation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result = tracker.get_slot("court_result")
        if isinstance(result, dict) and result.get("case_number"):
            mediation = mediation_of(result)
            status = mediation_status(mediation, Wording(domain, tracker))
            said = {"case_number": mediation.case_number, "version": mediation.version,
                    "signed_at": moment_text(mediation.my_signed_at), "status": status}
            if mediation.already_signed:
                dispatcher.utter_message(response="utter_mediation_already_signed", **said)
            else:
                dispatcher.utter_message(response="utter_mediation_signed", **said)
        return [SlotSet(slot, None) for slot in COURT_SLOTS]
