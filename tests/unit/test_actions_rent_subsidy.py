"""The rent-subsidy form and actions, run with real trackers against the real sandbox."""

from __future__ import annotations

from actions.rent_subsidy import (
    ActionAskRentCommitment,
    ActionRentSubsidyPolicy,
    ActionRentSubsidyStatus,
    ActionSubmitRentSubsidy,
    ValidateRentSubsidyForm,
)
from tests.unit.conftest import entity, latest_code, tracker
from tests.unit.form_chat import FormChat
from tests.unit.rendering import run

FORM = "rent_subsidy_form"
CHEN = {"name": "陈晓", "id": "330106199503140023", "phone": "13800000001"}
# Eligible and used by no other test module (the sandbox is shared by the whole session).
ZHOU = {"name": "周杰", "id": "110105199109200078", "phone": "13800000009"}


def rent_chat(domain: dict, sender: str) -> FormChat:
    return FormChat(domain, sender, FORM, ValidateRentSubsidyForm())


async def test_eligible_citizen_applies_and_is_paid_once(live_services: str, domain: dict) -> None:
    chat = rent_chat(domain, "rent-eligible")
    verified = await chat.verify(live_services, ZHOU)
    assert "身份验证成功" in verified.text
    assert chat.slots["rent_eligibility"]["eligible"] is True
    assert chat.slots["requested_slot"] == "rent_commitment"

    ask = await run(ActionAskRentCommitment(), tracker(slots=chat.slots), domain)
    monthly = chat.slots["rent_eligibility"]["monthly_amount"]
    assert f"每月{monthly}元" in ask.text and "本人承诺" in ask.text and "****" in ask.text

    done = await chat.say("确认", intent="affirm")
    assert chat.slots["rent_commitment"] == "confirmed"
    assert chat.slots["requested_slot"] is None, done.text
    submitted = await run(ActionSubmitRentSubsidy(), tracker(slots=chat.slots), domain)
    assert "申请编号：ZF" in submitted.text and "已发放" in submitted.text
    # what the operator console counts: a completed rent subsidy with its application number
    number = chat.slots["rent_application"]["application_no"]
    assert chat.slots["transaction_result"] == {"service": "rent_subsidy", "status": "completed", "reference": number}

    # Applying again in a new conversation pays nothing more: the existing application is shown.
    again = rent_chat(domain, "rent-eligible-again")
    repeat = await again.verify(live_services, ZHOU)
    assert "无需重复申请" in repeat.text
    assert again.slots["requested_slot"] is None

    status = await run(ActionRentSubsidyStatus(), tracker(slots=again.slots, sender="rent-eligible-again"), domain)
    assert status.text.count("申请编号") == 1


async def test_ineligible_citizen_sees_each_reason(live_services: str, domain: dict) -> None:
    chat = rent_chat(domain, "rent-owner")
    result = await chat.verify(live_services, {"name": "林悦", "id": "330105199708220039", "phone": "13800000002"})
    assert "暂不符合" in result.text and "住房" in result.text
    assert chat.slots["requested_slot"] is None  # the form ends; nothing is submitted
    assert chat.slots["transaction_result"]["status"] == "rejected"


async def test_invalid_id_number_is_explained_then_exit_offered(live_services: str, domain: dict) -> None:
    chat = rent_chat(domain, "rent-typo")
    chat.slots["requested_slot"] = "person_name"
    await chat.say("陈晓")
    first = await chat.say("330106199503140024", entities=[entity("id_number", "330106199503140024")])
    assert "校验未通过" in first.text and "填写说明" not in first.text
    assert chat.slots["requested_slot"] == "id_number"
    second = await chat.say("3301061995")
    assert "18位" in second.text and "填写说明" in second.text
    third = await chat.say("不知道啊", intent="deny", confidence=0.4)
    assert {b["payload"] for b in third.buttons} == {"/cancel", "/request_human"}


async def test_wrong_sms_code_is_refused(live_services: str, domain: dict) -> None:
    chat = rent_chat(domain, "rent-wrong-code")
    chat.slots["requested_slot"] = "person_name"
    await chat.say("陈晓")
    await chat.say(CHEN["id"], entities=[entity("id_number", CHEN["id"])])
    await chat.say(CHEN["phone"], entities=[entity("phone", CHEN["phone"])])
    right = latest_code(live_services, CHEN["phone"])
    wrong = "000000" if right != "000000" else "111111"
    refused = await chat.say(wrong)
    assert "验证码不正确" in refused.text and "identity_token" not in chat.slots
    assert chat.slots["requested_slot"] == "sms_code"


async def test_cancel_in_the_middle_rejects_the_form(live_services: str, domain: dict) -> None:
    chat = rent_chat(domain, "rent-cancel")
    chat.slots["requested_slot"] = "id_number"
    outcome = await chat.say("算了不办了", intent="cancel")
    assert outcome.rejected


async def test_question_in_the_middle_is_answered_and_the_form_asks_again(
    live_services: str, domain: dict
) -> None:
    chat = rent_chat(domain, "rent-digression")
    chat.slots.update(requested_slot="id_number", person_name="陈晓")
    outcome = await chat.say("这个补贴一个月能领多少钱", intent="rent_subsidy_policy")
    assert "补贴标准" in outcome.text and "本科每月800元" in outcome.text
    assert not outcome.rejected and chat.slots["requested_slot"] == "id_number"


async def test_a_question_about_this_subsidy_is_read_in_the_forms_context(live_services: str, domain: dict) -> None:
    """One message alone reads as another matter; inside the rent-subsidy form, "这个补贴" is this one."""
    chat = rent_chat(domain, "rent-context")
    chat.slots.update(requested_slot="id_number", person_name="陈晓")
    outcome = await chat.say("这个补贴每月给多少", intent="out_of_scope", confidence=0.9)
    assert "补贴标准" in outcome.text and "不在我的服务范围" not in outcome.text
    assert not outcome.rejected and chat.slots["requested_slot"] == "id_number"


async def test_an_unsure_question_where_a_name_is_asked_is_not_taken_for_the_name(
    live_services: str, domain: dict
) -> None:
    chat = rent_chat(domain, "rent-question-for-name")
    chat.slots.update(requested_slot="person_name")
    outcome = await chat.say("补贴能领几个月吗", intent="rent_subsidy_policy", confidence=0.5)
    assert "补贴标准" in outcome.text and chat.slots.get("person_name") is None
    assert chat.slots["requested_slot"] == "person_name"


async def test_policy_is_explained_from_the_service_configuration(live_services: str, domain: dict) -> None:
    outcome = await run(ActionRentSubsidyPolicy(), tracker("租房补贴有什么条件", "rent_subsidy_policy"), domain)
    assert "申请条件" in outcome.text and "最长发放12个月" in outcome.text


async def test_service_down_keeps_the_entered_data(services_down: None, domain: dict) -> None:
    chat = rent_chat(domain, "rent-down")
    chat.slots.update(requested_slot="phone", person_name="陈晓", id_number=CHEN["id"])
    outcome = await chat.say(CHEN["phone"], entities=[entity("phone", CHEN["phone"])])
    assert "暂时无法访问" in outcome.text and "已为您保留" in outcome.text
    assert chat.slots["person_name"] == "陈晓" and chat.slots["id_number"] == CHEN["id"]


async def test_a_question_the_nlu_was_unsure_about_is_still_a_question(live_services: str, domain: dict) -> None:
    """Between two readings (the policy, chit-chat) the NLU gives nlu_fallback: inside the form, a question is
    answered by its best reading, never checked as the ID number asked for."""
    chat = rent_chat(domain, "rent-unsure-question")
    chat.slots.update(requested_slot="id_number", person_name="陈晓")
    ranking = [{"name": "nlu_fallback", "confidence": 0.3}, {"name": "rent_subsidy_policy", "confidence": 0.515},
               {"name": "out_of_scope", "confidence": 0.44}]
    outcome = await chat.say("这个补贴每个月能领多少钱啊", intent="nlu_fallback", confidence=0.3, ranking=ranking)
    assert "补贴标准" in outcome.text and "18位" not in outcome.text
    assert chat.slots["requested_slot"] == "id_number"
