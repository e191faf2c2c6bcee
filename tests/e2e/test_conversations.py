"""Whole conversations through Rasa's REST channel with every process running.

Texts are what a citizen would type; assertions are what the citizen would read.
"""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.stack import Chat, Stack, verify

pytestmark = pytest.mark.e2e

CHEN = ("陈晓", "330106199503140023", "13800000001")
WANG = ("王芳", "330102199001010039", "13800000011")
SUN = ("孙丽", "310115199901010083", "13800000010")
LIN = ("林悦", "330105199708220039", "13800000002")


def start_rent_application(chat: Chat) -> None:
    chat.say("你好，我去年来杭州工作的，想申请一下租房补贴")
    if "您是想" in chat.text:  # the transaction gate may ask first (docs/understanding.md): one click confirms
        chat.click("申请租房补贴")
    assert "姓名" in chat.text, chat.text


def test_rent_subsidy_is_applied_for_and_paid(stack: Stack) -> None:
    chat = stack.chat()
    start_rent_application(chat)
    verify(chat, stack, CHEN)
    assert "符合租房补贴申请条件" in chat.text and "本人承诺" in chat.text
    chat.say("确认")
    assert "申请编号：ZF" in chat.text and "已发放" in chat.text, chat.text
    chat.say("我的补贴到哪一步了")
    assert "申请编号：ZF" in chat.text, chat.text  # still verified in this session


def test_applying_twice_pays_once(stack: Stack) -> None:
    first = stack.chat()
    start_rent_application(first)
    verify(first, stack, WANG)
    first.say("确认")
    number = first.text.split("申请编号：")[1][:14]
    second = stack.chat()
    start_rent_application(second)
    verify(second, stack, WANG)
    assert "无需重复申请" in second.text and number in second.text


def test_ineligible_citizen_is_told_why(stack: Stack) -> None:
    chat = stack.chat()
    start_rent_application(chat)
    verify(chat, stack, LIN)
    assert "暂不符合" in chat.text and "住房" in chat.text, chat.text


def test_invalid_id_and_wrong_code_are_explained(stack: Stack) -> None:
    chat = stack.chat()
    start_rent_application(chat)
    chat.say("陈晓")
    chat.say("330106199503140024")
    assert "校验未通过" in chat.text and "身份证" in chat.text, chat.text
    chat.say("330106199503140023")
    chat.say("13800000001")
    code = stack.sms_code("13800000001")
    chat.say("000000" if code != "000000" else "111111")
    assert "验证码不正确" in chat.text, chat.text
    chat.say(code)
    assert "身份验证成功" in chat.text


def test_service_stopped_mid_conversation_keeps_the_data_and_pays_once(stack: Stack) -> None:
    chat = stack.chat()
    start_rent_application(chat)
    verify(chat, stack, SUN)
    stack.stop("services")
    try:
        chat.say("确认")
        assert "暂时无法访问" in chat.text and "不会重复发放" in chat.text, chat.text
    finally:
        stack.start_services()
    chat.say("确认")
    assert "申请编号：ZF" in chat.text, chat.text
    chat.say("查一下我的租房补贴进度")
    assert chat.text.count("申请编号") == 1, chat.text


def test_cancel_and_a_question_in_the_middle_of_a_form(stack: Stack) -> None:
    chat = stack.chat()
    start_rent_application(chat)
    chat.say("陈晓")
    chat.say("这个补贴每个月能领多少钱啊")
    assert "补贴标准" in chat.text and "身份证" in chat.text, chat.text  # answered, then asked again
    chat.say("算了，不办了")
    assert "已为您取消" in chat.text, chat.text
    chat.say("谢谢")
    assert "不客气" in chat.text


def test_entry_control_query_asks_for_the_country_and_clarifies(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("出国入境现在还要隔离吗")
    assert "哪个国家或地区" in chat.text, chat.text
    chat.say("新加破")
    assert "没有找到" in chat.text and any(b["title"] == "新加坡" for b in chat.buttons), chat.text
    chat.click("新加坡")
    assert "新加坡" in chat.text and "入境政策" in chat.text, chat.text
    chat.say("去美利坚要做核酸吗")
    assert "美国" in chat.text and "检测要求" in chat.text, chat.text
    chat.say("那韩国呢")
    assert "韩国" in chat.text and "入境政策" in chat.text, chat.text


def test_register_for_the_second_one_in_the_list(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("杭州最近有什么招聘会")
    second = chat.slot("result_list")["items"][1]
    chat.say("我要报名第二个")
    assert second["title"] in chat.text, chat.text


def test_a_bare_city_continues_the_job_fair_search(stack: Stack) -> None:
    """A citizen who answers just "杭州" (or shares a location in WeChat) gets the fairs, and nothing else."""
    chat = stack.chat()
    chat.say("杭州")
    assert "招聘会" in chat.text and "没有理解" not in chat.text, chat.text
    shown = chat.slot("result_list")
    assert shown["kind"] == "fairs"
    chat.say("2")  # typing the number of a list item picks it, as in the numbered list shown
    assert shown["items"][1]["title"] in chat.text, chat.text


def test_port_status(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("罗湖口岸现在能正常过关吗")
    assert "深圳罗湖口岸" in chat.text and "旅客通关" in chat.text, chat.text


def test_job_fair_search_paging_and_registration(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("最近有哪些校园招聘会")
    assert "场招聘会" in chat.text and any(b["payload"] == "/show_more" for b in chat.buttons), chat.text
    chat.click("查看更多")
    assert "第6-" in chat.text, chat.text
    chat.say('/job_fair_register{"job_fair_id":"JF0005"}')
    assert "杭州数字经济人才专场招聘会" in chat.text and "姓名" in chat.text, chat.text
    chat.say("刘洋")
    chat.say("13800000004")
    chat.say(stack.sms_code("13800000004"))
    assert "学校" in chat.text, chat.text
    for answer in ("浙江大学", "计算机科学与技术", "本科", "2020"):
        chat.say(answer)
    assert "请确认您的报名信息" in chat.text, chat.text
    chat.say("确认")
    assert "报名成功" in chat.text and "报名编号：BM" in chat.text, chat.text
    chat.say("我报名了哪些招聘会")
    assert "杭州数字经济人才专场招聘会" in chat.text, chat.text


def test_full_and_past_fairs_are_refused(stack: Stack) -> None:
    chat = stack.chat()
    chat.trigger("job_fair_register", {"job_fair_id": "JF0003"})
    assert "名额已满" in chat.text, chat.text
    chat.say("取消")
    chat.trigger("job_fair_register", {"job_fair_id": "JF0001"})
    assert "已经结束" in chat.text, chat.text


def test_out_of_scope_and_handoff(stack: Stack) -> None:
    chat = stack.chat()
    chat.say("给我讲个笑话吧")
    assert "不在我的服务范围" in chat.text, chat.text
    chat.say("我要找人工客服")
    assert "转人工服务请求" in chat.text, chat.text


def test_conversation_log_has_intents_and_no_personal_data(stack: Stack) -> None:
    """Runs after the conversations above (file order): scan everything that was logged."""
    engine = create_engine(f"sqlite:///{stack.var_dir / 'conversation_log.db'}")

    def logged() -> list[dict]:
        with engine.connect() as connection:
            return [json.loads(r[0]) for r in connection.execute(text("SELECT data FROM conversation_events"))]

    # The log is written by a background thread in batches: wait for the last conversation's events.
    deadline = time.monotonic() + 20
    rows = logged()
    while not any(r.get("name") == "action_request_human" for r in rows) and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = logged()
    dump = json.dumps(rows, ensure_ascii=False)
    assert len(rows) > 100
    for person in (CHEN, WANG, SUN, LIN, ("刘洋", "370202199811110050", "13800000004")):
        for value in person:
            assert value not in dump, f"{value} found unmasked in the conversation log"
    # Every message a citizen typed carries its NLU result (intents triggered through the API are not parsed).
    typed = [r for r in rows if r.get("event") == "user" and not (r.get("metadata") or {}).get("is_external")]
    assert typed and all(r["parse_data"]["intent"].get("confidence") is not None for r in typed)
    assert any(r.get("name") == "action_request_human" for r in rows), "handoff request not in the log"
