"""Health code (健康码): apply with a health declaration, query, daily check-in, appeal.

Every path verifies the identity first. The service decides the colour from the declaration and its own lists;
the assistant shows it with the reason in plain words and what to do. A person who already has a code, has already
checked in today, or has no code to check in or appeal against is told so before being asked anything else.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import YES_NO, GovFormValidationAction, SlotSpec, Updates, chat_user
from actions.identity import IDENTITY, IDENTITY_SPECS, IdentityMixin, identity_slots
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Valid,
    validate_confirmation,
)
from actions.validators.health import (
    symptom_codes,
    validate_appeal_reason,
    validate_symptoms,
    validate_temperature,
    validate_yes_no,
)
from actions.wording import Wording
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.health_code import Appeal, CheckInResult, HealthCode

CODE_SLOT = "health_code"  # the code as the service last showed it (a dict), for the reply after the form
SETTLED = "settled"  # fills the form's remaining questions when there is nothing to ask (e.g. already has a code)
DECLARATION = ["hc_symptoms", "hc_temperature", "hc_key_area", "hc_contact", "hc_confirm"]
CHECK_IN = ["hc_temperature", "hc_symptoms", "hc_confirm"]
APPEAL = ["hc_appeal_reason", "hc_confirm"]
HEALTH_SLOTS = [CODE_SLOT, "hc_symptoms", "hc_temperature", "hc_key_area", "hc_contact", "hc_confirm",
                "hc_appeal_reason", "hc_result"]
# A temperature written in the request itself ("打卡 体温36.5") is taken; a bare number there is not (it could be
# anything), so the request must name it.
TEMPERATURE_MENTION = re.compile(r"体温|℃|度")
NO_SMARTPHONE = re.compile(r"智能手机|老人机|老年机|不会用手机|不会用智能|没有手机|没手机|不会上网")
ANSWER_PARTS = {CONFIRMED: "utter_hc_answer_confirmed", DECLINED: "utter_hc_answer_declined"}
SYMPTOM_PARTS = {"fever": "utter_hc_symptom_fever", "cough": "utter_hc_symptom_cough",
                 "fatigue": "utter_hc_symptom_fatigue"}

# What is said when the citizen does not confirm, by form.
DECLINED_RESPONSES = {
    "validate_health_code_apply_form": "utter_health_code_declined",
    "validate_health_code_check_in_form": "utter_health_check_in_declined",
    "validate_health_code_appeal_form": "utter_health_code_appeal_declined",
}
SPECS = {
    "hc_symptoms": SlotSpec(validate_symptoms, "utter_explain_hc_symptoms", intents={"deny": "none"}),
    "hc_temperature": SlotSpec(validate_temperature, "utter_explain_hc_temperature"),
    "hc_key_area": SlotSpec(validate_yes_no, "utter_explain_hc_yes_no", intents=YES_NO),
    "hc_contact": SlotSpec(validate_yes_no, "utter_explain_hc_yes_no", intents=YES_NO),
    "hc_confirm": SlotSpec(validate_confirmation, "utter_explain_hc_confirm", intents=YES_NO),
    "hc_appeal_reason": SlotSpec(validate_appeal_reason, "utter_explain_hc_appeal_reason", free_text=True,
                                  prose=True),
}


def code_card(code: HealthCode, words: Wording) -> str:
    """Colour, reason, what to do and, for yellow or red, the check-in progress and the earliest green day."""
    progress = ""
    if code.colour != "green":
        progress = words.part(
            "utter_health_code_progress",
            streak_text=code.streak_text,  # the service's words, e.g. "已连续打卡 5/7 天"
            earliest_green_date=code.earliest_green_date,
            how_to_turn_green=code.how_to_turn_green or "",
        )
    return words.part(
        "utter_health_code_card",
        name_masked=code.name_masked,
        colour_text=code.colour_text,
        reason=code.reason,
        what_to_do=code.what_to_do,
        progress=progress,
    )


async def current_code(tracker: Tracker) -> HealthCode | None:
    """The verified person's code, or None when they have none yet (ServiceUnavailable passes through)."""
    try:
        return await services.health_code().get_code(
            token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
        )
    except ServiceRejected as error:
        if error.code == "no_health_code":
            return None
        raise


def change_key(tracker: Tracker, transaction: str) -> str:
    """One key per verified session and transaction: a retried message never declares or files twice."""
    return idempotency_key(tracker.sender_id, transaction, tracker.get_slot("verification_id") or "")


class HealthCodeForm(IdentityMixin, GovFormValidationAction):
    """A health-code form: identity, then a look at the current code, then the form's own questions."""

    level = IDENTITY
    specs = {**IDENTITY_SPECS, **SPECS}
    questions: list[str] = []
    service = "health_code"  # the transaction_result service counted by the console

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, IDENTITY) + self.questions

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        if identity_slots(tracker, IDENTITY) or tracker.get_slot("hc_result"):
            return updates
        try:
            code = await current_code(tracker)
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified")
            return updates | self.settle("error") | {services.RESULT_SLOT: services.result(self.service, "error")}
        return updates | self.look_at(code, dispatcher, tracker, domain)

    def look_at(
        self, code: HealthCode | None, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        """What the current code means for this form: go on ({"hc_result": "open"}) or stop with a reply."""
        return {"hc_result": "open", CODE_SLOT: asdict(code) if code else None}

    def settle(self, result: str) -> Updates:
        """Nothing more to ask: fill the remaining questions so the form ends, and say why in hc_result."""
        return {slot: SETTLED for slot in self.questions} | {"hc_result": result}

    def no_code(self, dispatcher: CollectingDispatcher) -> Updates:
        dispatcher.utter_message(response="utter_health_code_none")
        return self.settle("no_code")

    async def submit(self, tracker: Tracker) -> tuple[Updates, str]:
        """Send the confirmed declaration, check-in or appeal: the slot updates and the result's reference."""
        raise NotImplementedError

    async def after_hc_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(response=DECLINED_RESPONSES[self.name()])
            return {"hc_confirm": DECLINED, "hc_result": "declined"}
        try:
            updates, reference = await self.submit(tracker)
        except ServiceUnavailable as error:  # what was entered is kept: "确认" sends it again, with the same key
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_submission_kept")
            return {"hc_confirm": None, services.RESULT_SLOT: services.result(self.service, "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return {"hc_confirm": DECLINED, "hc_result": "rejected",
                    services.RESULT_SLOT: services.result(self.service, "rejected")}
        return updates | {"hc_confirm": CONFIRMED,
                          services.RESULT_SLOT: services.result(self.service, "completed", reference)}


class ValidateHealthCodeApplyForm(HealthCodeForm):
    questions = DECLARATION
    own_intents = frozenset({"health_code_apply"})

    def name(self) -> str:
        return "validate_health_code_apply_form"

    async def before_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> Updates | None:
        # "我妈没有智能手机……": the alternatives first (the code is never the only pass), then the form goes on
        # for whoever applies on her behalf.
        if requested is None and NO_SMARTPHONE.search(tracker.latest_message.get("text") or ""):
            dispatcher.utter_message(response="utter_health_code_without_smartphone")
        return await super().before_validation(dispatcher, tracker, requested)

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        return with_temperature(super().extract(tracker, requested), tracker, requested)

    def look_at(self, code, dispatcher, tracker, domain) -> Updates:  # noqa: ANN001
        if code is None:
            return {"hc_result": "open"}
        dispatcher.utter_message(response="utter_health_code_existing", card=code_card(code, Wording(domain, tracker)))
        return self.settle("existing")

    async def submit(self, tracker: Tracker) -> tuple[Updates, str]:
        code = await services.health_code().apply(
            token=tracker.get_slot("identity_token"),
            chat_user=chat_user(tracker),
            idempotency_key=change_key(tracker, "health_code"),
            symptoms=symptom_codes(tracker.get_slot("hc_symptoms")),
            temperature=float(tracker.get_slot("hc_temperature")),
            key_area_travel=tracker.get_slot("hc_key_area") == CONFIRMED,
            contact_with_case=tracker.get_slot("hc_contact") == CONFIRMED,
        )
        return {"hc_result": "issued", CODE_SLOT: asdict(code)}, code.colour



class ValidateHealthCodeQueryForm(HealthCodeForm):
    service = "health_code_query"

    def name(self) -> str:
        return "validate_health_code_query_form"


class ValidateHealthCodeCheckInForm(HealthCodeForm):
    questions = CHECK_IN
    own_intents = frozenset({"health_code_check_in"})
    service = "health_code_check_in"

    def name(self) -> str:
        return "validate_health_code_check_in_form"

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        return with_temperature(super().extract(tracker, requested), tracker, requested)

    def look_at(self, code, dispatcher, tracker, domain) -> Updates:  # noqa: ANN001
        if code is None:
            return self.no_code(dispatcher)
        if code.checked_in_today:  # answered with today's check-in, not counted again
            card = code_card(code, Wording(domain, tracker))
            dispatcher.utter_message(response="utter_health_check_in_already_today", card=card)
            return self.settle("already")
        return {"hc_result": "open", CODE_SLOT: asdict(code)}

    async def submit(self, tracker: Tracker) -> tuple[Updates, str]:
        today = tracker.get_slot(CODE_SLOT)["today"]  # one key a day: a retried message never counts twice
        result = await services.health_code().check_in(
            token=tracker.get_slot("identity_token"),
            chat_user=chat_user(tracker),
            idempotency_key=change_key(tracker, f"health_check_in:{today}"),
            temperature=float(tracker.get_slot("hc_temperature")),
            symptoms=symptom_codes(tracker.get_slot("hc_symptoms")),
        )
        return {"hc_result": asdict(result)}, result.check_in_date



class ValidateHealthCodeAppealForm(HealthCodeForm):
    questions = APPEAL
    service = "health_code_appeal"

    def name(self) -> str:
        return "validate_health_code_appeal_form"

    def look_at(self, code, dispatcher, tracker, domain) -> Updates:  # noqa: ANN001
        if code is None:
            return self.no_code(dispatcher)
        return {"hc_result": "open", CODE_SLOT: asdict(code)}

    async def submit(self, tracker: Tracker) -> tuple[Updates, str]:
        appeal = await services.health_code().appeal(
            token=tracker.get_slot("identity_token"),
            chat_user=chat_user(tracker),
            idempotency_key=change_key(tracker, "health_code_appeal"),
            reason=tracker.get_slot("hc_appeal_reason"),
        )
        return {"hc_result": asdict(appeal)}, appeal.appeal_no



def with_temperature(
    extracted: tuple[dict[str, str], set[str]], tracker: Tracker, requested: str | None
) -> tuple[dict[str, str], set[str]]:
    """Take a temperature named in the request itself ("我要打卡，体温36.5") so it is not asked again."""
    candidates, from_entities = extracted
    text = tracker.latest_message.get("text") or ""
    wanted = requested != "hc_temperature" and not tracker.get_slot("hc_temperature")
    if wanted and TEMPERATURE_MENTION.search(text) and isinstance(validate_temperature(text), Valid):
        candidates["hc_temperature"] = text
        from_entities.add("hc_temperature")
    return candidates, from_entities


class ActionAskHcConfirm(Action):
    """Sum up what will be sent (declaration, check-in or appeal) and ask for the confirmation."""

    def name(self) -> str:
        return "action_ask_hc_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        form = (tracker.active_loop or {}).get("name")
        words = Wording(domain, tracker)
        symptoms = symptoms_text(tracker.get_slot("hc_symptoms"), words)
        if form == "health_code_appeal_form":
            code = tracker.get_slot(CODE_SLOT) or {}
            dispatcher.utter_message(
                response="utter_ask_hc_confirm_appeal",
                colour_text=code.get("colour_text", ""),
                reason=tracker.get_slot("hc_appeal_reason"),
            )
        elif form == "health_code_check_in_form":
            dispatcher.utter_message(
                response="utter_ask_hc_confirm_check_in",
                temperature=tracker.get_slot("hc_temperature"),
                symptoms=symptoms,
            )
        else:
            dispatcher.utter_message(
                response="utter_ask_hc_confirm_declaration",
                temperature=tracker.get_slot("hc_temperature"),
                symptoms=symptoms,
                key_area=words.part(ANSWER_PARTS[tracker.get_slot("hc_key_area")]),
                contact=words.part(ANSWER_PARTS[tracker.get_slot("hc_contact")]),
            )
        return []


def symptoms_text(value: str | None, words: Wording) -> str:
    names = [words.part(SYMPTOM_PARTS[code]) for code in symptom_codes(value)]
    return "、".join(names) if names else words.part("utter_hc_symptom_none")


class ActionFinishHealthCode(Action):
    """After any health-code form: show what came of it, then forget the form's answers."""

    def __init__(self, action_name: str = "action_submit_health_code") -> None:
        self.action_name = action_name

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result: Any = tracker.get_slot("hc_result")
        code = tracker.get_slot(CODE_SLOT)
        words = Wording(domain, tracker)
        if result == "issued" and code:
            issued = HealthCode(**code)
            dispatcher.utter_message(
                response="utter_health_code_issued",
                card=code_card(issued, words),
                no_smartphone=issued.no_smartphone,
            )
        elif isinstance(result, dict) and "check_in_date" in result:
            show_check_in(CheckInResult(**{**result, "code": HealthCode(**result["code"])}), dispatcher, words)
        elif isinstance(result, dict) and "appeal_no" in result:
            show_appeal(Appeal(**result), dispatcher)
        return [SlotSet(slot, None) for slot in HEALTH_SLOTS]


def show_check_in(result: CheckInResult, dispatcher: CollectingDispatcher, words: Wording) -> None:
    notes = []
    if result.streak_reset:
        notes.append(words.part("utter_health_check_in_streak_reset"))
    if result.colour_changed:
        notes.append(words.part("utter_health_check_in_colour_changed", colour_text=result.code.colour_text))
    dispatcher.utter_message(
        response="utter_health_check_in_done" if result.normal else "utter_health_check_in_abnormal",
        date=result.check_in_date,
        temperature=f"{result.temperature:g}",
        symptoms="、".join(result.symptoms) or words.part("utter_hc_symptom_none"),
        advice=result.advice,
        notes="".join(notes),
        card=code_card(result.code, words),
    )


def show_appeal(appeal: Appeal, dispatcher: CollectingDispatcher) -> None:
    dispatcher.utter_message(
        response="utter_health_code_appeal_open" if appeal.already_open else "utter_health_code_appeal_filed",
        appeal_no=appeal.appeal_no,
        status_text=appeal.status_text,
        colour_text=appeal.colour_text,
        submitted_at=appeal.submitted_at[:16].replace("T", " "),
        expected_reply=appeal.expected_reply,
    )


class ActionHealthCodeQuery(Action):
    """The verified person's code: colour, reason, check-in progress and the earliest green day."""

    def name(self) -> str:
        return "action_health_code_query"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = tracker.get_slot(CODE_SLOT)
        if tracker.get_slot("hc_result") == "open" and code:
            code = HealthCode(**code)
            dispatcher.utter_message(
                response="utter_health_code_query_checked_in" if code.checked_in_today
                else "utter_health_code_query",
                card=code_card(code, Wording(domain, tracker)),
            )
        elif tracker.get_slot("hc_result") == "open":
            dispatcher.utter_message(response="utter_health_code_none")
        events = [SlotSet(slot, None) for slot in HEALTH_SLOTS]
        if code:
            events.append(services.result_event("health_code_query", "completed"))
        return events


class ActionSubmitHealthCheckIn(ActionFinishHealthCode):
    def __init__(self) -> None:
        super().__init__("action_submit_health_check_in")


class ActionSubmitHealthCodeAppeal(ActionFinishHealthCode):
    def __init__(self) -> None:
        super().__init__("action_submit_health_code_appeal")
