"""The health-code forms and actions, run with real trackers against the real sandbox.

The seed personas' codes are used by this module only (the client tests run their own sandbox).
"""

from __future__ import annotations

from actions.health_code import (
    ActionAskHcConfirm,
    ActionFinishHealthCode,
    ActionHealthCodeQuery,
    ActionSubmitHealthCheckIn,
    ActionSubmitHealthCodeAppeal,
    ValidateHealthCodeAppealForm,
    ValidateHealthCodeApplyForm,
    ValidateHealthCodeCheckInForm,
    ValidateHealthCodeQueryForm,
)
from tests.unit.form_chat import FormChat

LIN = {"name": "林悦", "id": "330105199708220039", "phone": "13800000002"}  # yellow, 5 of 7
HUANG = {"name": "黄海", "id": "45010219920605004X", "phone": "13800000003"}  # red, 0 of 14
WANG = {"name": "王建国", "id": "330102198805120036", "phone": "13800000005"}  # no code yet
ZHANG = {"name": "张伟", "id": "33010619880512004X", "phone": "13800000006"}  # no code yet


def apply_chat(domain: dict, sender: str) -> FormChat:
    return FormChat(domain, sender, "health_code_apply_form", ValidateHealthCodeApplyForm())


def check_in_chat(domain: dict, sender: str) -> FormChat:
    return FormChat(domain, sender, "health_code_check_in_form", ValidateHealthCodeCheckInForm())


async def test_a_declaration_with_fever_and_key_area_travel_gives_red_with_the_isolation_rule(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "hc-apply-red")
    await chat.verify(live_services, WANG)
    assert chat.slots["requested_slot"] == "hc_symptoms"
    await chat.say("有点发烧，还咳嗽")
    assert chat.slots["hc_symptoms"] == "fever,cough"
    wrong = await chat.say("体温挺高的")
    assert "没有找到体温数值" in wrong.text and chat.slots["requested_slot"] == "hc_temperature"
    await chat.say("38.2度")
    await chat.say("去过武汉", intent="affirm")
    await chat.say("没有", intent="deny")
    summary = await chat.action(ActionAskHcConfirm())
    assert "发热、咳嗽" in summary.text and "38.2℃" in summary.text and "本人承诺" in summary.text

    await chat.say("确认", intent="affirm")
    assert chat.slots["requested_slot"] is None
    assert chat.slots["transaction_result"] == {"service": "health_code", "status": "completed", "reference": "red"}
    shown = await chat.action(ActionFinishHealthCode())
    assert "红码" in shown.text and "隔离" in shown.text and "发热门诊" in shown.text
    assert "身份证" in shown.text  # what to do without a smartphone
    assert all(value is None for value in shown.slots.values())

    again = apply_chat(domain, "hc-apply-again")
    repeat = await again.verify(live_services, WANG)
    assert "无需重复申领" in repeat.text and "红码" in repeat.text
    assert again.slots["requested_slot"] is None  # nothing more is asked


async def test_a_healthy_declaration_typed_in_words_gives_green(live_services: str, domain: dict) -> None:
    chat = apply_chat(domain, "hc-apply-green")
    await chat.verify(live_services, ZHANG)
    await chat.say("都挺好的，没什么不舒服")
    await chat.say("36度5")
    unsure = await chat.say("不太清楚")
    assert "不确定" in unsure.text and chat.slots["requested_slot"] == "hc_key_area"
    await chat.say("没去过")
    await chat.say("没接触过")
    await chat.say("确认提交", intent="affirm")
    shown = await chat.action(ActionFinishHealthCode())
    assert "绿码" in shown.text and "打卡进度" not in shown.text


async def test_yellow_code_query_then_one_check_in_a_day(live_services: str, domain: dict) -> None:
    query = FormChat(domain, "hc-lin", "health_code_query_form", ValidateHealthCodeQueryForm())
    await query.verify(live_services, LIN)
    answer = await query.action(ActionHealthCodeQuery())
    assert "黄码" in answer.text and "5/7" in answer.text and "重点地区" in answer.text
    assert "最早可于" in answer.text and "还没有健康打卡" in answer.text

    chat = check_in_chat(domain, "hc-lin")
    chat.slots.update({k: query.slots[k] for k in ("identity_token", "identity_level", "verification_id")})
    first = await chat.say("打卡，体温36.6", intent="health_code_check_in")
    assert chat.slots["hc_temperature"] == "36.6" and chat.slots["requested_slot"] == "hc_symptoms", first.text
    await chat.say("没有", intent="deny")
    await chat.say("确认", intent="affirm")
    done = await chat.action(ActionSubmitHealthCheckIn())
    assert "打卡成功" in done.text and "正常" in done.text and "6/7" in done.text
    assert chat.slots["transaction_result"]["status"] == "completed"

    second = check_in_chat(domain, "hc-lin")
    second.slots.update({k: query.slots[k] for k in ("identity_token", "identity_level", "verification_id")})
    repeat = await second.say("再打一次卡", intent="health_code_check_in")
    assert "已经完成过健康打卡" in repeat.text and "6/7" in repeat.text
    assert second.slots["requested_slot"] is None  # no temperature asked, nothing counted twice


async def test_a_fever_at_check_in_is_abnormal_and_the_streak_stays_zero(live_services: str, domain: dict) -> None:
    chat = check_in_chat(domain, "hc-huang")
    await chat.verify(live_services, HUANG)
    await chat.say("37.8")
    await chat.say("不咳嗽，就是有点乏力")
    await chat.say("确认", intent="affirm")
    done = await chat.action(ActionSubmitHealthCheckIn())
    assert "异常" in done.text and "发热门诊" in done.text and "0/14" in done.text and "红码" in done.text


async def test_an_appeal_is_filed_once_and_shown_under_review(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "hc-appeal", "health_code_appeal_form", ValidateHealthCodeAppealForm())
    await chat.verify(live_services, HUANG)
    short = await chat.say("不对")
    assert "太简短" in short.text
    # Read by the NLU as "appeal" again: it is the answer to the question asked, not a second appeal.
    await chat.say("我是密接的密接，不是密切接触者，颜色判错了", intent="health_code_appeal")
    summary = await chat.action(ActionAskHcConfirm())
    assert "红码" in summary.text and "判错了" in summary.text
    await chat.say("确认", intent="affirm")
    filed = await chat.action(ActionSubmitHealthCodeAppeal())
    assert "复核编号：FH" in filed.text and "审核中" in filed.text

    again = FormChat(domain, "hc-appeal-2", "health_code_appeal_form", ValidateHealthCodeAppealForm())
    await again.verify(live_services, HUANG)
    await again.say("还是觉得颜色不对，请再复核")
    await again.say("确认", intent="affirm")
    repeat = await again.action(ActionSubmitHealthCodeAppeal())
    assert "无需重复提交" in repeat.text and "审核中" in repeat.text


async def test_no_code_means_no_check_in_and_an_offer_to_apply(live_services: str, domain: dict) -> None:
    chat = check_in_chat(domain, "hc-none")
    none = await chat.verify(live_services, {"name": "李强", "id": "320102199308080056", "phone": "13800000007"})
    assert "还没有申领健康码" in none.text and chat.slots["requested_slot"] is None
    assert any(b["payload"] == "/health_code_apply" for b in none.buttons)


async def test_the_service_down_keeps_the_declaration(live_services: str, domain: dict, monkeypatch) -> None:
    chat = apply_chat(domain, "hc-down")
    await chat.verify(live_services, {"name": "赵敏", "id": "440305199603150069", "phone": "13800000008"})
    for text in ("没有", "36.4", "没有", "没有"):
        await chat.say(text)
    from tests.unit.conftest import _reset_clients

    monkeypatch.setenv("SERVICES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SERVICES_DEADLINE", "2")
    _reset_clients()
    down = await chat.say("确认", intent="affirm")
    assert "暂时无法访问" in down.text and "已为您保留" in down.text
    assert chat.slots["requested_slot"] == "hc_confirm" and chat.slots["hc_temperature"] == "36.4"

    monkeypatch.setenv("SERVICES_URL", live_services)
    _reset_clients()
    await chat.say("确认", intent="affirm")
    shown = await chat.action(ActionFinishHealthCode())
    assert "健康码已生成" in shown.text and "绿码" in shown.text


async def test_cancel_or_a_question_in_the_middle_of_the_declaration(live_services: str, domain: dict) -> None:
    chat = apply_chat(domain, "hc-cancel")
    await chat.verify(live_services, {"name": "孙丽", "id": "310115199901010083", "phone": "13800000010"})
    asked = await chat.say("黄码要隔离几天？", intent="policy_question")
    assert asked.text and chat.slots["requested_slot"] == "hc_symptoms"  # answered, and the form asks again
    stopped = await chat.say("算了不办了", intent="cancel")
    assert stopped.rejected  # the cancel rule then runs and clears the form's slots
