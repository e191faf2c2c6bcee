"""The court in the chat (移动微法院) and procuratorate video hearings, through Rasa's REST channel with every process
running. The conversations follow each other: a consent or a signature recorded stays recorded."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import Chat, Stack, verify

pytestmark = pytest.mark.e2e

CHEN = ("陈晓", "330106199503140023", "13800000001")  # (2020)浙0106民初1234号, (2020)浙0192民初567号
LIN = ("林悦", "330105199708220039", "13800000002")  # (2020)浙0106民初9999号
HUANG = ("黄海", "45010219920605004X", "13800000003")  # invited to a procuratorate video hearing
RENT_CASE, MEDIATION_CASE, LIN_CASE = "(2020)浙0106民初1234号", "(2020)浙0192民初567号", "(2020)浙0106民初9999号"


def start(chat: Chat, text: str, button: str) -> None:
    chat.say(text)
    if "您是想" in chat.text:  # the transaction gate asks first when the NLU is not sure
        chat.click(button)


def test_a_party_sees_her_cases_and_one_case_by_its_number(stack: Stack) -> None:
    chat = stack.chat()
    start(chat, "我的案子到哪一步了", "案件")
    verify(chat, stack, CHEN)
    assert RENT_CASE in chat.text and MEDIATION_CASE in chat.text, chat.text
    assert "杭州市西湖区人民法院" in chat.text and "杭州互联网法院" in chat.text, chat.text
    assert "当前阶段" in chat.text and "下一个节点时间" in chat.text, chat.text

    # The same session, a number in another writing (full-width brackets, no 号): only that case.
    start(chat, "帮我查一下（2020）浙0106民初1234的进度", "案件")
    assert RENT_CASE in chat.text and MEDIATION_CASE not in chat.text, chat.text
    assert "租赁" in chat.text, chat.text


def test_a_case_she_is_not_a_party_to_reveals_nothing_and_is_recorded(stack: Stack) -> None:
    chat = stack.chat()
    start(chat, f"查询案件{LIN_CASE}", "案件")
    verify(chat, stack, CHEN)
    assert "没有查到您作为当事人的案件" in chat.text, chat.text
    assert "案由" not in chat.text and "法院：" not in chat.text and "林" not in chat.text, chat.text
    result = next(event["value"] for event in reversed(chat.tracker()["events"])
                  if event.get("event") == "slot" and event.get("name") == "transaction_result" and event["value"])
    assert result == {"service": "court_case", "status": "rejected", "reference": LIN_CASE}


def test_she_agrees_to_an_online_hearing_once(stack: Stack) -> None:
    chat = stack.chat()
    start(chat, "我那个房租押金的官司什么时候开庭", "开庭")
    verify(chat, stack, CHEN)
    assert RENT_CASE in chat.text and "10:00" in chat.text and "是否同意在线开庭" in chat.text, chat.text
    chat.click("同意在线开庭")
    assert "已记录：您同意在线参加" in chat.text and "身份" in chat.text, chat.text  # checked again before it

    start(chat, "开庭时间再跟我说一下", "开庭")
    assert "在线（视频）参加" in chat.text and "是否同意" not in chat.text, chat.text


def test_a_party_may_refuse_and_attend_in_court(stack: Stack) -> None:
    chat = stack.chat()
    start(chat, "我不想网上开庭，我要去法院", "开庭")
    verify(chat, stack, LIN)
    assert "是否同意在线开庭" in chat.text, chat.text
    chat.say("不同意，我到庭参加")
    assert "已记录：您选择到场参加" in chat.text and "身份证件" in chat.text, chat.text


def test_she_reads_and_signs_the_mediation_agreement_once_and_again_after_a_new_version(stack: Stack) -> None:
    chat = stack.chat()
    start(chat, "我要签调解协议", "调解")
    verify(chat, stack, CHEN)
    assert MEDIATION_CASE in chat.text and "第1版" in chat.text and "确认签署" in chat.text, chat.text
    chat.click("确认签署")
    assert "签署成功" in chat.text and "各方均已签署" in chat.text and "司法确认" in chat.text, chat.text

    start(chat, "调解协议帮我签一下", "调解")
    assert "都已签署，无需再签" in chat.text and MEDIATION_CASE in chat.text, chat.text

    httpx.post(f"{stack.services_url}/dev/court/mediation-version",
               json={"case_number": MEDIATION_CASE, "text": "（第二版）双方同意：被告于十日内退还货款人民币3200元。"}
               ).raise_for_status()
    start(chat, "我要签调解协议", "调解")
    assert "第2版" in chat.text and "已作废" in chat.text and "3200" in chat.text, chat.text
    chat.say("确认")
    assert "签署成功" in chat.text and "尚待" in chat.text, chat.text  # the other party signs again


def test_an_invited_citizen_answers_a_procuratorate_video_hearing(stack: Stack) -> None:
    chat = stack.chat()
    start(chat, "检察院通知我参加听证，什么时候", "听证")
    verify(chat, stack, HUANG)
    assert "杭州市西湖区人民检察院" in chat.text and "14:30" in chat.text and "视频" in chat.text, chat.text
    chat.click("不同意")
    assert "已记录：您选择到场参加" in chat.text and "听证会" in chat.text, chat.text


@pytest.mark.parametrize(("question", "answered_with"), [
    ("不同意在线开庭可以吗", "到庭"),
    ("调解协议签了有效吗", "司法确认"),
    ("诉讼费什么时候交", "7日"),
])
def test_rule_questions_are_answered_without_asking_who_she_is(stack: Stack, question: str, answered_with: str) -> None:
    chat = stack.chat()
    chat.say(question)
    if "您想问的是不是" in chat.text:
        chat.say(chat.buttons[0]["payload"])
    assert answered_with in chat.text, chat.text
    assert chat.slot("requested_slot") is None, chat.text
