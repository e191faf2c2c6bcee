"""The e-tax guidance dialogue (actions/tax.py), run with real trackers against the real sandbox.

陈晓 (registered contact of 杭州云帆科技有限公司) and 王建国 act here. The sandbox is shared by the test session and its
clock may have been moved by other tests: every date, status and amount expected is read from the service first.
The client tests defer 云帆's 增值税 of the current period, so the deferral here is for its 附加税费.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import httpx
import pytest

from actions import services
from actions.tax import (
    DEADLINE,
    DEFERRAL,
    HOW_TO_FILE,
    KNOWLEDGE,
    MENU,
    OBLIGATIONS,
    SURCHARGE,
    TAX_SLOTS,
    ActionAskTaxAmount,
    ActionAskTaxConfirm,
    ActionAskTaxCreditCode,
    ActionAskTaxPeriod,
    ActionSubmitTaxDeferral,
    ActionTaxObligations,
    ActionTaxService,
    ActionTaxSurcharge,
    ValidateTaxDeferralForm,
    ValidateTaxObligationsForm,
    ValidateTaxSurchargeForm,
    add_months,
    chinese_date,
    surcharge_numbers,
    target_month,
    tax_kind,
    tax_named,
)
from tests.unit.conftest import Outcome, _reset_clients, entity, tracker
from tests.unit.form_chat import FormChat
from tests.unit.rendering import run

CHEN = {"name": "陈晓", "id": "330106199503140023", "phone": "13800000001"}
WANG = {"name": "王建国", "id": "330102198805120036", "phone": "13800000005"}
YUNFAN, LVYUAN = "91330106MA2H3K5P13", "91330110MA2K8L6R2R"
IDENTITY = ("person_name", "id_number", "phone", "sms_code", "verification_id", "identity_token", "identity_level")
_verified: dict[tuple[str, str], dict] = {}  # (sandbox, sender) -> identity slots: the phones' SMS limits are shared


# -- helpers -------------------------------------------------------------------------------------------------------


def deadline_of(sandbox_url: str, **params: str) -> dict[str, Any]:
    return httpx.get(f"{sandbox_url}/api/v1/tax/deadline", params=params, timeout=5).json()


async def ask(text: str, domain: dict, slots: dict | None = None, sender: str = "tax-public",
              entities: list[dict] | None = None, intent: str = "tax_service_query") -> Outcome:
    """The citizen's tax question outside any form: what action_tax_service says and does."""
    return await run(ActionTaxService(), tracker(text, intent, slots=slots, sender=sender, entities=entities), domain)


def followup(outcome: Outcome) -> str | None:
    return next((e["name"] for e in outcome.events if e.get("event") == "followup"), None)


async def activate(chat: FormChat, text: str, entities: list[dict] | None = None) -> Outcome:
    """The form started by the FollowupAction: Rasa validates the request itself before the loop is active."""
    t = tracker(text, "tax_service_query", slots=chat.slots, sender=chat.sender, entities=entities)
    outcome = await run(chat.validator, t, chat.domain)
    chat.slots.update(outcome.slots)
    return outcome


async def verified(chat: FormChat, sandbox_url: str, person: dict[str, str]) -> None:
    """The person verified for this chat user: once per test session (the token belongs to the chat user)."""
    key = (sandbox_url, chat.sender)
    if key not in _verified:  # the identity questions are the same in every tax form
        verify = FormChat(chat.domain, chat.sender, "tax_obligations_form", ValidateTaxObligationsForm())
        await verify.verify(sandbox_url, person)
        _verified[key] = {name: verify.slots.get(name) for name in IDENTITY}
    chat.slots.update(_verified[key])


# -- telling the kinds apart, months and taxes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("这个月增值税申报截止到哪天", DEADLINE),
        ("国庆放假的话申报期会往后延吗", DEADLINE),
        ("這個月申報期到幾號", DEADLINE),
        ("逾期了滞纳金怎么算", SURCHARGE),
        ("税款5万晚交了10天，要交多少滞纳金", SURCHARGE),
        ("滞纳金有没有上限", KNOWLEDGE),
        ("怎么在网上报税", HOW_TO_FILE),
        ("个税app上怎么申报", HOW_TO_FILE),
        ("帮我查查我们公司这个月该报哪些税", OBLIGATIONS),
        ("我的个税汇算办了没", OBLIGATIONS),
        ("下个月个税申报截止是几号，我们单位还没报", DEADLINE),  # the date is what is asked
        ("会计说报了，我想核实一下这个月的增值税到底申报了没", OBLIGATIONS),
        ("我要申请延期缴纳税款", DEFERRAL),
        ("緩繳稅款申請", DEFERRAL),
        ("受疫情影响，税能不能晚三个月交", DEFERRAL),
        ("延期缴税要提交哪些资料", KNOWLEDGE),  # about a deferral, not the request: the knowledge base
        ("来不及按期申报可以申请延期申报吗", KNOWLEDGE),  # 延期申报 defers the return, not the payment
        ("个税起征点是多少", KNOWLEDGE),
        ("/tax_service_query", MENU),
    ],
)
def test_the_kind_of_a_tax_question_is_told_by_its_words(text: str, kind: str) -> None:
    assert tax_kind(text) == kind


def test_a_credit_code_alone_asks_for_the_companys_obligations() -> None:
    assert tax_kind("91330110MA2K8L6R2R 看一下", {"credit_code"}) == OBLIGATIONS


@pytest.mark.parametrize(
    ("text", "month"),
    [
        ("这个月增值税几号截止", None),
        ("下个月申报期到哪天", (2027, 1)),
        ("上个月的征期", (2026, 11)),
        ("6月的征期到几号", (2027, 6)),  # at most seven months ahead: the coming one
        ("8月份申报期", (2026, 8)),  # further: the last one
        ("1月纳税申报截止日期是多少号", (2027, 1)),
        ("2020年10月的申报期限", (2020, 10)),
        ("国庆那个月报税截止是哪天", (2026, 10)),
        ("明年国庆那个月报税截止是哪天", (2027, 10)),
        ("今年五一那个月报税截止是哪天", (2026, 5)),
        ("十一月的征期", (2026, 11)),
    ],
)
def test_months_are_read_against_the_services_today(text: str, month: tuple[int, int] | None) -> None:
    assert target_month(text, date(2026, 12, 3)) == month


def test_taxes_are_named_as_said() -> None:
    assert [tax_named(t) for t in ("附加税这个月几号前要报", "个税扣缴申报", "土地增值税", "vat deadline", "报税")] == [
        "附加税", "个税", "土地增值税", "VAT", None]
    assert add_months(date(2026, 12, 31), 2) == date(2027, 2, 28)


# -- the public answers ----------------------------------------------------------------------------------------------


async def test_this_months_deadline_is_the_services_month_with_how_to_file(live_services: str, domain: dict) -> None:
    expected = deadline_of(live_services, tax="增值税")  # the service's current month, whatever its clock says
    answer = await ask("这个月增值税申报截止到哪天", domain)
    assert answer.responses == ["utter_tax_deadline"] and followup(answer) is None
    assert expected["explanation"] in answer.text and expected["deadline_text"] in answer.text
    assert "通过电子税务局网上申报" in answer.text and "1. 登录" in answer.text and "12366" in answer.text
    assert answer.slots["transaction_result"] == {"service": "tax_guidance", "status": "completed", "reference": None}
    assert {"title": "计算滞纳金", "payload": "帮我计算滞纳金"} in answer.buttons


async def test_a_named_month_moved_by_a_holiday_says_which(live_services: str, domain: dict) -> None:
    answer = await ask("2020年10月的申报期限是哪天，国庆放假顺延吗", domain)
    assert "2020年10月23日（星期五）" in answer.text and "国庆节" in answer.text and "顺延8天" in answer.text
    assert "申报期限规则：" in answer.text  # asked about holidays: the rule too
    assert "该期限已经过去" in answer.text

    today = date.fromisoformat(deadline_of(live_services)["today"])
    year, month = target_month("国庆那个月", today)
    october = await ask("国庆那个月报税截止是哪天", domain)
    assert deadline_of(live_services, month=f"{year}-{month:02d}")["deadline_text"] in october.text


async def test_a_tax_the_service_does_not_know_offers_the_ones_it_does(live_services: str, domain: dict) -> None:
    answer = await ask("这个月印花税几号截止", domain)
    assert answer.responses == ["utter_tax_unknown_tax"]
    assert "“印花税”" in answer.text and "增值税、附加税费" in answer.text
    assert {"title": "增值税", "payload": "这个月增值税几号截止"} in answer.buttons
    assert answer.slots["transaction_result"]["status"] == "rejected"


async def test_how_to_file_online(live_services: str, domain: dict) -> None:
    answer = await ask("第一次在网上报增值税，一步步教我", domain)
    assert answer.responses == ["utter_tax_how_to_file"]
    assert "三方协议" in answer.text and "本月的申报期限：" in answer.text


async def test_a_surcharge_with_its_numbers_is_worked_out_with_the_formula(live_services: str, domain: dict) -> None:
    answer = await ask("税款5万晚交了10天，要交多少滞纳金", domain)
    assert followup(answer) is None and answer.responses == ["utter_tax_surcharge"]
    assert "50,000.00元 × 0.05% × 10天 = 250.00元" in answer.text and "合计：50,250.00元" in answer.text
    assert "第三十二条" in answer.text and "估算" not in answer.text
    month = await ask("税款2万逾期一个月，滞纳金大概多少", domain)
    assert "滞纳天数：30天（按每月30天估算" in month.text and "300.00元" in month.text


async def test_a_general_tax_question_goes_to_the_knowledge_base(live_services: str, domain: dict) -> None:
    for text in ("税收滞纳金有没有上限", "延期缴税要提交哪些资料", "个税起征点现在是多少"):
        answer = await ask(text, domain)
        assert answer.responses[0] in ("utter_policy_answer", "utter_policy_suggestions", "utter_policy_unknown")
        assert followup(answer) is None and "transaction_result" not in answer.slots


async def test_a_bare_click_shows_the_menu(domain: dict) -> None:
    menu = await ask("/tax_service_query", domain)
    assert menu.responses == ["utter_tax_menu"] and len(menu.buttons) == 5


async def test_the_service_down_for_a_public_question(services_down: None, domain: dict) -> None:
    answer = await ask("这个月增值税几号截止", domain)
    assert answer.responses == ["utter_tax_unavailable"] and "12366" in answer.text
    assert answer.slots["transaction_result"]["status"] == "error"


# -- the surcharge form ------------------------------------------------------------------------------------------


async def test_a_surcharge_without_numbers_asks_for_them(live_services: str, domain: dict) -> None:
    started = await ask("逾期了滞纳金怎么算", domain)
    assert followup(started) == "tax_surcharge_form" and not started.messages
    assert all(started.slots[slot] is None for slot in TAX_SLOTS)  # nothing left from an earlier form

    chat = FormChat(domain, "tax-surcharge", "tax_surcharge_form", ValidateTaxSurchargeForm())
    await activate(chat, "逾期了滞纳金怎么算")
    assert chat.slots["requested_slot"] == "tax_amount"
    asked = await chat.action(ActionAskTaxAmount())
    assert "万分之五（0.05%）" in asked.text and "5万" in asked.text
    vague = await chat.say("十来万吧")
    assert "确切的金额" in vague.text and chat.slots["requested_slot"] == "tax_amount"
    await chat.say("五万元")
    assert chat.slots["tax_amount"] == "50000.00" and chat.slots["requested_slot"] == "tax_days"
    await chat.say("晚了半个月")
    assert chat.slots["tax_days"] == "约15" and chat.slots["requested_slot"] is None
    shown = await chat.action(ActionTaxSurcharge())
    assert "375.00元" in shown.text and "按每月30天估算" in shown.text
    assert all(shown.slots[slot] is None for slot in TAX_SLOTS)

    # Days in the request, the amount in the answer; both numbers in one answer.
    days_first = FormChat(domain, "tax-surcharge", "tax_surcharge_form", ValidateTaxSurchargeForm())
    await activate(days_first, "只晚交两天税也要收滞纳金吗")
    assert days_first.slots["tax_days"] == "2" and days_first.slots["requested_slot"] == "tax_amount"
    await days_first.say("3千2")
    assert "3,200.00元 × 0.05% × 2天 = 3.20元" in (await days_first.action(ActionTaxSurcharge())).text
    both = FormChat(domain, "tax-surcharge", "tax_surcharge_form", ValidateTaxSurchargeForm())
    await activate(both, "滞纳金怎么算")
    await both.say("欠了8000，逾期20天")
    assert (both.slots["tax_amount"], both.slots["tax_days"], both.slots["requested_slot"]) == ("8000.00", "20", None)


async def test_a_public_tax_question_inside_a_form_is_answered_in_place(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "tax-digress", "tax_surcharge_form", ValidateTaxSurchargeForm())
    await activate(chat, "帮我计算滞纳金")
    answered = await chat.say("这个月增值税几号截止", intent="tax_service_query")
    assert answered.responses == ["utter_tax_deadline"] and chat.slots["requested_slot"] == "tax_amount"
    personal = await chat.say("我要申请延期缴纳税款", intent="tax_service_query")
    assert personal.responses == ["utter_finish_current_first"] and "滞纳金计算" in personal.text
    assert chat.slots["requested_slot"] == "tax_amount"


async def test_the_surcharge_service_down_keeps_the_numbers_for_a_retry(services_down: None, domain: dict) -> None:
    t = tracker(slots={"tax_amount": "50000.00", "tax_days": "10"}, sender="tax-down")
    down = await run(ActionTaxSurcharge(), t, domain)
    assert down.responses == ["utter_tax_surcharge_unavailable"] and "50000.00元、滞纳10天已为您记下" in down.text
    retry = next(b["payload"] for b in down.buttons if b["title"] == "重新计算")
    assert tax_kind(retry) == SURCHARGE and surcharge_numbers(retry) == ("50000.00", "10")  # worked out at once
    assert down.slots["transaction_result"]["status"] == "error"


# -- obligations (陈晓) ----------------------------------------------------------------------------------------------


async def test_chen_xiao_sees_her_companys_obligations_with_each_status(live_services: str, domain: dict) -> None:
    started = await ask("帮我查查我们公司这个月该报哪些税", domain, sender="tax-chen")
    assert followup(started) == "tax_obligations_form" and started.responses == ["utter_tax_obligations_intro"]

    chat = FormChat(domain, "tax-chen", "tax_obligations_form", ValidateTaxObligationsForm())
    await activate(chat, "帮我查查我们公司这个月该报哪些税")
    assert chat.slots["requested_slot"] == "person_name"
    await verified(chat, live_services, CHEN)
    chat.slots["requested_slot"] = "tax_credit_code"
    asked = await chat.action(ActionAskTaxCreditCode())
    assert "统一社会信用代码" in asked.text
    assert {"title": "查询我本人的个人所得税", "payload": "查询我本人的个人所得税"} in asked.buttons
    name = await chat.say("杭州云帆科技有限公司")
    assert "这似乎是企业名称" in name.text and "18位代码" in name.text
    others = await chat.say(LVYUAN)
    assert "未查询到您可以代为查询" in others.text and "绿源" not in others.text
    assert chat.slots["requested_slot"] == "tax_credit_code" and chat.slots["tax_credit_code"] is None
    await chat.say(f"代码是{YUNFAN}")
    assert chat.slots["requested_slot"] is None

    truth = await services.tax().list_obligations(
        token=chat.slots["identity_token"], chat_user="tax-chen", credit_code=YUNFAN
    )
    shown = await chat.action(ActionTaxObligations())
    assert shown.responses == ["utter_tax_obligations_company"]
    assert "杭州云帆科技有限公司" in shown.text and "登记联系人" in shown.text and "小规模纳税人" in shown.text
    for item in truth.items:
        assert f"· {item.tax}（{item.period_text}）：{item.status_text}" in shown.text  # 已申报 / 未申报 / 逾期…天
        if item.status == "overdue":
            assert f"合计应缴{item.amount_due:,.2f}元" in shown.text and f"逾期{item.overdue_days}天" in shown.text
    assert truth.summary.text in shown.text
    assert chat.slots["transaction_result"] == {"service": "tax_obligations", "status": "completed", "reference": None}
    assert all(shown.slots[slot] is None for slot in TAX_SLOTS)

    # Verified, and the request says whose: answered at once, her own 个人所得税 too.
    slots = {name: chat.slots[name] for name in IDENTITY}
    own = await ask("我的个税汇算办了没", domain, slots=slots, sender="tax-chen")
    assert followup(own) is None and own.responses == ["utter_tax_obligations_personal"]
    assert "陈*（本人）" in own.text and "个人所得税" in own.text and "综合所得汇算" in own.text
    company = await ask(f"信用代码{YUNFAN}，看下有没有没报的税", domain, slots=slots, sender="tax-chen",
                        entities=[entity("credit_code", YUNFAN)])
    assert followup(company) is None and "杭州云帆科技有限公司" in company.text
    assert company.slots["transaction_result"]["status"] == "completed"


async def test_her_own_taxes_are_offered_with_a_button(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "tax-chen", "tax_obligations_form", ValidateTaxObligationsForm())
    await verified(chat, live_services, CHEN)
    await activate(chat, "查我的纳税情况")
    assert chat.slots["requested_slot"] == "tax_credit_code"  # "我的": a company's or her own? asked
    await chat.say("查询我本人的个人所得税", intent="tax_service_query")
    assert chat.slots["tax_credit_code"] == "personal" and chat.slots["requested_slot"] is None
    shown = await chat.action(ActionTaxObligations())
    assert "陈*（本人）" in shown.text

    personal = FormChat(domain, "tax-chen", "tax_obligations_form", ValidateTaxObligationsForm())
    await activate(personal, "我个人有哪些税要报")  # not verified in this chat yet: her own, once verified
    assert personal.slots["tax_credit_code"] == "personal" and personal.slots["requested_slot"] == "person_name"


# -- a payment deferral (陈晓 for 杭州云帆科技有限公司) ------------------------------------------------------------


async def test_chen_xiao_requests_a_deferral_once_and_asking_again_shows_it(
    live_services: str, domain: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = await ask("我要申请延期缴纳税款", domain, sender="tax-chen")
    assert followup(started) == "tax_deferral_form" and started.responses == ["utter_tax_deferral_intro"]
    assert "最长不超过3个月" in started.text

    chat = FormChat(domain, "tax-chen", "tax_deferral_form", ValidateTaxDeferralForm())
    await verified(chat, live_services, CHEN)
    await activate(chat, "我要申请延期缴纳税款")
    assert chat.slots["requested_slot"] == "tax_credit_code"
    assert "请输入申请企业的统一社会信用代码" in (await chat.action(ActionAskTaxCreditCode())).text
    assert "以企业名义申请" in (await chat.say("我个人的")).text
    await chat.say(YUNFAN)

    listing = await services.tax().list_obligations(
        token=chat.slots["identity_token"], chat_user="tax-chen", credit_code=YUNFAN
    )
    open_items = [item for item in listing.items if item.status == "unfiled"]
    if not open_items:  # the sandbox's clock was moved past the current period's deadline by another test
        assert chat.slots["requested_slot"] is None and chat.slots["tax_result"] == "nothing"
        pytest.skip("no obligation of 杭州云帆科技有限公司 may still be deferred at the sandbox's date")
    surtax = next(item for item in open_items if item.tax == "附加税费")
    assert chat.slots["requested_slot"] == "tax_period"
    offered = await chat.action(ActionAskTaxPeriod())
    assert "杭州云帆科技有限公司（您是该企业的登记联系人）" in offered.text
    assert {"title": f"附加税费 {surtax.period_text}", "payload": f"附加税费 {surtax.period_text}"} in offered.buttons
    overdue = [item for item in listing.items if item.status == "overdue"]
    if overdue:
        assert "已过缴纳期限，不能再申请延期缴纳" in offered.text
        late = await chat.say(f"{overdue[0].tax} {overdue[0].period_text}")
        assert "已无法申请延期" in late.text and chat.slots["requested_slot"] == "tax_period"
    filed = next((item for item in listing.items if item.status == "filed"), None)
    if filed:
        assert "无需申请延期缴纳" in (await chat.say(f"{filed.period_text}的{filed.tax}")).text
    await chat.say(f"附加税费 {surtax.period_text}")
    assert chat.slots["tax_period"] == f"附加税费|{surtax.period}" and chat.slots["requested_slot"] == "tax_months"

    too_long = await chat.say("5个月")
    assert "第三十一条" in too_long.text and "最长不得超过三个月" in too_long.text
    assert "您填写的是5个月" in too_long.text and {"title": "不办了", "payload": "/cancel"} in too_long.buttons
    assert chat.slots["requested_slot"] == "tax_months"
    # A public tax question asked here is answered in place, and the question about the months comes again.
    asked = await chat.say("这个月增值税几号截止？", intent="tax_service_query")
    assert "申报" in asked.text and chat.slots["requested_slot"] == "tax_months"
    assert not (chat.slots.get("form_failures") or {}).get("count"), asked.text
    await chat.say("两个月")
    # A reason reads like a deferral request to the NLU: it is the answer, not another matter.
    await chat.say("受疫情影响停业两个月，发完工资交不上税", intent="tax_service_query")
    assert chat.slots["tax_reason"] == "受疫情影响停业两个月，发完工资交不上税"
    summary = await chat.action(ActionAskTaxConfirm())
    assert "附加税费" in summary.text and "申请延期：2个月" in summary.text
    assert chinese_date(add_months(surtax.due_date, 2)) in summary.text
    assert chinese_date(surtax.due_date) in summary.text

    monkeypatch.setenv("SERVICES_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("SERVICES_DEADLINE", "2")
    _reset_clients()
    down = await chat.say("确认", intent="affirm")
    assert "暂时无法访问" in down.text and "已为您保留" in down.text
    assert chat.slots["requested_slot"] == "tax_confirm" and chat.slots["tax_months"] == "2"
    assert chat.slots["transaction_result"]["status"] == "error"

    monkeypatch.setenv("SERVICES_URL", live_services)
    _reset_clients()
    await chat.say("确认", intent="affirm")
    assert chat.slots["requested_slot"] is None
    assert json.loads(json.dumps(chat.slots)) == chat.slots  # the tracker store keeps slots as JSON
    number = chat.slots["transaction_result"]["reference"]
    assert chat.slots["transaction_result"]["service"] == "tax_deferral" and number.startswith("YQ")
    # The same confirmation once more (a message delivered twice): the same key, the same request.
    chat.slots.update({"tax_confirm": None, "tax_result": None, "requested_slot": "tax_confirm"})
    await chat.say("确认", intent="affirm")
    assert chat.slots["transaction_result"]["reference"] == number
    shown = await chat.action(ActionSubmitTaxDeferral())
    assert f"申请编号：{number}" in shown.text and "已受理（待审批）" in shown.text and "省级税务机关" in shown.text
    assert "（办理人：陈*）" in shown.text and all(shown.slots[slot] is None for slot in TAX_SLOTS)

    # Asked again in a new conversation turn: the open request, not a second one (months said in the request).
    again = FormChat(domain, "tax-chen", "tax_deferral_form", ValidateTaxDeferralForm())
    again.slots.update({name: chat.slots[name] for name in IDENTITY})
    await activate(again, f"信用代码{YUNFAN}，申请税款延期一个月", entities=[entity("credit_code", YUNFAN)])
    assert again.slots["tax_months"] == "1" and again.slots["requested_slot"] == "tax_period"
    assert f"已申请延期缴纳（申请编号{number}" in (await again.action(ActionAskTaxPeriod())).text
    await again.say(f"{surtax.period_text}的附加税")
    assert again.slots["requested_slot"] is None
    repeat = await again.action(ActionSubmitTaxDeferral())
    assert "无需重复提交" in repeat.text and f"申请编号：{number}" in repeat.text and "申请延期：2个月" in repeat.text

    requests = await services.tax().list_deferrals(
        token=chat.slots["identity_token"], chat_user="tax-chen", credit_code=YUNFAN
    )
    assert [r.deferral_no for r in requests if r.tax == "附加税费" and r.period == surtax.period] == [number]


async def test_a_company_with_nothing_to_defer_or_someone_elses(live_services: str, domain: dict) -> None:
    chat = FormChat(domain, "tax-wang", "tax_deferral_form", ValidateTaxDeferralForm())
    await verified(chat, live_services, WANG)
    xingguang = "91330102MA2J7X4Q84"
    told = await activate(chat, f"税款延期缴纳 信用代码{xingguang}", entities=[entity("credit_code", xingguang)])
    # 杭州星光娱乐有限公司 has no tax registration: nothing to defer, and nothing more is asked.
    assert "杭州星光娱乐有限公司" in told.text and "没有可以申请延期缴纳的税款" in told.text
    assert chat.slots["requested_slot"] is None and chat.slots["tax_result"] == "nothing"
    nothing = await chat.action(ActionSubmitTaxDeferral())
    assert not nothing.messages and all(nothing.slots[slot] is None for slot in TAX_SLOTS)

    mine = FormChat(domain, "tax-wang", "tax_deferral_form", ValidateTaxDeferralForm())
    mine.slots.update({name: chat.slots[name] for name in IDENTITY})
    await activate(mine, f"帮我们申请缓缴，代码{YUNFAN}", entities=[entity("credit_code", YUNFAN)])
    assert mine.slots["tax_credit_code"] is None and mine.slots["requested_slot"] == "tax_credit_code"

