"""Vehicle registration e-transfer (南宁 → 青岛) through Rasa's REST channel with every process running."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.stack import Chat, Stack, verify

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(clock_stack: Stack) -> Stack:
    """These conversations move the sandbox's clock: they run on a stack of their own."""
    return clock_stack

HUANG = ("黄海", "45010219920605004X", "13800000003")  # 桂A12345, VIN …123456, registered in 南宁, clean
LIN = ("林悦", "330105199708220039", "13800000002")  # 浙A8B9C0, VIN …654321, 2 unprocessed violations


def start_transfer(chat: Chat, text: str) -> None:
    chat.say(text)
    if "您是想" in chat.text:
        chat.click("办理机动车转籍")


def test_a_clean_car_moves_from_nanning_to_qingdao_and_its_status_moves_on(stack: Stack) -> None:
    chat = stack.chat()
    start_transfer(chat, "我的车要从南宁转到青岛，档案怎么转")
    verify(chat, stack, HUANG)
    if "车牌" in chat.text:
        chat.say("桂A12345")
    assert "车架号" in chat.text, chat.text
    chat.say("123456")
    assert "核验通过" in chat.text, chat.text
    if "转入哪个城市" in chat.text:
        chat.say("青岛")
    assert "青岛" in chat.text and "时限" in chat.text and "确认" in chat.text, chat.text
    chat.say("确认")
    assert "申请编号：ZD" in chat.text, chat.text
    number = chat.text.split("申请编号：")[1].split()[0]

    chat.say("我的转籍办到哪一步了")
    if "您是想" in chat.text:
        chat.click("查询机动车转籍")
    assert number in chat.text and "时限2日" in chat.text, chat.text

    httpx.post(f"{stack.services_url}/dev/clock", json={"advance_days": 2}).raise_for_status()
    chat.say("转籍进度查一下")
    if "您是想" in chat.text:
        chat.click("查询机动车转籍")
    assert number in chat.text and "青岛" in chat.text and "南宁" in chat.text, chat.text
    assert "纸质档案" in chat.text and "查验" in chat.text, chat.text  # one inspection at the destination

    again = stack.chat()
    start_transfer(again, "帮我办一下车辆转籍")
    verify(again, stack, HUANG)
    if "车牌" in again.text:
        again.say("桂A12345")
    again.say("123456")
    assert number in again.text and "无需重复申请" in again.text, again.text


def test_violations_refuse_the_transfer_with_what_to_do_first(stack: Stack) -> None:
    chat = stack.chat()
    start_transfer(chat, "我想把车迁出到青岛")
    verify(chat, stack, LIN)
    chat.say("浙A3D7F2")  # 王芳's car (mortgaged): nothing about it may show
    if "车架号" in chat.text:
        chat.say("135790")
    assert "未查询到登记在您本人名下" in chat.text, chat.text
    assert "抵押" not in chat.text and "日产" not in chat.text and "杭州" not in chat.text, chat.text
    chat.say("浙A8B9C0")
    if "车架号" in chat.text:
        chat.say("654321")
    assert "违法" in chat.text and "处理办法" in chat.text, chat.text
    assert "确认" not in chat.text  # nothing more is asked


RULE_QUESTIONS = [
    ("转籍还要回南宁验车吗", "验"),
    ("纸质档案要自己带吗", "档案"),
    ("有违章能转吗", "违"),
    ("贷款车能转吗", "抵押"),
    ("转籍要多久", "日"),
]


@pytest.mark.parametrize(("question", "answered_with"), RULE_QUESTIONS)
def test_rule_questions_are_answered_without_starting_anything(stack: Stack, question: str, answered_with: str) -> None:
    chat = stack.chat()
    chat.say(question)
    if "您想问的是不是" in chat.text:
        chat.say(chat.buttons[0]["payload"])
    assert answered_with in chat.text, chat.text
    assert chat.slot("requested_slot") is None, chat.text  # no identity asked for a question


def test_rule_questions_inside_the_transfer_are_answered_from_the_rules(stack: Stack) -> None:
    chat = stack.chat()
    start_transfer(chat, "帮我办一下车辆转籍")
    assert "姓名" in chat.text, chat.text
    for question, answered_with in RULE_QUESTIONS:
        chat.say(question)
        assert answered_with in chat.text and "姓名" in chat.text, chat.text  # answered, then asked again
