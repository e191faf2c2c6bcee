"""Health code (健康码) conversations through Rasa's REST channel with every process running."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import Chat, Stack, verify

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(clock_stack: Stack) -> Stack:
    """These conversations move the sandbox's clock: they run on a stack of their own."""
    return clock_stack

LIU = ("刘洋", "370202199811110050", "13800000004")  # no code yet
LIN = ("林悦", "330105199708220039", "13800000002")  # yellow, 5 of 7, the last check-in yesterday
HUANG = ("黄海", "45010219920605004X", "13800000003")  # red (close contact), 0 of 14


def ask(chat: Chat, text: str, offered: str) -> None:
    """Say `text`; when the transaction gate asks "您是想……吗？" first, confirm with the offered button."""
    chat.say(text)
    if "您是想" in chat.text:
        chat.click(offered)


def check_in(chat: Chat, temperature: str, symptoms: str = "没有") -> None:
    assert "体温" in chat.text, chat.text
    chat.say(temperature)
    assert "症状" in chat.text, chat.text
    chat.say(symptoms)
    assert "确认提交" in chat.text, chat.text
    chat.say("确认")


def test_a_declaration_with_fever_and_key_area_travel_gives_red(stack: Stack) -> None:
    chat = stack.chat()
    ask(chat, "我想申领健康码", "申领健康码")
    verify(chat, stack, LIU)
    assert "不适症状" in chat.text, chat.text
    chat.say("发烧")
    chat.say("38.5")
    assert "重点地区" in chat.text, chat.text
    chat.say("去过")
    assert "确诊或疑似" in chat.text, chat.text
    chat.say("没有")
    assert "发热" in chat.text and "38.5℃" in chat.text and "确认提交" in chat.text, chat.text
    chat.say("确认")
    assert "红码" in chat.text and "隔离" in chat.text and "发热门诊" in chat.text, chat.text
    assert "身份证" in chat.text  # without a smartphone: the code is never the only pass


def test_yellow_code_explained_then_checked_in_until_green(stack: Stack) -> None:
    chat = stack.chat()
    ask(chat, "我的健康码为什么是黄码", "查询我的健康码")
    verify(chat, stack, LIN)
    assert "黄码" in chat.text and "重点地区" in chat.text and "5/7" in chat.text, chat.text
    assert "最早可于" in chat.text, chat.text

    ask(chat, "健康打卡", "进行每日健康打卡")
    check_in(chat, "36.5")
    assert "打卡成功" in chat.text and "6/7" in chat.text, chat.text

    ask(chat, "我要打卡", "进行每日健康打卡")
    assert "已经完成过健康打卡" in chat.text and "6/7" in chat.text, chat.text  # answered, not counted

    # The next day (the sandbox's clock moves; development only): the 7th consecutive normal day turns it green.
    httpx.post(f"{stack.services_url}/dev/clock", json={"advance_days": 1}).raise_for_status()
    ask(chat, "今天打卡，体温36.4", "进行每日健康打卡")
    assert "症状" in chat.text, chat.text  # the temperature in the request is not asked again
    chat.say("没有")
    chat.say("确认")
    assert "打卡成功" in chat.text and "已变为绿码" in chat.text, chat.text


def test_a_fever_at_check_in_is_abnormal_and_an_appeal_is_under_review(stack: Stack) -> None:
    chat = stack.chat()
    ask(chat, "每日健康打卡", "进行每日健康打卡")
    verify(chat, stack, HUANG)
    check_in(chat, "37.8")
    assert "异常" in chat.text and "0/14" in chat.text and "发热门诊" in chat.text, chat.text

    # The next day a normal check-in counts; then a day is missed and the count starts again, and says so.
    httpx.post(f"{stack.services_url}/dev/clock", json={"advance_days": 1}).raise_for_status()
    ask(chat, "打卡", "进行每日健康打卡")
    check_in(chat, "36.5")
    assert "1/14" in chat.text and "重新计算" not in chat.text, chat.text
    httpx.post(f"{stack.services_url}/dev/clock", json={"advance_days": 2}).raise_for_status()
    ask(chat, "打卡", "进行每日健康打卡")
    check_in(chat, "36.6")
    assert "重新计算" in chat.text and "1/14" in chat.text, chat.text

    ask(chat, "颜色不对，我要申诉", "对健康码颜色申请复核")
    assert "原因" in chat.text, chat.text
    chat.say("我不是密切接触者，那天我在外地出差，没有和病例同行")
    assert "红码" in chat.text and "确认提交" in chat.text, chat.text
    chat.say("确认")
    assert "复核编号：FH" in chat.text and "审核中" in chat.text, chat.text


def test_without_a_smartphone_the_alternatives_are_told(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("我奶奶用的是老人机，弄不了健康码，她出门买菜坐车怎么办")
    if "您是想" in chat.text:  # unsure whether she wants one made for her: either way the answer must come
        chat.click("申领健康码")
    assert "不是唯一的通行凭证" in chat.text or "纸质" in chat.text, chat.text
