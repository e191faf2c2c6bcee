"""The vehicle-transfer forms and actions, run with real trackers against the real sandbox.

The module runs on a sandbox of its own (like tests/integrations/test_vehicle_transfer_client.py): it files 黄海's
transfer and moves the sandbox clock, which must not leak into the other tests of the session (林悦's health-code
streak, for one, counts days). Only 黄海 (桂A12345, may transfer) and 林悦 (浙A8B9C0, 2 unprocessed violations) act
here; dates are never assumed, only compared with the service's own.
"""

from __future__ import annotations

import httpx
import pytest

from actions import services
from actions.vehicle_transfer import (
    VEHICLE_SLOTS,
    ActionAskVtCity,
    ActionAskVtConfirm,
    ActionSubmitVehicleTransfer,
    ActionVehicleTransferStatus,
    ValidateVehicleTransferForm,
    ValidateVehicleTransferStatusForm,
)
from tests.unit.conftest import _reset_clients
from tests.unit.form_chat import IDENTITY_SLOTS, FormChat

HUANG = {"name": "黄海", "id": "45010219920605004X", "phone": "13800000003"}  # 桂A12345, VIN …123456, may transfer
LIN = {"name": "林悦", "id": "330105199708220039", "phone": "13800000002"}  # 浙A8B9C0, VIN …654321, 2 violations


@pytest.fixture
def live_services(own_services: str) -> str:
    return own_services


def named(text: str, *found: tuple[str, str]) -> list[dict]:
    """Entities as the NLU gives them, with their place in the text (the destination is told by its place)."""
    return [{"entity": name, "value": value, "start": text.index(value), "end": text.index(value) + len(value)}
            for name, value in found]


def apply_chat(domain: dict, sender: str) -> FormChat:
    return FormChat(domain, sender, "vehicle_transfer_form", ValidateVehicleTransferForm())


def advance(sandbox_url: str, days: int) -> None:
    """Development sandbox only: move its clock forward."""
    response = httpx.post(f"{sandbox_url}/dev/clock", json={"advance_days": days}, timeout=5)
    assert response.status_code == 200, response.text


async def status_of(domain: dict, sender: str, identity: dict) -> str:
    status = FormChat(domain, sender, "vehicle_transfer_status_form", ValidateVehicleTransferStatusForm())
    status.slots.update(identity)
    await status.say("我的转籍办到哪一步了", intent="vehicle_transfer_status")
    assert status.slots["requested_slot"] is None
    shown = await status.action(ActionVehicleTransferStatus())
    assert status.slots["transaction_result"] == {"service": "vehicle_transfer_status", "status": "completed",
                                                  "reference": None}
    return shown.text


async def test_the_request_names_plate_and_cities_and_rule_questions_are_answered_from_the_rules(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "vt-huang-asks")
    text = "帮我把桂A12345从南宁迁到青岛"
    start = await chat.say(text, intent="vehicle_transfer_apply",
                           entities=named(text, ("plate_number", "桂A12345"), ("city", "南宁"), ("city", "青岛")))
    assert chat.slots["plate_number"] == "桂A12345" and chat.slots["vt_city"] == "青岛"  # 南宁 is where it comes from
    assert not start.messages and chat.slots["requested_slot"] == "person_name"
    await chat.verified(live_services, HUANG)
    assert chat.slots["requested_slot"] == "vin_tail"  # the plate is not asked again

    wrong = await chat.say("123457")
    assert "未查询到登记在您本人名下" in wrong.text and chat.slots["requested_slot"] == "vin_tail"
    assert chat.slots.get("vt_vehicle") is None
    found = await chat.say("车架号后六位是123456")
    assert "车辆核验通过" in found.text and "小型汽车" in found.text and "登记地南宁" in found.text
    assert chat.slots["requested_slot"] == "vt_confirm"  # the city of the request, checked by the service

    summary = await chat.action(ActionAskVtConfirm())
    for words in ("桂A12345（小型汽车，大众牌轿车（示例））", "转出地：南宁", "转入地：青岛",
                  "转出地车管所转递电子档案（时限2日）", "转入地车管所接收核查（时限1日）",
                  "无需回南宁验车，纸质档案留在南宁", "青岛市李沧区示例路", "周一至周六"):
        assert words in summary.text, words
    assert {"title": "确认提交", "payload": "/affirm"} in summary.buttons

    question = "转籍还要回南宁验车吗"
    asked = await chat.say(question, intent="policy_question", entities=named(question, ("city", "南宁")))
    assert "不用回车辆登记地验车" in asked.text and "下面我们继续办理转籍" in asked.text
    assert chat.slots["requested_slot"] == "vt_confirm" and chat.slots["vt_city"] == "青岛"
    loan = await chat.say("贷款车能转吗", intent="policy_question")
    assert "抵押" in loan.text and "解除抵押" in loan.text
    paper = await chat.say("纸质档案要自己带吗", intent="policy_question")
    assert "不用自己带纸质档案" in paper.text
    fees = await chat.say("转籍要收费吗", intent="policy_question")
    assert fees.text and "下面我们继续办理转籍" not in fees.text  # not in the rules: the knowledge base answers
    assert chat.slots["requested_slot"] == "vt_confirm"

    stopped = await chat.say("算了不办了", intent="cancel")
    assert stopped.rejected  # the cancel rule then runs and clears the form's slots
    applications = await services.vehicle_transfer().list_applications(
        token=chat.slots["identity_token"], chat_user=chat.sender
    )
    assert applications == []


async def test_huang_hai_transfers_to_qingdao_once_and_the_status_follows_the_clock(
    live_services: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = apply_chat(domain, "vt-huang")
    await chat.say("我要办车辆转籍", intent="vehicle_transfer_apply")
    await chat.verified(live_services, HUANG)
    assert chat.slots["requested_slot"] == "plate_number"
    bad = await chat.say("桂A1234")
    assert "例如：桂A12345" in bad.text and chat.slots["requested_slot"] == "plate_number"
    await chat.say("桂a·12345", entities=[{"entity": "plate_number", "value": "桂a·12345"}])
    assert chat.slots["plate_number"] == "桂A12345" and chat.slots["requested_slot"] == "vin_tail"
    await chat.say("123456")
    assert chat.slots["requested_slot"] == "vt_city"

    asked = await chat.action(ActionAskVtCity())
    assert "青岛、济南、杭州、广州、成都" in asked.text
    assert {"title": "青岛", "payload": '/inform{"city": "青岛"}'} in asked.buttons
    far = await chat.say("拉萨")
    assert "“拉萨”暂不在" in far.text and "青岛、济南、杭州、广州、成都" in far.text
    assert chat.slots["requested_slot"] == "vt_city"
    await chat.say('/inform{"city": "青岛"}', entities=[{"entity": "city", "value": "青岛"}])
    assert chat.slots["vt_city"] == "青岛" and chat.slots["requested_slot"] == "vt_confirm"
    assert "无需回南宁验车" in (await chat.action(ActionAskVtConfirm())).text

    # The service down at the confirmation: nothing is lost, confirming again applies once.
    monkeypatch.setenv("SERVICES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SERVICES_DEADLINE", "2")
    _reset_clients()
    down = await chat.say("确认", intent="affirm")
    assert "暂时无法访问" in down.text and "已为您保留" in down.text
    assert chat.slots["requested_slot"] == "vt_confirm" and chat.slots["vt_city"] == "青岛"
    assert chat.slots["transaction_result"]["status"] == "error"
    monkeypatch.setenv("SERVICES_URL", live_services)
    _reset_clients()
    await chat.say("确认提交", intent="affirm")
    result = chat.slots["transaction_result"]
    assert result["service"] == "vehicle_transfer" and result["status"] == "completed"
    application_no = result["reference"]
    assert application_no.startswith("ZD") and chat.slots["requested_slot"] is None
    # The same confirmation once more (a message delivered twice): the same key, the same application.
    chat.slots.update({"vt_confirm": None, "vt_result": None, "requested_slot": "vt_confirm"})
    await chat.say("确认", intent="affirm")
    assert chat.slots["transaction_result"]["reference"] == application_no

    shown = await chat.action(ActionSubmitVehicleTransfer())
    assert "转籍申请已提交成功" in shown.text and f"申请编号：{application_no}" in shown.text
    assert "转籍：南宁 → 青岛" in shown.text and "转出地车管所转递电子档案（时限2日）：正在办理，最迟" in shown.text
    assert "转入地车管所接收核查（时限1日）：尚未开始" in shown.text and "无需回南宁验车" in shown.text
    assert all(shown.slots[slot] is None for slot in VEHICLE_SLOTS)
    identity = {name: chat.slots[name] for name in IDENTITY_SLOTS}

    # Asked again: the open application, not a second one.
    again = apply_chat(domain, "vt-huang")
    again.slots.update(identity)
    text = "桂A12345再申请一次转籍"
    await again.say(text, intent="vehicle_transfer_apply", entities=named(text, ("plate_number", "桂A12345")))
    await again.say("123456")
    assert again.slots["requested_slot"] is None  # nothing more is asked
    repeat = await again.action(ActionSubmitVehicleTransfer())
    assert "无需重复申请" in repeat.text and f"申请编号：{application_no}" in repeat.text
    applications = await services.vehicle_transfer().list_applications(
        token=identity["identity_token"], chat_user="vt-huang"
    )
    assert [item.application_no for item in applications] == [application_no]

    # The status, each stage with its time limit; then the clock moves and so does the application.
    before = await status_of(domain, "vt-huang", identity)
    assert before.count(f"申请编号：{application_no}") == 1
    assert "转出地车管所转递电子档案（时限2日）：正在办理" in before and "等待您前往查验" not in before
    advance(live_services, 2)  # archive sent after 1 day, checked 1 day later
    waiting = await status_of(domain, "vt-huang", identity)
    assert "转出地车管所转递电子档案（时限2日）：已完成" in waiting
    assert "转入地车管所接收核查（时限1日）：已完成" in waiting and "等待您前往查验" in waiting
    for words in ("驾驶该车到青岛市公安局交通警察支队车辆管理所查验一次", "无需回南宁验车", "青岛市李沧区示例路",
                  "周一至周六 9:00—17:00", "纸质档案留存在南宁"):
        assert words in waiting, words
    advance(live_services, 3)  # the sandbox's owner inspects the car 3 days after the check
    done = await status_of(domain, "vt-huang", identity)
    assert "已办结" in done and "等待您前往查验" not in done


async def test_lin_yue_learns_nothing_about_other_cars_and_is_refused_with_each_reason(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "vt-lin")
    await chat.say("我的车能转吗", intent="vehicle_transfer_apply")
    await chat.verified(live_services, LIN)
    assert chat.slots["requested_slot"] == "plate_number"
    await chat.say("桂A12345", entities=[{"entity": "plate_number", "value": "桂A12345"}])
    others = await chat.say("123456")  # 黄海's plate and VIN
    assert "未查询到登记在您本人名下" in others.text
    for secret in ("小型汽车", "大众", "南宁", "黄", "可以申请转籍"):
        assert secret not in others.text
    assert chat.slots["requested_slot"] == "vin_tail" and chat.slots.get("vt_vehicle") is None

    corrected = await chat.say("浙A8B9C0", entities=[{"entity": "plate_number", "value": "浙A8B9C0"}])
    assert chat.slots["plate_number"] == "浙A8B9C0" and chat.slots["requested_slot"] == "vin_tail"
    assert not corrected.messages
    wrong_tail = await chat.say("654320")
    assert wrong_tail.text.split("\n")[0] == others.text  # the same answer: nothing tells which was wrong
    assert "填写说明" in wrong_tail.text  # the second failure says where to find the VIN
    third = await chat.say("111111")
    assert {"title": "不办了", "payload": "/cancel"} in third.buttons
    assert {"title": "转人工", "payload": "/request_human"} in third.buttons

    refused = await chat.say("654321")
    assert "浙A8B9C0" in refused.text and "不能办理转籍" in refused.text and "共有1项原因" in refused.text
    assert "未处理的违法记录" in refused.text and "2条交通违法记录" in refused.text
    assert "处理办法：" in refused.text and "交管12123" in refused.text  # what to do first
    assert chat.slots["requested_slot"] is None  # nothing more is asked
    assert chat.slots["transaction_result"] == {"service": "vehicle_transfer", "status": "rejected",
                                                "reference": None}
    finished = await chat.action(ActionSubmitVehicleTransfer())
    assert not finished.messages and all(value is None for value in finished.slots.values())


async def test_the_service_down_at_the_vehicle_check_keeps_the_answers_and_retry_checks_again(
    live_services: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = apply_chat(domain, "vt-lin")
    await chat.say("转籍", intent="vehicle_transfer_apply")
    await chat.verified(live_services, LIN)
    chat.slots["requested_slot"] = "plate_number"
    await chat.say("浙A8B9C0", entities=[{"entity": "plate_number", "value": "浙A8B9C0"}])

    monkeypatch.setenv("SERVICES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SERVICES_DEADLINE", "2")
    _reset_clients()
    await chat.say("654321")
    assert chat.slots["vin_tail"] == "654321" and chat.slots["requested_slot"] == "vt_city"
    waiting = await chat.action(ActionAskVtCity())
    assert "暂时无法访问" in waiting.text and "已为您保留" in waiting.text
    assert any(button["payload"] == "重试" for button in waiting.buttons)

    monkeypatch.setenv("SERVICES_URL", live_services)
    _reset_clients()
    retried = await chat.say("重试")
    assert "2条交通违法记录" in retried.text and chat.slots["requested_slot"] is None


async def test_a_wrong_vin_in_the_request_is_explained_once_the_owner_is_verified(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "vt-lin-request")
    text = "想把浙A8B9C0转到济南，车架号后6位是654320"
    await chat.say(text, intent="vehicle_transfer_apply",
                   entities=named(text, ("plate_number", "浙A8B9C0"), ("city", "济南")))
    assert chat.slots["vin_tail"] == "654320" and chat.slots["vt_city"] == "济南"
    checked = await chat.verify(live_services, LIN)
    assert "身份验证成功" in checked.text and "未查询到登记在您本人名下" in checked.text
    assert chat.slots["requested_slot"] == "vin_tail" and chat.slots["vin_tail"] is None
    assert chat.slots["form_failures"] == {"slot": "vin_tail", "count": 1}
    refused = await chat.say("654321")
    assert "2条交通违法记录" in refused.text and chat.slots["requested_slot"] is None


async def test_the_status_of_a_plate_without_an_application(live_services: str, domain: dict) -> None:
    status = FormChat(domain, "vt-lin", "vehicle_transfer_status_form", ValidateVehicleTransferStatusForm())
    text = "浙A8B9C0的转籍到哪了"
    await status.say(text, intent="vehicle_transfer_status", entities=named(text, ("plate_number", "浙A8B9C0")))
    await status.verified(live_services, LIN)
    status.slots["requested_slot"] = None
    none = await status.action(ActionVehicleTransferStatus())
    assert "暂未查询到您名下车辆浙A8B9C0的转籍申请" in none.text
    assert {"title": "申请车辆转籍", "payload": "/vehicle_transfer_apply"} in none.buttons


async def test_a_rule_question_read_as_a_request_is_answered_without_asking_who_you_are(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "vt-rule-first")
    answered = await chat.say("车还有两个违章没处理，这种情况能转籍吗", intent="vehicle_transfer_apply")
    assert "违" in answered.text and "申请车辆转籍" in answered.text, answered.text
    assert chat.slots["requested_slot"] is None  # the form ends: no name, no ID number asked

    wants = apply_chat(domain, "vt-wants")
    started = await wants.say("我想申请把车转到青岛，怎么办理", intent="vehicle_transfer_apply")
    assert wants.slots["requested_slot"] == "person_name", started.text
