"""Rent subsidy (租房补贴, "one click, no documents"): policy, application, status.

Apply: verify identity -> the service checks eligibility from its own records -> the citizen
sees the result (amount and account, or each reason with what to do) -> confirms the
commitment -> the service pays once per period -> application number and status.
"""

from __future__ import annotations

from dataclasses import asdict

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
    validate_confirmation,
)
from actions.wording import Wording
from integrations.services import (
    ServiceRejected,
    ServiceUnavailable,
    idempotency_key,
)
from integrations.services.rent_subsidy import Eligibility, IneligibilityReason, RentSubsidyApplication

NOT_ELIGIBLE, ALREADY_PAID = "not_eligible", "already_paid"
RENT_SLOTS = ["rent_commitment", "rent_eligibility", "rent_application"]


def reasons_lines(reasons: list[IneligibilityReason], words: Wording) -> str:
    return "\n".join(
        words.part("utter_rent_reason_line", number=i, reason=r.message, next_step=r.next_step)
        for i, r in enumerate(reasons, 1)
    )


def application_record(app: RentSubsidyApplication, words: Wording) -> str:
    # paid_at is ISO 8601 ("2026-11-26T17:30:05+08:00"): shown to the minute, as "2026-11-26 17:30"
    paid = words.part("utter_rent_paid_at", paid_at=app.paid_at[:16].replace("T", " ")) if app.paid_at else ""
    return words.part(
        "utter_rent_application_record",
        application_no=app.application_no,
        monthly_amount=app.monthly_amount,
        months=app.months,
        amount=app.amount,
        period=app.period,
        payout_account_masked=app.payout_account_masked,
        status_text=app.status_text,
        paid=paid,
    )


async def answer_policy(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    try:
        policy = await services.rent_subsidy().get_policy()
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error, "utter_service_unavailable")
        return True
    words = Wording(domain, tracker)
    amounts = "、".join(
        words.part("utter_rent_policy_amount", degree=degree, amount=amount)
        for degree, amount in policy.amounts.items()
    )
    dispatcher.utter_message(
        response="utter_rent_policy",
        city=policy.city,
        period=policy.period,
        conditions="\n".join(f"{i}. {c}" for i, c in enumerate(policy.conditions, 1)),
        amounts=amounts,
        months=policy.months,
        materials=policy.materials,
        hotline=policy.hotline,
    )
    return True


class ActionRentSubsidyPolicy(Action):
    def name(self) -> str:
        return "action_rent_subsidy_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        await answer_policy(dispatcher, tracker, domain)
        return []


class ValidateRentSubsidyForm(IdentityMixin, GovFormValidationAction):
    level = IDENTITY
    specs = {
        **IDENTITY_SPECS,
        "rent_commitment": SlotSpec(validate_confirmation, "utter_explain_rent_commitment", intents=YES_NO),
    }

    def name(self) -> str:
        return "validate_rent_subsidy_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, IDENTITY) + ["rent_commitment"]

    def extract(self, tracker: Tracker, requested: str | None) -> tuple[dict[str, str], set[str]]:
        candidates, from_entities = super().extract(tracker, requested)
        eligibility = tracker.get_slot("rent_eligibility")
        if requested == "rent_commitment" and not (eligibility and eligibility["eligible"]):
            candidates.pop("rent_commitment", None)  # "重试": check eligibility again first
        return candidates, from_entities

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        updates = await super().after_validation(dispatcher, tracker, domain)
        if identity_slots(tracker, IDENTITY) or tracker.get_slot("rent_eligibility"):
            return updates
        return updates | await self.check_eligibility(dispatcher, tracker, domain)

    async def check_eligibility(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        try:
            result = await services.rent_subsidy().check_eligibility(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
            )
        except ServiceUnavailable:
            # the commitment question explains and offers to retry
            return {services.RESULT_SLOT: services.result("rent_subsidy", "error")}
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return {"rent_commitment": NOT_ELIGIBLE, services.RESULT_SLOT: services.result("rent_subsidy", "rejected")}
        return self.show_eligibility(result, Wording(domain, tracker), dispatcher)

    @staticmethod
    def show_eligibility(result: Eligibility, words: Wording, dispatcher: CollectingDispatcher) -> Updates:
        if result.already_applied:
            dispatcher.utter_message(
                response="utter_rent_already_paid", period=result.period, application_no=result.application_no
            )
            return {"rent_eligibility": asdict(result), "rent_commitment": ALREADY_PAID}
        if not result.eligible:
            dispatcher.utter_message(response="utter_rent_not_eligible", reasons=reasons_lines(result.reasons, words))
            return {
                "rent_eligibility": asdict(result),
                "rent_commitment": NOT_ELIGIBLE,
                services.RESULT_SLOT: services.result("rent_subsidy", "rejected"),
            }
        return {"rent_eligibility": asdict(result)}

    async def after_rent_commitment(
        self, value: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        if value == DECLINED:
            dispatcher.utter_message(response="utter_rent_declined")
            return {"rent_commitment": DECLINED}
        key = idempotency_key(tracker.sender_id, "rent_subsidy", tracker.get_slot("verification_id") or "")
        try:
            application = await services.rent_subsidy().apply(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker), idempotency_key=key
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_application_kept")
            return {"rent_commitment": None, services.RESULT_SLOT: services.result("rent_subsidy", "error")}
        except ServiceRejected as error:
            reasons = [IneligibilityReason(**r) for r in error.details.get("reasons", [])]
            if reasons:
                lines = reasons_lines(reasons, Wording(domain, tracker))
                dispatcher.utter_message(
                    response="utter_rent_refused_with_reasons", reason=error.message, reasons=lines
                )
            else:
                services.tell_refused(dispatcher, error)
            return {"rent_commitment": NOT_ELIGIBLE, services.RESULT_SLOT: services.result("rent_subsidy", "rejected")}
        return {
            "rent_commitment": CONFIRMED,
            "rent_application": asdict(application),
            services.RESULT_SLOT: services.result("rent_subsidy", "completed", application.application_no),
        }


class ActionAskRentCommitment(Action):
    """Show the eligibility result with the amount, then ask for the commitment (承诺制)."""

    def name(self) -> str:
        return "action_ask_rent_commitment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        eligibility = tracker.get_slot("rent_eligibility")
        if not eligibility:
            dispatcher.utter_message(response="utter_rent_eligibility_unavailable")
            return []
        dispatcher.utter_message(
            response="utter_rent_commitment",
            degree=eligibility["degree"],
            monthly_amount=eligibility["monthly_amount"],
            months=eligibility["months"],
            total_amount=eligibility["total_amount"],
            payout_account_masked=eligibility["payout_account_masked"],
        )
        return []


class ActionSubmitRentSubsidy(Action):
    def name(self) -> str:
        return "action_submit_rent_subsidy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        application = tracker.get_slot("rent_application")
        if tracker.get_slot("rent_commitment") == CONFIRMED and application:
            record = application_record(RentSubsidyApplication(**application), Wording(domain, tracker))
            dispatcher.utter_message(response="utter_rent_submitted", application=record)
        return [SlotSet(slot, None) for slot in RENT_SLOTS]


class ValidateRentStatusForm(IdentityMixin, GovFormValidationAction):
    level = IDENTITY
    specs = IDENTITY_SPECS

    def name(self) -> str:
        return "validate_rent_status_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:  # noqa: ANN001
        return identity_slots(tracker, IDENTITY)


class ActionRentSubsidyStatus(Action):
    def name(self) -> str:
        return "action_rent_subsidy_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            applications = await services.rent_subsidy().list_applications(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_verified_no_repeat")
            return [services.result_event("rent_subsidy", "error")]
        except ServiceRejected as error:
            services.tell_refused(dispatcher, error)
            return []
        if not applications:
            dispatcher.utter_message(response="utter_rent_applications_none")
            return []
        words = Wording(domain, tracker)
        listing = "\n\n".join(application_record(a, words) for a in applications)
        dispatcher.utter_message(response="utter_rent_applications", count=len(applications), applications=listing)
        return []
