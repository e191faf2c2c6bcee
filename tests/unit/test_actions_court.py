"""The court forms and actions, run with real trackers against a sandbox of their own (they record consents and
signatures, and publish a new agreement version, which must not leak into the other tests of the session)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest

from actions import services
from actions.court import (
    COURT_SLOTS,
    ActionAskCourtConfirm,
    ActionAskCourtConsent,
    ActionAskCourtHearing,
    ActionCourtCases,
    ActionCourtHearing,
    ActionSignMediation,
    ValidateCourtCaseForm,
    ValidateCourtHearingForm,
    ValidateMediationSignForm,
)
from actions.slot_values import plain
from actions.validators.common import Invalid, Valid
from actions.validators.court import validate_case_number, validate_consent
from bot.clock import CHINA_TZ
from integrations.services.court import Hearing
from tests.unit.conftest import entity, tracker
from tests.unit.form_chat import FormChat
from tests.unit.rendering import run

CHEN = {"name": "陈晓", "id": "330106199503140023", "phone": "13800000001"}
HUANG = {"name": "黄海", "id": "45010219920605004X", "phone": "13800000003"}
RENT_CASE, MEDIATION_CASE, LIN_CASE = "(2020)浙0106民初1234号", "(2020)浙0192民初567号", "(2020)浙0106民初9999号"


@pytest.fixture
def live_services(own_services: str) -> str:
    return own_services


@pytest.mark.parametrize(("typed", "expected"), [
    ("(2020)浙0106民初1234号", RENT_CASE),
    ("（2020）浙0106民初1234号", RENT_CASE),
    ("〔2020〕浙0106民初1234", RENT_CASE),
    ("（２０２０）浙0106民初 1234 号", RENT_CASE),
])
def test_case_numbers_are_read_in_their_usual_writings(typed: str, expected: str) -> None:
    assert validate_case_number(typed) == Valid(expected)


def test_a_case_number_without_its_parts_is_explained() -> None:
    assert validate_case_number("浙0106民初") == Invalid("utter_invalid_case_number")


@pytest.mark.parametrize(("typed", "expected"), [
    ("同意", "agreed"), ("可以，线上开吧", "agreed"), ("不同意，我到庭参加", "refused"), ("我去法院", "refused"),
    ("declined", "refused"), ("confirmed", "agreed"),
])
def test_consent_is_read_refusal_first(typed: str, expected: str) -> None:
    assert validate_consent(typed) == Valid(expected)


async def test_her_cases_and_one_by_number_and_none_of_somebody_elses(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "court-chen-cases", "court_case_form", ValidateCourtCaseForm())
    await chat.say("我的案子到哪一步了", intent="court_case_query")
    await chat.verified(live_services, CHEN)
    assert chat.slots["requested_slot"] is None
    listed = await chat.action(ActionCourtCases())
    assert RENT_CASE in listed.text and MEDIATION_CASE in listed.text and "房屋租赁合同纠纷" in listed.text
    assert "杭州市西湖区人民法院" in listed.text and "下一个节点时间" in listed.text
    assert all(listed.slots[slot] is None for slot in COURT_SLOTS)

    text = "（2020）浙0106民初9999号"
    await chat.say(text, intent="court_case_query", entities=[entity("case_number", text)])
    assert chat.slots["case_number"] == LIN_CASE
    refused = await chat.action(ActionCourtCases())
    assert "没有查到您作为当事人的案件“(2020)浙0106民初9999号”" in refused.text
    assert "民间借贷" not in refused.text and "林" not in refused.text
    assert chat.slots["transaction_result"] == {"service": "court_case", "status": "rejected",
                                                "reference": LIN_CASE}


async def test_a_rule_question_read_as_a_request_is_answered_and_nothing_is_asked(
    live_services: str, domain: dict
) -> None:
    chat = FormChat(domain, "court-rule", "court_hearing_form", ValidateCourtHearingForm())
    asked = await chat.say("不同意在线开庭可以吗", intent="court_hearing_query")
    assert "到庭" in asked.text and "法释〔2021〕12号" in asked.text
    assert chat.slots["requested_slot"] is None and chat.slots["court_result"] == "answered"


async def test_she_agrees_to_the_online_hearing_once(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "court-chen-hearing", "court_hearing_form", ValidateCourtHearingForm())
    await chat.say("我的案子什么时候开庭", intent="court_hearing_query")
    await chat.verified(live_services, CHEN)
    assert chat.slots["court_hearing"] == "H0001" and chat.slots["requested_slot"] == "court_consent"
    shown = await chat.action(ActionAskCourtConsent())
    assert RENT_CASE in shown.text and "10:00" in shown.text and "第三法庭" in shown.text
    assert {"title": "同意在线开庭", "payload": "/affirm"} in shown.buttons

    question = await chat.say("诉讼费什么时候交", intent="policy_question")
    assert "7日内" in question.text and chat.slots["requested_slot"] == "court_consent"  # answered, asked again
    unsure = await chat.say("不同意在线开庭的话可以吗", intent="deny")
    assert "到庭" in unsure.text and chat.slots["requested_slot"] == "court_consent"  # a question is no decision
    assert chat.slots.get("court_consent") is None
    await chat.say("同意", intent="affirm")
    assert chat.slots["requested_slot"] is None
    assert chat.slots["transaction_result"] == {"service": "court_hearing", "status": "completed",
                                                "reference": "H0001"}
    done = await chat.action(ActionCourtHearing())
    assert "已记录：您同意在线参加" in done.text and "人脸" in done.text

    again = FormChat(domain, "court-chen-hearing", "court_hearing_form", ValidateCourtHearingForm())
    await again.verified(live_services, CHEN)
    listed = await again.say("开庭时间再说一下", intent="court_hearing_query")
    assert "在线（视频）参加" in listed.text and again.slots["requested_slot"] is None  # nothing asked again
    hearings = await services.court().list_hearings(token=again.slots["identity_token"], chat_user=again.sender)
    assert [(h.hearing_id, h.consent) for h in hearings] == [("H0001", "agreed")]


async def test_a_procuratorate_hearing_may_be_refused(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "court-huang", "court_hearing_form", ValidateCourtHearingForm())
    started = await chat.say("检察院通知我参加听证，是什么时候", intent="court_hearing_query")
    assert not started.messages and chat.slots["requested_slot"] == "person_name"  # his own hearing, not a rule
    await chat.verified(live_services, HUANG)
    shown = await chat.action(ActionAskCourtConsent())
    assert "杭州市西湖区人民检察院" in shown.text and "14:30" in shown.text and "视频" in shown.text
    await chat.say("不同意，我到现场参加")
    done = await chat.action(ActionCourtHearing())
    assert "已记录：您选择到场参加" in done.text and "检察听证室" in done.text


async def test_she_signs_once_and_a_new_version_is_asked_again(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "court-chen-sign", "mediation_sign_form", ValidateMediationSignForm())
    await chat.say("我要签调解协议", intent="mediation_sign")
    await chat.verified(live_services, CHEN)
    assert chat.slots["case_number"] == MEDIATION_CASE and chat.slots["requested_slot"] == "court_confirm"
    text = await chat.action(ActionAskCourtConfirm())
    assert "第1版" in text.text and "6,999元" in text.text and "被告 杭州优选汇电子商务有限公司：已签署" in text.text

    # The court publishes a new version before she confirms: the old one cannot be signed, the new one is shown.
    response = httpx.post(f"{live_services}/dev/court/mediation-version",
                          json={"case_number": MEDIATION_CASE, "text": "第二版：被告退还货款人民币7,200元。"})
    assert response.status_code == 201, response.text
    changed = await chat.say("确认签署", intent="affirm")
    assert "旧版本" in changed.text and chat.slots["requested_slot"] == "court_confirm"
    assert chat.slots["court_agreement"]["version"] == 2
    assert "7,200元" in (await chat.action(ActionAskCourtConfirm())).text
    await chat.say("确认", intent="affirm")
    signed = await chat.action(ActionSignMediation())
    assert "签署成功" in signed.text and "第2版" in signed.text
    assert "尚待被告杭州优选汇电子商务有限公司签署" in signed.text

    again = FormChat(domain, "court-chen-sign", "mediation_sign_form", ValidateMediationSignForm())
    await again.verified(live_services, CHEN)
    text = f"签一下{MEDIATION_CASE}的调解协议"
    repeat = await again.say(text, intent="mediation_sign", entities=[entity("case_number", MEDIATION_CASE, text)])
    assert "无需重复签署" in repeat.text and again.slots["requested_slot"] is None
    mediation = await services.court().get_mediation(token=again.slots["identity_token"], chat_user=again.sender,
                                                     case_number=MEDIATION_CASE)
    assert mediation.version == 2 and mediation.signed_by_me and not mediation.all_signed


def waiting_hearing(hearing_id: str, case_number: str, day: int) -> dict:
    return plain(Hearing(hearing_id, "court", "杭州市西湖区人民法院", case_number, None,
                         datetime(2026, 12, day, 10, tzinfo=CHINA_TZ), "第三法庭", True, "pending", None, None,
                         "通过移动微法院视频参加。", "", "开庭前请完成人脸识别。"))


async def test_several_hearings_waiting_for_consent_are_listed_and_one_is_picked(domain: dict) -> None:
    items = [waiting_hearing("H1", RENT_CASE, 7), waiting_hearing("H2", MEDIATION_CASE, 9)]
    slots = {"court_items": items, "requested_slot": "court_hearing"}
    asked = await run(ActionAskCourtHearing(), tracker(slots=slots, form="court_hearing_form"), domain)
    assert "2场庭审或听证" in asked.text and "2026年12月9日（星期三）10:00" in asked.text
    assert [b["title"] for b in asked.buttons] == ["第1场", "第2场"]
    chat = FormChat(domain, "court-two", "court_hearing_form", ValidateCourtHearingForm())
    chat.slots.update(slots | {"identity_token": "t", "identity_level": "identity", "court_result": None})
    assert "1到2" in (await chat.say("3")).text  # not a number of the list
    await chat.say("2")
    assert chat.slots["court_hearing"] == "H2" and chat.slots["requested_slot"] == "court_consent"
