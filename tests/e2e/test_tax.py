"""E-tax guidance (电子税务) through Rasa's REST channel with every process running."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.e2e.stack import Chat, Stack, verify

pytestmark = pytest.mark.e2e

CHEN = ("陈晓", "330106199503140023", "13800000001")  # registered contact of 杭州云帆科技有限公司
YUNFAN = "91330106MA2H3K5P13"


def ask(chat: Chat, text: str) -> None:
    chat.say(text)
    if "您是想" in chat.text:
        chat.click("纳税")


def test_this_months_vat_deadline_with_how_to_file_online(stack: Stack) -> None:
    deadline = httpx.get(f"{stack.services_url}/api/v1/tax/deadline").json()["deadline"]
    month, day = int(deadline[5:7]), int(deadline[8:10])
    chat = stack.chat()
    ask(chat, "这个月增值税申报截止到哪天")
    assert f"{month}月{day}日" in chat.text, chat.text
    assert "电子税务局" in chat.text, chat.text  # how to file online
    assert chat.slot("requested_slot") is None  # a public answer, nothing asked


def test_the_late_payment_surcharge_is_worked_out(stack: Stack) -> None:
    chat = stack.chat()
    ask(chat, "增值税晚交了10天，税款5万，滞纳金怎么算")
    assert "250" in chat.text and "万分之五" in chat.text, chat.text  # 50000 × 0.05 % × 10 = 250.00
    chat.say("逾期了滞纳金怎么算")
    assert "金额" in chat.text, chat.text
    chat.say("3万")
    assert "天" in chat.text, chat.text
    chat.say("20天")
    assert "300" in chat.text, chat.text  # 30000 × 0.05 % × 20


def test_obligations_then_a_deferral_of_at_most_three_months(stack: Stack) -> None:
    chat = stack.chat()
    ask(chat, "帮我查一下我们公司这个月要报哪些税")
    verify(chat, stack, CHEN)
    if "统一社会信用代码" in chat.text:
        chat.say(YUNFAN)
    assert "杭州云帆科技有限公司" in chat.text and "未申报" in chat.text and "逾期" in chat.text, chat.text

    ask(chat, "公司资金周转困难，想申请延期缴纳税款")
    if "统一社会信用代码" in chat.text:
        chat.say(YUNFAN)
    assert chat.buttons, chat.text  # the open obligations to choose from
    chat.say(chat.buttons[0]["payload"])
    chat.say("延期6个月")
    assert "3个月" in chat.text, chat.text  # refused with the rule, asked again
    chat.say("3个月")
    chat.say("受疫情影响，下游客户回款延迟，暂时资金周转困难")
    assert "确认" in chat.text, chat.text
    chat.say("确认")
    found = re.search(r"YQ\d+", chat.text)
    assert found and "待审批" in chat.text, chat.text
