"""Identity verification shared by every personal transaction: name, ID number, mobile, SMS code.

A verified identity (the service's token) belongs to this chat user for this session; forms
that need it skip the identity questions once it is there.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import services
from actions.form_base import SlotSpec, Updates, chat_user
from actions.validators.common import (
    validate_id_number,
    validate_person_name,
    validate_phone,
    validate_sms_code,
)
from integrations.services import ServiceRejected, ServiceUnavailable

IDENTITY = "identity"  # name + ID number + mobile
PHONE = "phone"  # name + mobile, enough for a job-fair registration
VERIFIED = "已验证"
RESEND = re.compile(r"重新发|重发|再发|没收到|没有收到|收不到")

IDENTITY_SPECS = {
    "person_name": SlotSpec(validate_person_name, "utter_explain_person_name", entity="person_name", free_text=True),
    "id_number": SlotSpec(validate_id_number, "utter_explain_id_number", entity="id_number"),
    "phone": SlotSpec(validate_phone, "utter_explain_phone", entity="phone"),
    "sms_code": SlotSpec(validate_sms_code, "utter_explain_sms_code"),
}
CLEARED = {"person_name": None, "id_number": None, "phone": None, "sms_code": None, "verification_id": None}
# Refusals that hold for the rest of the day (services/identity.py): failed identity checks, or the day's codes.
STOPPED_FOR_TODAY = {"identity_check_limited", "sms_daily_limit"}


def is_verified(tracker: Tracker, level: str) -> bool:
    current = tracker.get_slot("identity_level")
    return bool(tracker.get_slot("identity_token")) and current in (IDENTITY, level)


def identity_slots(tracker: Tracker, level: str) -> list[str]:
    if is_verified(tracker, level):
        return []
    return ["person_name", "id_number", "phone", "sms_code"] if level == IDENTITY else [
        "person_name", "phone", "sms_code"]


class IdentityMixin:
    """For GovFormValidationAction subclasses whose transaction needs a verified identity."""

    level = IDENTITY

    async def send_code(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Updates:
        """Send the SMS code once name, ID number (if needed) and phone are all known."""
        try:
            sent = await services.identity().request_sms_code(
                name=tracker.get_slot("person_name"),
                phone=tracker.get_slot("phone"),
                chat_user=chat_user(tracker),
                id_number=tracker.get_slot("id_number") if self.level == IDENTITY else None,
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_details_kept")
            return {"phone": None, services.RESULT_SLOT: services.result("identity", "error")}
        except ServiceRejected as error:
            return self._rejected(error, dispatcher)
        dispatcher.utter_message(response="utter_sms_code_sent", phone_masked=sent.phone_masked)
        return {"verification_id": sent.verification_id}

    def _rejected(self, error: ServiceRejected, dispatcher: CollectingDispatcher) -> Updates:
        if error.code == "identity_mismatch":
            dispatcher.utter_message(response="utter_identity_mismatch", reason=error.message)
            return dict(CLEARED)
        if error.code in STOPPED_FOR_TODAY:
            return self._stopped_for_today(error, dispatcher)
        if error.code == "sms_rate_limited":
            dispatcher.utter_message(response="utter_sms_rate_limited", reason=error.message)
            return {"phone": None}
        services.tell_refused(dispatcher, error)
        if error.code == "invalid_id_number":
            return {"id_number": None}
        return {"phone": None}

    @staticmethod
    def _stopped_for_today(error: ServiceRejected, dispatcher: CollectingDispatcher) -> Updates:
        """Trying again today cannot succeed: say so (the service's message names the next steps), offer the ways
        out, and forget what was typed, as after a mismatch."""
        dispatcher.utter_message(response="utter_identity_stopped_for_today", reason=error.message)
        return {**CLEARED, services.RESULT_SLOT: services.result("identity", "rejected")}

    async def after_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        needed = identity_slots(tracker, self.level)
        known = all(tracker.get_slot(s) for s in needed if s != "sms_code")
        if needed and known and not tracker.get_slot("verification_id"):
            return await self.send_code(dispatcher, tracker)
        return {}

    async def before_validation(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, requested: str | None
    ) -> Updates | None:
        """"没收到/重新发送" while the code is asked: forget the old code, after_validation sends one."""
        text = tracker.latest_message.get("text") or ""
        if requested == "sms_code" and RESEND.search(text):
            return {"verification_id": None, "sms_code": None}
        return None

    async def after_sms_code(
        self, code: str, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Updates:
        verification_id = tracker.get_slot("verification_id")
        if not verification_id:
            return {"sms_code": None}
        try:
            verified = await services.identity().verify_code(verification_id=verification_id, code=code)
        except ServiceUnavailable as error:
            services.tell_unavailable(dispatcher, error, "utter_service_unavailable_code_kept")
            return {"sms_code": None, services.RESULT_SLOT: services.result("identity", "error")}
        except ServiceRejected as error:
            return self._code_rejected(error, dispatcher)
        dispatcher.utter_message(response="utter_identity_verified", name_masked=verified.name_masked)
        return {
            "sms_code": VERIFIED,
            "identity_token": verified.token,
            "identity_level": verified.level,
            "form_failures": None,
        }

    def _code_rejected(self, error: ServiceRejected, dispatcher: CollectingDispatcher) -> Updates:
        if error.code == "wrong_code":
            left = error.details.get("attempts_left")
            if left is None:
                dispatcher.utter_message(response="utter_sms_code_wrong")
            else:
                dispatcher.utter_message(response="utter_sms_code_wrong_attempts_left", attempts_left=left)
            return {"sms_code": None}
        # Expired, too many attempts or unknown: a fresh code is sent by after_validation.
        dispatcher.utter_message(response="utter_sms_code_sent_again", reason=error.message)
        return {"sms_code": None, "verification_id": None}
