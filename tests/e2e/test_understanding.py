"""Understanding beyond the script, through Rasa's REST channel with every process running: questions outside our
services start nothing, policy questions are answered with their source (or honestly not), searches that find
nothing are relaxed and say so, and questions inside a form are answered before the form goes on."""

from __future__ import annotations

import pytest

from tests.e2e.stack import Chat, Stack

pytestmark = pytest.mark.e2e

FORM_OPENINGS = ("请问您的姓名", "请告诉我您的姓名", "手机号码")


def assert_no_form(chat: Chat) -> None:
    assert chat.slot("requested_slot") is None, chat.text
    assert not any(opening in chat.text for opening in FORM_OPENINGS), chat.text


@pytest.mark.parametrize("text", [
    "公积金能不能提取出来交房租，需要什么材料",
    "2020年3月5日上海市卫健委通报了新增病例，医护人员是怎么排班的",
    "这个月个税申报截止是哪天，我们企业还没报",
    "报名参加社区志愿者要去哪里登记",
])
def test_questions_about_other_matters_start_no_transaction(stack: Stack, text: str) -> None:
    chat = stack.chat()
    chat.say(text)
    assert_no_form(chat)


def test_an_unsure_request_is_asked_about_and_one_click_confirms(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("补贴")
    assert "您是想" in chat.text and any(b["payload"] == "/rent_subsidy_apply" for b in chat.buttons), chat.text
    assert_no_form(chat)
    chat.click("申请租房补贴")
    assert "姓名" in chat.text, chat.text


def test_a_policy_question_is_answered_with_its_source_and_date(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("黄码多久能变绿")
    assert "依据：" in chat.text and "年" in chat.text and "以上为政策要点" in chat.text, chat.text
    assert_no_form(chat)


def test_a_question_close_to_several_entries_offers_them_to_choose(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("健康码是黄码的话，要连续打卡多少天才能变成绿码")
    assert "您想问的是不是" in chat.text and chat.buttons[0]["title"] == "黄码要多久才能变成绿码？", chat.text
    chat.click("黄码要多久才能变成绿码")
    assert "依据：" in chat.text, chat.text


def test_a_question_the_knowledge_base_cannot_answer_is_told_so(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("请问养的宠物狗在杭州办狗证要交多少钱")
    assert "12345" in chat.text and "依据" not in chat.text, chat.text


def test_an_online_search_in_a_city_is_relaxed_and_says_how(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("杭州最近有什么线上招聘会吗")
    assert "没有找到“杭州、线上”的招聘会" in chat.text and "“全国、线上”" in chat.text, chat.text
    shown = chat.slot("result_list")
    assert shown["kind"] == "fairs" and shown["items"] and "city" not in shown["query"]


def test_questions_inside_a_registration_form_are_answered_then_it_goes_on(stack: Stack) -> None:
    chat = stack.chat()
    chat.trigger("job_fair_register", {"job_fair_id": "JF0005"})
    assert "姓名" in chat.text, chat.text
    chat.say("我报名了哪些招聘会")
    assert "查询报名记录需要先验证您的手机号" in chat.text and "姓名" in chat.text, chat.text
    chat.say("刘洋")
    chat.say("13800000004")
    chat.say(stack.sms_code("13800000004"))
    assert "学校" in chat.text, chat.text
    chat.say("我报名了哪些招聘会")
    assert "学校" in chat.text and "报名" in chat.text and "请先完成当前业务" not in chat.text, chat.text
    chat.say("黄码多久能变绿")
    assert "依据：" in chat.text and "学校" in chat.text, chat.text  # answered, then the form asks again
    chat.say("浙江大学")
    assert "专业" in chat.text, chat.text
