"""Enterprise work-resumption filing (企业复工申报) through Rasa's REST channel with every process running."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from tests.e2e.stack import Chat, Stack, verify

pytestmark = pytest.mark.e2e

WANG = ("王建国", "330102198805120036", "13800000005")  # 绿源's legal representative, 星光's contact
CHEN = ("陈晓", "330106199503140023", "13800000001")  # 云帆's contact, nothing to do with 绿源
LVYUAN, XINGGUANG = "91330110MA2K8L6R2R", "91330102MA2J7X4Q84"


def earliest_date(stack: Stack) -> date:
    rules = httpx.get(f"{stack.services_url}/api/v1/work-resumption/rules").json()
    return date.fromisoformat(rules["earliest_planned_date"])


def start_filing(chat: Chat) -> None:
    chat.say("我是公司法人，想给企业申报复工")
    if "您是想" in chat.text:
        chat.click("办理企业复工申报")


def test_a_filing_meets_each_rule_then_gets_its_number_once(stack: Stack) -> None:
    chat = stack.chat()
    start_filing(chat)
    verify(chat, stack, WANG)
    assert "统一社会信用代码" in chat.text, chat.text
    chat.say(LVYUAN)
    assert "杭州绿源食品有限公司" in chat.text and "复工" in chat.text, chat.text

    earliest = earliest_date(stack)
    chat.say("明天")
    assert "最早可以填写" in chat.text and f"{earliest.month}月{earliest.day}日" in chat.text, chat.text
    chat.say(earliest.isoformat())
    assert "返岗" in chat.text, chat.text
    chat.say("120")
    chat.say("5")
    assert "口罩" in chat.text, chat.text
    chat.say("2天")
    assert "至少" in chat.text and "3天" in chat.text, chat.text  # refused with the rule, asked again
    chat.say("7")
    assert "隔离室" in chat.text, chat.text
    chat.say("1间")
    assert "2间" in chat.text, chat.text  # 120 returning staff need 2 rooms
    chat.say("2")
    assert "承诺" in chat.text and "120" in chat.text, chat.text
    chat.say("确认")
    assert "备案编号：FG" in chat.text and "区县" in chat.text, chat.text
    number = chat.text.split("备案编号：")[1].split()[0]

    again = stack.chat()
    start_filing(again)
    verify(again, stack, WANG)
    again.say(LVYUAN)
    again.say(earliest.isoformat())
    for answer in ("120", "5", "7", "2"):
        again.say(answer)
    again.say("确认")
    assert number in again.text and "无需重复申报" in again.text, again.text

    chat.say("复工申报审核到哪一步了")
    if "您是想" in chat.text:
        chat.click("查询复工申报的办理进度")
    assert number in chat.text and "待审核" in chat.text, chat.text


def test_a_ktv_is_refused_by_the_negative_list(stack: Stack) -> None:
    chat = stack.chat()
    start_filing(chat)
    verify(chat, stack, WANG)
    chat.say(XINGGUANG)
    assert "负面清单" in chat.text and "杭州星光娱乐有限公司" in chat.text, chat.text
    assert "返岗" not in chat.text  # nothing more is asked


def test_someone_elses_company_is_refused_without_its_data(stack: Stack) -> None:
    chat = stack.chat()
    start_filing(chat)
    verify(chat, stack, CHEN)
    chat.say("91330110MA2K8L6R2X")  # one character off: the check character is wrong
    assert "校验未通过" in chat.text, chat.text
    chat.say(LVYUAN)
    assert "绿源" not in chat.text and "食品" not in chat.text and "120" not in chat.text, chat.text
    assert "未查询到您可以代为办理" in chat.text, chat.text  # the same words for an unknown company
