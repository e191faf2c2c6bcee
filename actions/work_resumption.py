"""Enterprise work-resumption filing (企业复工申报, 备案制 + 承诺制): file for a company, list its filings.

Apply: verify the person → the unified social credit code, checked by the service at once (the company's name is
shown; a company on the negative list is refused with the reason; an unknown company and someone else's get the same
answer, which reveals nothing) → the planned date, read against the service's date (its clock may run ahead of the
real one) → returning staff, staff from key areas, days of masks and disinfectant, isolation rooms, each rule
explained when an answer does not meet it → the summary with the commitment (承诺书) → the filing number, review level
and deadline. The service keeps one filing per company and planned date, so asking again gives the same filing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import fields
from datetime import date
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import YES_NO, GovFormValidationAction, SlotSpec, Updates, chat_user
from actions.identity import IDENTITY, IDENTITY_SPECS, IdentityMixin, identity_slots
from actions.slot_values import plain
from actions.validators.common import (
    CONFIRMED,
    DECLINED,
    Invalid,
    Valid,
    chinese_date,
    validate_confirmation,
    validate_id_number,
)
from actions.validators.work_resumption import (
    recognise_planned_date,
    validate_company_code,
    validate_company_name,
    validate_isolation_rooms,
    validate_key_area_staff,
    validate_planned_date,
    validate_returning_staff,
    validate_supplies_days,
)
from actions.wording import Wording
from integrations.services import ServiceRejected, ServiceUnavailable, idempotency_key
from integrations.services.work_resumption import (
    Company,
    Filing,
    NegativeListEntry,
    ReviewLevel,
    WorkResumptionRules,
)

SERVICE, STATUS_SERVICE = "work_resumption", "work_resumption_status"  # transaction_result services (console)
SETTLED = "settled"  # fills the form's remaining questions when there is nothing more to ask
RUN = "form_run"  # a key of wr_company: this run of the form (the company is checked once per run)
QUESTIONS = ["wr_credit_code", "wr_planned_date", "wr_returning_staff", "wr_key_area_staff", "wr_supplies_days",
             "wr_isolation_rooms", "wr_confirm"]
WORK_SLOTS = [*QUESTIONS, "wr_company_said", "wr_company", "wr_rules", "wr_result"]
# A refusal at filing that is about one answer: the form asks that question again (then the summary again).
ANSWER_REFUSED = {
    "planned_date_too_early": "wr_planned_date",
    "insufficient_supplies": "wr_supplies_days",
    "insufficient_isolation_rooms": "wr_isolation_rooms",
}
FIELD_SLOTS = {"planned_date": "wr_planned_date", "returning_staff": "wr_returning_staff",
               "key_area_staff": "wr_key_area_staff", "supplies_days": "wr_supplies_days",
               "isolation_rooms": "wr_isolation_rooms"}

LEGAL_FORM = re.compile(r"(有限责任公司|股份有限公司|有限公司|公司|集团|（[^）]*）|\([^)]*\)|\s)")

CODE_SPEC = SlotSpec(validate_company_code, "utter_explain_wr_credit_code", entity="credit_code")
SPECS = {
    "wr_credit_code": CODE_SPEC,
    "wr_company_said": SlotSpec(
        validate_company_name, "utter_explain_wr_credit_code", entity="company_name", free_text=True
    ),
    "wr_planned_date": SlotSpec(recognise_planned_date, "utter_explain_wr_planned_date"),
    "wr_returning_staff": SlotSpec(validate_returning_staff, "utter_explain_wr_returning_staff"),
    "wr_key_area_staff": SlotSpec(validate_key_area_staff, "utter_explain_wr_key_area_staff"),
    "wr_supplies_days": SlotSpec(validate_supplies_days, "utter_explain_wr_supplies_days"),
    "wr_isolation_rooms": SlotSpec(validate_isolation_rooms, "utter_explain_wr_isolation_rooms"),
    "wr_confirm": SlotSpec(validate_confirmation, "utter_explain_wr_confirm", intents=YES_NO),
}


# -- the service's objects in slots (JSON: dates as YYYY-MM-DD) ------------------------------------------------------


def _dated(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    """The dataclass's date fields parsed back from YYYY-MM-DD."""
    names = {f.name for f in fields(cls) if f.type in ("date", date)}
    return {key: date.fromisoformat(value) if key in names and value else value for key, value in data.items()}


def rules_of(tracker: Tracker) -> WorkResumptionRules | None:
    data = tracker.get_slot("wr_rules")
    if not data:
        return None
    data = _dated(WorkResumptionRules, data)
    return WorkResumptionRules(
        **data
        | {
            "negative_list": tuple(
                NegativeListEntry(**entry | {"industries": tuple(entry["industries"])})
                for entry in data["negative_list"]
            ),
            "review_levels": tuple(ReviewLevel(**level) for level in data["review_levels"]),
        }
    )


def company_of(tracker: Tracker) -> dict[str, Any]:
    return tracker.get_slot("wr_company") or {}


def filing_of(data: dict[str, Any]) -> Filing:
    return Filing(**_dated(Filing, data))


def filing_key(tracker: Tracker, request: dict[str, Any]) -> str:
    """One key per run of the form and answers: a retried confirmation never files twice, and a new run or other
    answers never meet an earlier request's key (the service then answers with the filing it already has, if any,
    as one made before)."""
    answers = "|".join(str(request[name]) for name in sorted(request))
    return idempotency_key(tracker.sender_id, SERVICE, f"{company_of(tracker).get(RUN, '')}|{answers}")


def filing_request(tracker: Tracker) -> dict[str, Any]:
    return {
        "credit_code": tracker.get_slot("wr_credit_code"),
        "planned_date": date.fromisoformat(tracker.get_slot("wr_planned_date")),
        "returning_staff": int(tracker.get_slot("wr_returning_staff")),
        "key_area_staff": int(tracker.get_slot("wr_key_area_staff")),
        "supplies_days": int(tracker.get_slot("wr_supplies_days")),
        "isolation_rooms": int(tracker.get_slot("wr_isolation_rooms")),
    }


def filing_record(filing: Filing, words: Wording) -> str:
    filed_by = words.part("utter_wr_filed_by", name_masked=filing.filed_by_masked) if filing.filed_by_masked else ""
    return words.part(
        "utter_wr_filing_record",
        filing_no=filing.filing_no,
        company=filing.company_name,
        planned_date=chinese_date(filing.planned_date, weekday=True),
        returning_staff=filing.returning_staff,
        key_area_staff=filing.key_area_staff,
        supplies_days=filing.supplies_days,
        isolation_rooms=filing.isolation_rooms,
        status_text=filing.status_text,
        review_level=filing.review_level,
        review_deadline=chinese_date(filing.review_deadline),
        filed_on=chinese_date(filing.filed_on),
        filed_by=filed_by,
    )


def same_company(said: str, registered: str) -> bool:
    """"杭州绿源食品公司" names 杭州绿源食品有限公司; "杭州绿源" does too. Only another name is worth a note."""
    core = LEGAL_FORM.sub("", said.strip())
    return bool(core) and core in LEGAL_FORM.sub("", registered)


def without_id_numbers(candidates: dict[str, str], from_entities: set[str]) -> None:
    """An ID number with an X at the end also looks like a credit code to the NLU's regex: never take it as one."""
    code = candidates.get("wr_credit_code")
    if code and "wr_credit_code" in from_entities and isinstance(validate_id_number(code), Valid):
        del candidates["wr_credit_code"]
        from_entities.discard("wr_credit_code")


class ValidateWorkResumptionForm(IdentityMixin, GovFormValidationAction):
    """Identity, then the company (checked at once), then the filing's questions and the commitment."""

    own_intents = frozenset({"work_resumption_apply"})
    level = IDENTITY
    specs = {**IDENTITY_SPECS, **SPECS}

    def name(self) -> str:
        return "validate_work_resumption_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, IDENTITY) + QUESTIONS

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        without_id_numbers(candidates, from_entities)
        # The company is the one of the request or of the answer to the question: a code or a name met later (in
        # the summary's reply, say) must not replace the company already checked.
        if tracker.get_slot("wr_credit_code") and requested != "wr_credit_code":
            candidates.pop("wr_credit_code", None)
        if tracker.get_slot("wr_company"):
            candidates.pop("wr_company_said", None)
        if requested in QUESTIONS[1:] and not self.ready(tracker):
            candidates.pop(requested, None)  # "重试": check the company and the rules again first
        return candidates, from_entities

    @staticmethod
    def ready(tracker: Tracker) -> bool:
        return bool(tracker.get_slot("wr_company") and tracker.get_slot("wr_rules"))

    def settle(self, result: str) -> Updates:
        """Nothing more to ask: fill the remaining questions so the form ends, and say why in wr_result."""
        return {slot: SETTLED for slot in QUESTIONS[1:]} | {"wr_result": result}

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        if identity_slots(tracker, IDENTITY) or tracker.get_slot("wr_result") or not tracker.get_slot("wr_credit_code"):
            return updates
        if not tracker.get_slot("wr_company"):
            return updates | await self.check_company(dispatcher, tracker, domain)
        if not tracker.get_slot("wr_rules"):
            return updates | await self.load_rules()
        return updates

    async def check_company(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Updates:
        try:
            company = await services.work_resumption().check_company(
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                credit_code=tracker.get_slot("wr_credit_code"),
            )
        except ServiceUnavailable:
            # the code is kept; the date question explains and offers to retry (action_ask_wr_planned_date)
            return {services.RESULT_SLOT: services.result(SERVICE, "error")}
        except ServiceRejected as error:
            # The same answer for an unknown company and someone else's: it is passed on, and nothing else is said.
            dispatcher.utter_message(response="utter_wr_company_refused", reason=error.message)
            return {"wr_credit_code": None, "wr_company_said": None,
                    services.RESULT_SLOT: services.result(SERVICE, "rejected")}
        if not company.may_file:
            return self.refuse(company, dispatcher)
        said = tracker.get_slot("wr_company_said")
        note = ""
        if said and not same_company(said, company.name):
            note = Wording(domain, tracker).part("utter_wr_company_name_differs", said=said)
        dispatcher.utter_message(
            response="utter_wr_company_found",
            company=company.name,
            credit_code=company.credit_code,
            role_text=company.role_text,
            review_level=company.review_level.level,
            working_days=company.review_level.working_days,
            note=note,
        )
        return {"wr_company": plain(company) | {RUN: uuid.uuid4().hex}} | await self.load_rules()

    def refuse(self, company: Company, dispatcher: CollectingDispatcher) -> Updates:
        """A company on the negative list: the reason and what to do, and nothing more is asked."""
        refusal = company.refusal
        dispatcher.utter_message(
            response="utter_wr_company_negative_list",
            company=company.name,
            role_text=company.role_text,
            industry=company.industry or "",
            reason=refusal.message if refusal else "",
            next_step=refusal.next_step if refusal else "",
        )
        return self.settle("refused") | {
            "wr_company": plain(company),
            services.RESULT_SLOT: services.result(SERVICE, "rejected", company.credit_code),
        }

    @staticmethod
    async def load_rules() -> Updates:
        try:
            rules = await services.work_resumption().get_rules()
        except ServiceUnavailable:
            return {services.RESULT_SLOT: services.result(SERVICE, "error")}
        return {"wr_rules": plain(rules)}

    async def after_wr_planned_date(
        self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        """The day counted from the service's date now (a conversation may pass midnight); the rules already read
        if the service cannot be asked."""
        updates: Updates = {}
        try:
            rules = await services.work_resumption().get_rules()
            updates["wr_rules"] = plain(rules)
        except ServiceUnavailable:
            rules = rules_of(tracker)
        if rules is None:
            return {"wr_planned_date": None}
        result = validate_planned_date(text, rules.today, rules.earliest_planned_date)
        if isinstance(result, Invalid):
            return result
        return updates | {"wr_planned_date": result.value}

    async def after_wr_key_area_staff(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates | Invalid:
        returning = int(tracker.get_slot("wr_returning_staff") or 0)
        if int(value) > returning:
            return Invalid(
                "utter_invalid_key_area_staff_more", {"key_area_staff": value, "returning_staff": returning}
            )
        return {"wr_key_area_staff": value}

    async def after_wr_supplies_days(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        rules = rules_of(tracker)
        if rules is not None and int(value) < rules.min_supplies_days:
            dispatcher.utter_message(
                response="utter_wr_supplies_short", min_days=rules.min_supplies_days, supplies_days=value
            )
            return {"wr_supplies_days": None}
        return {"wr_supplies_days": value}

    async def after_wr_isolation_rooms(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        rules = rules_of(tracker)
        staff = int(tracker.get_slot("wr_returning_staff") or 0)
        needed = rules.rooms_needed(staff) if rules is not None else 0
        if int(value) < needed:
            dispatcher.utter_message(
                response="utter_wr_rooms_short",
                staff_per_room=rules.staff_per_isolation_room,
                returning_staff=staff,
                rooms_needed=needed,
                isolation_rooms=value,
            )
            return {"wr_isolation_rooms": None}
        return {"wr_isolation_rooms": value}

    async def after_wr_confirm(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(response="utter_wr_declined")
            return {"wr_confirm": DECLINED, "wr_result": "declined"}
        request = filing_request(tracker)
        try:
            filing = await services.work_resumption().file(
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                idempotency_key=filing_key(tracker, request),
                commitment=True,
                **request,
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_submission_kept")
            return {"wr_confirm": None, services.RESULT_SLOT: services.result(SERVICE, "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            rejected = {services.RESULT_SLOT: services.result(SERVICE, "rejected")}
            slot = ANSWER_REFUSED.get(error.code) or FIELD_SLOTS.get(error.details.get("field", ""))
            if slot == "wr_planned_date":  # the service's day moved on: read its rules again before asking
                return rejected | {slot: None, "wr_confirm": None, "wr_rules": None}
            if slot:
                return rejected | {slot: None, "wr_confirm": None}
            return rejected | {"wr_confirm": DECLINED, "wr_result": "rejected"}
        return {
            "wr_confirm": CONFIRMED,
            "wr_result": plain(filing),
            services.RESULT_SLOT: services.result(SERVICE, "completed", filing.filing_no),
        }


# -- the questions that name the service's numbers ------------------------------------------------------------------


class ActionAskWrCreditCode(Action):
    """Ask for the credit code, naming the company if the citizen already did."""

    def name(self) -> str:
        return "action_ask_wr_credit_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        said = tracker.get_slot("wr_company_said")
        if said:
            dispatcher.utter_message(response="utter_ask_wr_credit_code_named", company=said)
        else:
            dispatcher.utter_message(response="utter_ask_wr_credit_code")
        return []


class ActionAskWrPlannedDate(Action):
    """Ask for the date with the earliest one allowed, or, if the company or the rules could not be checked, say
    so and offer to retry."""

    def name(self) -> str:
        return "action_ask_wr_planned_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rules = rules_of(tracker)
        if rules is None or not tracker.get_slot("wr_company"):
            dispatcher.utter_message(response="utter_wr_check_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_ask_wr_planned_date",
            days=rules.min_days_ahead,
            earliest_date=chinese_date(rules.earliest_planned_date, weekday=True),
        )
        return []


class ActionAskWrSuppliesDays(Action):
    def name(self) -> str:
        return "action_ask_wr_supplies_days"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rules = rules_of(tracker)
        if rules is None:
            dispatcher.utter_message(response="utter_wr_check_unavailable")
            return []
        dispatcher.utter_message(response="utter_ask_wr_supplies_days", min_days=rules.min_supplies_days)
        return []


class ActionAskWrIsolationRooms(Action):
    def name(self) -> str:
        return "action_ask_wr_isolation_rooms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rules = rules_of(tracker)
        if rules is None:
            dispatcher.utter_message(response="utter_wr_check_unavailable")
            return []
        staff = int(tracker.get_slot("wr_returning_staff") or 0)
        dispatcher.utter_message(
            response="utter_ask_wr_isolation_rooms",
            staff_per_room=rules.staff_per_isolation_room,
            returning_staff=staff,
            rooms_needed=rules.rooms_needed(staff),
        )
        return []


class ActionAskWrConfirm(Action):
    """Sum up the filing with the commitment text (承诺书) and ask for the confirmation."""

    def name(self) -> str:
        return "action_ask_wr_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        rules = rules_of(tracker)
        company = company_of(tracker)
        if rules is None or not company:
            dispatcher.utter_message(response="utter_wr_check_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_ask_wr_confirm",
            company=company["name"],
            credit_code=company["credit_code"],
            planned_date=chinese_date(date.fromisoformat(tracker.get_slot("wr_planned_date")), weekday=True),
            returning_staff=tracker.get_slot("wr_returning_staff"),
            key_area_staff=tracker.get_slot("wr_key_area_staff"),
            supplies_days=tracker.get_slot("wr_supplies_days"),
            isolation_rooms=tracker.get_slot("wr_isolation_rooms"),
            review_level=company["review_level"]["level"],
            commitment_text=rules.commitment_text,
        )
        return []


# -- the results --------------------------------------------------------------------------------------------------


class ActionSubmitWorkResumption(Action):
    """After the filing form: show the filing (new, or the one made before), then forget the form's answers."""

    def name(self) -> str:
        return "action_submit_work_resumption"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result = tracker.get_slot("wr_result")
        if isinstance(result, dict) and result.get("filing_no"):
            filing = filing_of(result)
            record = filing_record(filing, Wording(domain, tracker))
            if filing.created:
                dispatcher.utter_message(response="utter_wr_filed", filing=record)
            else:
                dispatcher.utter_message(
                    response="utter_wr_filed_before",
                    company=filing.company_name,
                    planned_date=chinese_date(filing.planned_date),
                    filing=record,
                )
        return [SlotSet(slot, None) for slot in WORK_SLOTS]


class ValidateWorkResumptionStatusForm(IdentityMixin, GovFormValidationAction):
    """Identity only; a credit code in the request ("查一下9133…的复工备案") narrows the list to that company."""

    level = IDENTITY
    specs = {**IDENTITY_SPECS, "wr_credit_code": CODE_SPEC}

    def name(self) -> str:
        return "validate_work_resumption_status_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, IDENTITY)

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        without_id_numbers(candidates, from_entities)
        return candidates, from_entities


class ActionWorkResumptionStatus(Action):
    """The filings of the companies the verified person may act for (or of the one named), newest first."""

    def name(self) -> str:
        return "action_work_resumption_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        cleared: list[EventType] = [SlotSet(slot, None) for slot in WORK_SLOTS]
        try:
            filings = await services.work_resumption().list_filings(
                token=tracker.get_slot("identity_token"),
                chat_user=chat_user(tracker),
                credit_code=tracker.get_slot("wr_credit_code"),
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified_no_repeat")
            return [*cleared, services.result_event(STATUS_SERVICE, "error")]
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return [*cleared, services.result_event(STATUS_SERVICE, "rejected")]
        if not filings:
            dispatcher.utter_message(response="utter_wr_filings_none")
        else:
            words = Wording(domain, tracker)
            listing = "\n\n".join(filing_record(filing, words) for filing in filings)
            dispatcher.utter_message(response="utter_wr_filings", count=len(filings), filings=listing)
        return [*cleared, services.result_event(STATUS_SERVICE, "completed")]
