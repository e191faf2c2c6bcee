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
from actions.validators import CONFIRMED, DECLINED, validate_confirmation
from integrations.services import (
    ServiceRejected,
    ServiceUnavailable,
    idempotency_key,
)
from integrations.services.rent_subsidy import Eligibility, IneligibilityReason, RentSubsidyApplication

NOT_ELIGIBLE, ALREADY_PAID = "not_eligible", "already_paid"
RENT_SLOTS = ["rent_commitment", "rent_eligibility", "rent_application"]


def reasons_text(reasons: list[IneligibilityReason]) -> str:
    return "\n".join(f"{i}. {r.message}（{r.next_step}）" for i, r in enumerate(reasons, 1))


def application_text(app: RentSubsidyApplication) -> str:
    paid = f"，发放时间：{app.paid_at[:16].replace('T', ' ')}" if app.paid_at else ""
    return (
        f"申请编号：{app.application_no}\n"
        f"补贴标准：每月{app.monthly_amount}元 × {app.months}个月，共{app.amount}元（{app.period}年度）\n"
        f"发放账户：{app.payout_account_masked}\n"
        f"办理状态：{app.status_text}{paid}"
    )


async def answer_policy(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    try:
        policy = await services.rent_subsidy().get_policy()
    except ServiceUnavailable as error:
        services.tell_unavailable(dispatcher, error)
        return True
    amounts = "、".join(f"{degree}每月{amount}元" for degree, amount in policy.amounts.items())
    conditions = "\n".join(f"{i}. {c}" for i, c in enumerate(policy.conditions, 1))
    dispatcher.utter_message(
        text=f"{policy.city}市新就业人员租房补贴政策（{policy.period}年度，示例数据）：\n"
        f"申请条件：\n{conditions}\n"
        f"补贴标准：{amounts}，最长发放{policy.months}个月。\n"
        f"所需材料：{policy.materials}\n"
        f"如需申请，请回复“申请租房补贴”；咨询电话：{policy.hotline}。",
        buttons=[{"title": "申请租房补贴", "payload": "/rent_subsidy_apply"}],
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
        "rent_commitment": SlotSpec(
            validate_confirmation, "本人承诺所填信息及授权核验的数据真实有效，回复“确认”即提交申请", intents=YES_NO
        ),
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
        return updates | await self.check_eligibility(dispatcher, tracker)

    async def check_eligibility(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> Updates:
        try:
            result = await services.rent_subsidy().check_eligibility(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker)
            )
        except ServiceUnavailable:
            # the commitment question explains and offers to retry
            return {services.RESULT_SLOT: services.result("rent_subsidy", "error")}
        except ServiceRejected as error:
            dispatcher.utter_message(text=error.message)
            return {"rent_commitment": NOT_ELIGIBLE, services.RESULT_SLOT: services.result("rent_subsidy", "rejected")}
        return self.show_eligibility(result, dispatcher)

    @staticmethod
    def show_eligibility(result: Eligibility, dispatcher: CollectingDispatcher) -> Updates:
        if result.already_applied:
            dispatcher.utter_message(
                text=f"您本年度（{result.period}）的租房补贴已经申请并发放，无需重复申请。"
                f"申请编号：{result.application_no}。如需查看详情，请回复“查询补贴进度”。"
            )
            return {"rent_eligibility": asdict(result), "rent_commitment": ALREADY_PAID}
        if not result.eligible:
            dispatcher.utter_message(
                text=f"经系统核验，您暂不符合租房补贴申请条件，原因如下：\n{reasons_text(result.reasons)}\n"
                "如对核验结果有疑问，可回复“转人工”或拨打12345热线咨询。"
            )
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
            dispatcher.utter_message(text="好的，您未作出承诺，本次申请未提交。如需办理，请随时告诉我。")
            return {"rent_commitment": DECLINED}
        key = idempotency_key(tracker.sender_id, "rent_subsidy", tracker.get_slot("verification_id") or "")
        try:
            application = await services.rent_subsidy().apply(
                token=tracker.get_slot("identity_token"), chat_user=chat_user(tracker), idempotency_key=key
            )
        except ServiceUnavailable as error:
            services.tell_unavailable(
                dispatcher, error, "您的申请尚未提交成功，信息已为您保留；稍后回复“确认”即可重新提交，不会重复发放。"
            )
            return {"rent_commitment": None, services.RESULT_SLOT: services.result("rent_subsidy", "error")}
        except ServiceRejected as error:
            reasons = [IneligibilityReason(**r) for r in error.details.get("reasons", [])]
            dispatcher.utter_message(text=f"{error.message}\n{reasons_text(reasons)}".strip())
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
            dispatcher.utter_message(
                text="抱歉，租房补贴服务暂时无法访问，暂时无法核验您的申请资格。您的身份验证信息已保留，"
                "请稍后回复“重试”，或回复“转人工”由工作人员协助您。",
                buttons=[
                    {"title": "重试", "payload": "重试"},
                    {"title": "转人工", "payload": "/request_human"},
                    {"title": "不办了", "payload": "/cancel"},
                ],
            )
            return []
        dispatcher.utter_message(
            text=f"经系统核验（社保、就业、房产等数据已自动比对，无需上传材料），您符合租房补贴申请条件：\n"
            f"学历：{eligibility['degree']}，补贴标准每月{eligibility['monthly_amount']}元，"
            f"共{eligibility['months']}个月，合计{eligibility['total_amount']}元。\n"
            f"发放账户：{eligibility['payout_account_masked']}\n"
            "承诺声明：本人承诺以上信息真实有效，如有虚假，愿意退回补贴并承担相应责任。\n"
            "请确认是否作出承诺并提交申请？",
            buttons=[
                {"title": "确认承诺并提交", "payload": "/affirm"},
                {"title": "暂不申请", "payload": "/deny"},
            ],
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
            app = RentSubsidyApplication(**application)
            dispatcher.utter_message(
                text=f"您的租房补贴申请已提交，补贴已发放。\n{application_text(app)}\n"
                "如需查询进度，请随时回复“查询补贴进度”。"
            )
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
            services.tell_unavailable(dispatcher, error, "您的身份已验证，稍后再问我一次即可，无需重新验证。")
            return [services.result_event("rent_subsidy", "error")]
        except ServiceRejected as error:
            dispatcher.utter_message(text=error.message)
            return []
        if not applications:
            dispatcher.utter_message(
                text="您目前没有租房补贴申请记录。如需申请，请回复“申请租房补贴”。",
                buttons=[{"title": "申请租房补贴", "payload": "/rent_subsidy_apply"}],
            )
            return []
        listing = "\n\n".join(application_text(a) for a in applications)
        dispatcher.utter_message(text=f"您共有{len(applications)}条租房补贴申请记录：\n{listing}")
        return []
