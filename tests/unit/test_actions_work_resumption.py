"""The work-resumption forms and actions, run with real trackers against the real sandbox.

王建国 and 陈晓 act here; the sandbox is shared by the test session, so each filing has a planned date of its own
(the client tests use the earliest date + 20), and every date is read from the service's rules, never from our clock.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import httpx
import pytest
from stdnum.cn import uscc

from actions import services
from actions.validators.common import (
    chinese_date,
)
from actions.work_resumption import (
    WORK_SLOTS,
    ActionAskWrConfirm,
    ActionAskWrCreditCode,
    ActionAskWrIsolationRooms,
    ActionAskWrPlannedDate,
    ActionAskWrSuppliesDays,
    ActionSubmitWorkResumption,
    ActionWorkResumptionStatus,
    ValidateWorkResumptionForm,
    ValidateWorkResumptionStatusForm,
)
from tests.unit.conftest import Outcome, _reset_clients, entity
from tests.unit.form_chat import FormChat

WANG = {"name": "王建国", "id": "330102198805120036", "phone": "13800000005"}
CHEN = {"name": "陈晓", "id": "330106199503140023", "phone": "13800000001"}
LVYUAN, XINGGUANG = "91330110MA2K8L6R2R", "91330102MA2J7X4Q84"
IDENTITY = ("person_name", "id_number", "phone", "sms_code", "verification_id", "identity_token", "identity_level")
_verified: dict[tuple[str, str], dict] = {}  # (sandbox, sender) -> identity slots: the phones' SMS limits are shared


def rules(sandbox_url: str) -> dict:
    return httpx.get(f"{sandbox_url}/api/v1/work-resumption/rules").json()


def earliest(sandbox_url: str) -> date:
    return date.fromisoformat(rules(sandbox_url)["earliest_planned_date"])


def month_day(day: date) -> str:
    return f"{day.month}月{day.day}日"


def apply_chat(domain: dict, sender: str) -> FormChat:
    return FormChat(domain, sender, "work_resumption_form", ValidateWorkResumptionForm())


async def verified(chat: FormChat, sandbox_url: str, person: dict[str, str]) -> None:
    """The person verified for this chat user: once per test session (the token belongs to the chat user)."""
    key = (sandbox_url, chat.sender)
    if key not in _verified:
        await chat.verify(sandbox_url, person)
        _verified[key] = {name: chat.slots.get(name) for name in IDENTITY}
    chat.slots.update(_verified[key])


async def answer_all(chat: FormChat, planned: date) -> Outcome:
    """Date, staff, supplies and rooms for 绿源 (120 staff: 2 rooms), ending at the summary."""
    for text in (month_day(planned), "120人", "3个", "7天", "2间"):
        await chat.say(text)
    assert chat.slots["requested_slot"] == "wr_confirm", chat.slots
    return await chat.action(ActionAskWrConfirm())


async def test_wang_files_for_lvyuan_then_gets_the_same_filing_and_sees_it_in_the_status(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "wr-wang-files")
    start = await chat.say("我要给91330110MA2K8L6R2R申报复工", intent="work_resumption_apply",
                           entities=[entity("credit_code", LVYUAN)])
    assert chat.slots["wr_credit_code"] == LVYUAN and not start.messages  # checked once the person is verified
    found = await chat.verify(live_services, WANG)
    assert "身份验证成功" in found.text and "杭州绿源食品有限公司" in found.text and "法定代表人" in found.text
    assert "区县级企业复工专班" in found.text and chat.slots["requested_slot"] == "wr_planned_date"

    first = earliest(live_services)
    asked = await chat.action(ActionAskWrPlannedDate())
    assert chinese_date(first, weekday=True) in asked.text and "至少比申报当天晚3天" in asked.text
    assert asked.buttons[0]["payload"] == chinese_date(first, weekday=True)
    early = await chat.say("明天")
    assert "早于最早可填写的日期" in early.text and chinese_date(first) in early.text
    assert chat.slots["requested_slot"] == "wr_planned_date" and chat.slots["wr_planned_date"] is None

    planned = first + timedelta(days=1)
    await chat.say(month_day(planned))
    assert chat.slots["wr_planned_date"] == planned.isoformat()
    await chat.say("返岗120人")
    more = await chat.say("130")
    assert "不能多于返岗员工总数（120人）" in more.text and chat.slots["requested_slot"] == "wr_key_area_staff"
    await chat.say("3个")
    assert "至少需要3天" in (await chat.action(ActionAskWrSuppliesDays())).text
    short = await chat.say("2天")
    assert "至少够全体返岗员工使用3天" in short.text and "您填写的是2天" in short.text
    assert {"payload": "/cancel", "title": "不办了"} in short.buttons
    assert chat.slots["requested_slot"] == "wr_supplies_days"
    await chat.say("一周")
    assert chat.slots["wr_supplies_days"] == "7"
    rooms = await chat.action(ActionAskWrIsolationRooms())
    assert "120名返岗员工至少需要2间" in rooms.text
    too_few = await chat.say("1间")
    assert "至少需要2间隔离室，您填写的是1间" in too_few.text and chat.slots["requested_slot"] == "wr_isolation_rooms"
    await chat.say("两间")

    summary = await chat.action(ActionAskWrConfirm())
    assert "承诺书：本企业承诺" in summary.text and "杭州绿源食品有限公司" in summary.text
    assert chinese_date(planned) in summary.text and "返岗员工：120人，其中近14天来自重点地区3人" in summary.text
    assert "可用7天" in summary.text and "隔离室：2间" in summary.text
    await chat.say("确认", intent="affirm")
    assert chat.slots["requested_slot"] is None
    assert json.loads(json.dumps(chat.slots)) == chat.slots  # the tracker store keeps slots as JSON
    result = chat.slots["transaction_result"]
    assert result["service"] == "work_resumption" and result["status"] == "completed"
    filing_no = result["reference"]
    shown = await chat.action(ActionSubmitWorkResumption())
    assert "复工申报已提交成功" in shown.text and f"备案编号：{filing_no}" in shown.text
    assert "区县级企业复工专班，预计" in shown.text and "已备案（待审核）" in shown.text
    assert all(shown.slots[slot] is None for slot in WORK_SLOTS)

    # Asked again (a new form, the same company and date): the filing already made, not a second one.
    again = apply_chat(domain, "wr-wang-files")
    again.slots.update({name: chat.slots[name] for name in IDENTITY})
    await again.say("杭州绿源食品公司再报一次复工", intent="work_resumption_apply",
                    entities=[entity("company_name", "杭州绿源食品公司")])
    assert again.slots["requested_slot"] == "wr_credit_code"
    assert "请输入杭州绿源食品公司的统一社会信用代码" in (await again.action(ActionAskWrCreditCode())).text
    company = await again.say(LVYUAN)
    assert "杭州绿源食品有限公司" in company.text and "您提到的是" not in company.text  # the same company
    await answer_all(again, planned)
    await again.say("确认", intent="affirm")
    repeat = await again.action(ActionSubmitWorkResumption())
    assert "无需重复申报" in repeat.text and f"备案编号：{filing_no}" in repeat.text

    status = FormChat(domain, "wr-wang-files", "work_resumption_status_form", ValidateWorkResumptionStatusForm())
    status.slots.update({name: chat.slots[name] for name in IDENTITY})
    await status.say("复工申报审核到哪一步了", intent="work_resumption_status")
    assert status.slots["requested_slot"] is None
    listed = await status.action(ActionWorkResumptionStatus())
    assert listed.text.count(f"备案编号：{filing_no}") == 1 and "已备案（待审核）" in listed.text
    assert status.slots["transaction_result"]["status"] == "completed"


async def test_a_ktv_on_the_negative_list_is_refused_with_the_reason(live_services: str, domain: dict) -> None:
    chat = apply_chat(domain, "wr-wang")
    await chat.say("我是杭州星光娱乐有限公司的联系人，想报复工", intent="work_resumption_apply",
                   entities=[entity("company_name", "杭州星光娱乐有限公司")])
    await verified(chat, live_services, WANG)
    chat.slots["requested_slot"] = "wr_credit_code"
    asked = await chat.action(ActionAskWrCreditCode())
    assert "请输入杭州星光娱乐有限公司的统一社会信用代码" in asked.text
    refused = await chat.say(f"代码是{XINGGUANG}")
    assert "杭州星光娱乐有限公司" in refused.text and "负面清单" in refused.text and "KTV" in refused.text
    assert "人员密集的密闭场所" in refused.text and "12345" in refused.text  # the reason and the next step
    assert chat.slots["requested_slot"] is None  # nothing more is asked
    assert chat.slots["transaction_result"]["status"] == "rejected"
    done = await chat.action(ActionSubmitWorkResumption())
    assert not done.messages and all(value is None for value in done.slots.values())


async def test_someone_elses_company_reveals_nothing_and_a_bad_code_is_explained(
    live_services: str, domain: dict
) -> None:
    chat = apply_chat(domain, "wr-chen")
    await chat.say("复工申报", intent="work_resumption_apply")
    await verified(chat, live_services, CHEN)
    chat.slots["requested_slot"] = "wr_credit_code"

    typo = await chat.say("91330110MA2K8L6R2T")
    assert "校验未通过" in typo.text and chat.slots["wr_credit_code"] is None
    name = await chat.say("杭州绿源食品有限公司")
    assert "统一社会信用代码" in name.text and "营业执照" in name.text

    others = await chat.say(LVYUAN)
    assert "未查询到" in others.text and "法定代表人或登记联系人" in others.text
    for secret in ("绿源", "食品", "王", "120", "区县"):
        assert secret not in others.text
    assert chat.slots["requested_slot"] == "wr_credit_code" and chat.slots.get("wr_company") is None
    unknown_code = "91330106MA2H3K5Q1" + uscc.calc_check_digit("91330106MA2H3K5Q1")
    unknown = await chat.say(unknown_code)
    assert unknown.text == others.text  # the same answer whether the company exists or not


async def test_the_service_down_keeps_the_answers_and_confirming_again_files_once(
    live_services: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = apply_chat(domain, "wr-wang")
    await chat.say("给杭州云帆科技有限公司做复工备案", intent="work_resumption_apply",
                   entities=[entity("company_name", "杭州云帆科技有限公司")])
    await verified(chat, live_services, WANG)
    chat.slots["requested_slot"] = "wr_credit_code"

    def down() -> None:
        monkeypatch.setenv("SERVICES_URL", "http://127.0.0.1:9")
        monkeypatch.setenv("SERVICES_DEADLINE", "2")
        _reset_clients()

    def up() -> None:
        monkeypatch.setenv("SERVICES_URL", live_services)
        _reset_clients()

    # Down when the company is checked: the code is kept, the date question says so and offers to retry.
    down()
    await chat.say(LVYUAN)
    assert chat.slots["wr_credit_code"] == LVYUAN and chat.slots["requested_slot"] == "wr_planned_date"
    waiting = await chat.action(ActionAskWrPlannedDate())
    assert "暂时无法访问" in waiting.text and "已为您保留" in waiting.text
    assert any(button["payload"] == "重试" for button in waiting.buttons)
    up()
    retried = await chat.say("重试")
    assert "杭州绿源食品有限公司" in retried.text and chat.slots.get("wr_planned_date") is None
    assert "您提到的是“杭州云帆科技有限公司”" in retried.text  # the registered name is the one that counts

    # A relative date is counted from the service's date: the earliest allowed is min_days_ahead days after it.
    service = rules(live_services)
    await chat.say(f"{service['min_days_ahead']}天后")
    assert chat.slots["wr_planned_date"] == service["earliest_planned_date"]
    for text in ("120", "没有", "半个月", "2"):
        await chat.say(text)
    assert chat.slots["wr_key_area_staff"] == "0" and chat.slots["wr_supplies_days"] == "15"

    down()
    failed = await chat.say("确认", intent="affirm")
    assert "暂时无法访问" in failed.text and "已为您保留" in failed.text
    assert chat.slots["requested_slot"] == "wr_confirm" and chat.slots["wr_returning_staff"] == "120"
    assert chat.slots["transaction_result"]["status"] == "error"

    up()
    await chat.say("确认", intent="affirm")
    filing_no = chat.slots["transaction_result"]["reference"]
    # The same confirmation once more (a message delivered twice): the same key, the same filing.
    chat.slots.update({"wr_confirm": None, "wr_result": None, "requested_slot": "wr_confirm"})
    await chat.say("确认", intent="affirm")
    assert chat.slots["transaction_result"]["reference"] == filing_no
    shown = await chat.action(ActionSubmitWorkResumption())
    assert f"备案编号：{filing_no}" in shown.text

    filings = await services.work_resumption().list_filings(
        token=chat.slots["identity_token"], chat_user=chat.sender, credit_code=LVYUAN
    )
    on_that_day = [f for f in filings if f.planned_date.isoformat() == service["earliest_planned_date"]]
    assert [f.filing_no for f in on_that_day] == [filing_no]


async def test_status_of_a_company_with_no_filing_and_of_someone_elses(live_services: str, domain: dict) -> None:
    status = FormChat(domain, "wr-chen", "work_resumption_status_form", ValidateWorkResumptionStatusForm())
    await verified(status, live_services, CHEN)
    await status.say("查一下91330110MA2K8L6R2R的复工备案", intent="work_resumption_status",
                     entities=[entity("credit_code", LVYUAN)])
    refused = await status.action(ActionWorkResumptionStatus())
    assert "未查询到" in refused.text and "绿源" not in refused.text
    assert status.slots["transaction_result"]["status"] == "rejected"
    await status.say("复工申报进度", intent="work_resumption_status")
    listed = await status.action(ActionWorkResumptionStatus())
    assert "绿源" not in listed.text  # only the filings of her own company (杭州云帆科技有限公司), if any
    if "暂未查询到" in listed.text:
        assert any(b["payload"] == "/work_resumption_apply" for b in listed.buttons)
    else:
        assert "杭州云帆科技有限公司" in listed.text
