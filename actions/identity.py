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
from actions.validators import validate_id_number, validate_person_name, validate_phone, validate_sms_code
from integrations.services import ServiceRejected, ServiceUnavailable

IDENTITY = "identity"  # name + ID number + mobile
PHONE = "phone"  # name + mobile, enough for a job-fair registration
VERIFIED = "已验证"
RESEND = re.compile(r"重新发|重发|再发|没收到|没有收到|收不到")

IDENTITY_SPECS = {
    "person_name": SlotSpec(
        validate_person_name, "请输入与身份证一致的姓名，例如：张三", entity="person_name", free_text=True
    ),
    "id_number": SlotSpec(
        validate_id_number, "身份证号码共18位，前17位是数字，最后一位是数字或X，例如：11010519491231002X",
        entity="id_number",
    ),
    "phone": SlotSpec(validate_phone, "请输入11位大陆手机号码，例如：13912345678", entity="phone"),
    "sms_code": SlotSpec(
        validate_sms_code, "验证码是短信里的6位数字，例如：123456；如果没有收到，请回复“重新发送”"
    ),
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
            services.tell_unavailable(dispatcher, error, "您填写的姓名和证件信息已为您保留。")
            return {"phone": None, services.RESULT_SLOT: services.result("identity", "error")}
        except ServiceRejected as error:
            return self._rejected(error, dispatcher)
        dispatcher.utter_message(text=f"验证码已发送至您的手机 {sent.phone_masked}，5分钟内有效。")
        return {"verification_id": sent.verification_id}

    def _rejected(self, error: ServiceRejected, dispatcher: CollectingDispatcher) -> Updates:
        if error.code == "identity_mismatch":
            dispatcher.utter_message(
                text=f"{error.message}\n为保护您的信息安全，请从姓名开始重新填写。"
            )
            return dict(CLEARED)
        if error.code in STOPPED_FOR_TODAY:
            return self._stopped_for_today(error, dispatcher)
        if error.code == "sms_rate_limited":
            dispatcher.utter_message(text=f"{error.message}届时请重新输入手机号码，我们会为您发送新的验证码。")
            return {"phone": None}
        dispatcher.utter_message(text=error.message)
        if error.code == "invalid_id_number":
            return {"id_number": None}
        return {"phone": None}

    @staticmethod
    def _stopped_for_today(error: ServiceRejected, dispatcher: CollectingDispatcher) -> Updates:
        """Trying again today cannot succeed: say so (the service's message names the next steps), offer the ways
        out, and forget what was typed, as after a mismatch."""
        dispatcher.utter_message(
            text=f"{error.message}\n如需结束本次办理，请选择“不办了”；需要工作人员协助，请选择“转人工”。",
            buttons=[{"title": "不办了", "payload": "/cancel"}, {"title": "转人工", "payload": "/request_human"}],
        )
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
            services.tell_unavailable(dispatcher, error, "您的验证码仍然有效，请稍后重新输入。")
            return {"sms_code": None, services.RESULT_SLOT: services.result("identity", "error")}
        except ServiceRejected as error:
            return self._code_rejected(error, dispatcher)
        dispatcher.utter_message(text=f"身份验证成功，{verified.name_masked}您好。")
        return {
            "sms_code": VERIFIED,
            "identity_token": verified.token,
            "identity_level": verified.level,
            "form_failures": None,
        }

    def _code_rejected(self, error: ServiceRejected, dispatcher: CollectingDispatcher) -> Updates:
        if error.code == "wrong_code":
            left = error.details.get("attempts_left")
            hint = f"您还可以再试{left}次。" if left is not None else ""
            dispatcher.utter_message(text=f"验证码不正确，请核对短信后重新输入。{hint}")
            return {"sms_code": None}
        # Expired, too many attempts or unknown: a fresh code is sent by after_validation.
        dispatcher.utter_message(text=f"{error.message}我们将为您重新发送验证码。")
        return {"sms_code": None, "verification_id": None}
