"""Immigration, campus and general actions with real trackers against the real sandbox."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date

import httpx
import pytest

from actions.campus import (
    ActionSearchJobFairs,
    ActionSearchJobs,
    ActionShowMore,
    ValidateJobFairRegistrationForm,
    date_range,
    parse_ordinal,
)
from actions.conversation import ActionCancelTransaction, ActionClarify, ActionRequestHuman
from actions.immigration import ActionPortStatusAnswer, ValidateEntryControlForm, ValidatePortStatusForm
from actions.rent_subsidy import ValidateRentSubsidyForm
from bot.settings import SandboxSettings
from services.idcard import check_digit
from tests.services.conftest import serving
from tests.unit.conftest import _reset_clients, entity, latest_code, tracker
from tests.unit.rendering import run


async def test_alias_resolves_to_the_canonical_country(live_services: str, domain: dict) -> None:
    t = tracker("美利坚现在入境要隔离吗", "entry_control_query", entities=[entity("country_region", "美利坚")])
    outcome = await run(ValidateEntryControlForm(), t, domain)
    assert outcome.slots["country_region"] == "美国"
    assert outcome.slots["requested_slot"] is None


async def test_unknown_country_gets_suggestions_and_is_asked_again(live_services: str, domain: dict) -> None:
    t = tracker("新加破", form="entry_control_form", requested="country_region")
    outcome = await run(ValidateEntryControlForm(), t, domain)
    assert "没有找到“新加破”" in outcome.text
    assert any(b["title"] == "新加坡" for b in outcome.buttons)
    assert outcome.slots["country_region"] is None and outcome.slots["requested_slot"] == "country_region"


async def test_suspended_ports_are_listed(live_services: str, domain: dict) -> None:
    t = tracker("现在哪些口岸暂停通关了", "port_status_query")
    validated = await run(ValidatePortStatusForm(), t, domain)
    answer = await run(ActionPortStatusAnswer(), tracker(slots=validated.slots), domain)
    assert "暂停旅客通关的口岸" in answer.text and "瑞丽口岸" in answer.text
    assert answer.slots == {
        "port": None,
        "transaction_result": {"service": "port_status", "status": "completed", "reference": None},
    }


async def test_service_down_is_said_plainly(services_down: None, domain: dict) -> None:
    outcome = await run(ActionPortStatusAnswer(), tracker(slots={"port": "深圳罗湖口岸"}), domain)
    assert "暂时无法访问" in outcome.text and any(b["payload"] == "/request_human" for b in outcome.buttons)
    assert outcome.slots["transaction_result"] == {"service": "port_status", "status": "error", "reference": None}


async def test_job_fairs_are_paged_and_the_second_one_can_be_registered(live_services: str, domain: dict) -> None:
    first = await run(ActionSearchJobFairs(), tracker("最近有什么招聘会", "job_fair_search"), domain)
    shown = first.slots["result_list"]
    assert shown["kind"] == "fairs" and len(shown["items"]) == 5 and shown["total"] > 5
    assert any(b["payload"] == "/show_more" for b in first.buttons)

    more = await run(ActionShowMore(), tracker("下一页", "show_more", slots=first.slots), domain)
    assert more.slots["result_list"]["page"] == 2 and "第6-" in more.text

    t = tracker("报名第二个", "job_fair_register", slots=first.slots,
                entities=[entity("ordinal", "第二个")])
    form = await run(ValidateJobFairRegistrationForm(), t, domain)
    second = shown["items"][1]
    status = httpx.get(f"{live_services}/api/v1/campus/job-fairs/{second['id']}").json()["status"]
    assert second["title"] in form.text
    if status == "open":
        assert form.slots["job_fair_id"] == second["id"] and form.slots["requested_slot"] == "person_name"
    else:  # the second fair of the list is full: refused with the reason, asked again
        assert "无法报名" in form.text and form.slots["job_fair_id"] is None


async def test_full_and_past_fairs_are_refused_with_the_reason(live_services: str, domain: dict) -> None:
    for fair_id, reason in (("JF0003", "名额已满"), ("JF0001", "已经结束")):
        t = tracker("/job_fair_register", "job_fair_register", entities=[entity("job_fair_id", fair_id)])
        outcome = await run(ValidateJobFairRegistrationForm(), t, domain)
        assert reason in outcome.text and outcome.slots["job_fair_id"] is None


async def test_registration_completes_with_a_number(live_services: str, domain: dict) -> None:
    form = ValidateJobFairRegistrationForm()
    slots: dict = {"requested_slot": "person_name", "job_fair_id": "JF0005"}
    answers = [
        ("刘洋", []),
        ("13800000004", [entity("phone", "13800000004")]),
        (None, []),
        ("浙江大学", []),
        ("计算机科学与技术", [entity("major", "计算机科学与技术")]),
        ("本科", [entity("degree", "本科")]),
        ("2020", []),
    ]
    for text, entities in answers:
        text = text or latest_code(live_services, "13800000004")
        t = tracker(text, slots=slots, form="job_fair_registration_form", requested=slots["requested_slot"],
                    entities=entities, sender="graduate")
        slots.update((await run(form, t, domain)).slots)
    assert slots["requested_slot"] == "fair_registration_confirm", slots
    t = tracker("确认", "affirm", slots=slots, form="job_fair_registration_form",
                requested="fair_registration_confirm", sender="graduate")
    slots.update((await run(form, t, domain)).slots)
    assert slots["fair_registration"]["registration_no"].startswith("BM")
    assert slots["requested_slot"] is None


async def test_positions_by_city(live_services: str, domain: dict) -> None:
    t = tracker("杭州有什么岗位", "job_search", entities=[entity("city", "杭州")])
    outcome = await run(ActionSearchJobs(), t, domain)
    assert "个岗位" in outcome.text and "杭州" in outcome.text


async def test_low_confidence_offers_the_likely_intents(domain: dict) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "rent_subsidy_policy", "confidence": 0.4},
               {"name": "rent_subsidy_apply", "confidence": 0.35}]
    outcome = await run(ActionClarify(), tracker("补贴那个咋弄", "nlu_fallback", ranking=ranking), domain)
    assert outcome.text.startswith("抱歉，我不太确定您的意思。您是想")
    assert [b["payload"] for b in outcome.buttons] == ["/rent_subsidy_policy", "/rent_subsidy_apply",
                                                       "/request_human"]


async def test_an_unsure_rule_question_goes_to_the_knowledge_base_not_to_transactions(domain: dict) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "health_code_query", "confidence": 0.45},
               {"name": "policy_question", "confidence": 0.3}]
    t = tracker("红码的话一般要打卡多少天才能转绿", "nlu_fallback", ranking=ranking)
    outcome = await run(ActionClarify(), t, domain)
    assert "/health_code_query" not in [b["payload"] for b in outcome.buttons]
    assert "依据" in outcome.text or "您想问的是不是" in outcome.text, outcome.text
    mine = await run(ActionClarify(), tracker("我的红码还要打卡几天", "nlu_fallback", ranking=ranking), domain)
    assert "/health_code_query" in [b["payload"] for b in mine.buttons]  # one's own case: the transaction


async def test_handoff_is_acknowledged_and_recorded(domain: dict) -> None:
    outcome = await run(ActionRequestHuman(), tracker("转人工", "request_human", form="rent_subsidy_form"), domain)
    assert "转人工服务请求" in outcome.text
    assert outcome.slots["handoff_requested"] is True
    assert any(e.get("event") == "active_loop" and e.get("name") is None for e in outcome.events)


async def test_cancel_outside_and_inside_a_form(domain: dict) -> None:
    nothing = await run(ActionCancelTransaction(), tracker("取消", "cancel"), domain)
    assert nothing.responses == ["utter_nothing_to_cancel"]
    cancelled = await run(ActionCancelTransaction(), tracker("取消", "cancel", form="rent_subsidy_form"), domain)
    assert "已为您取消“租房补贴申请”" in cancelled.text


def test_dates_people_say() -> None:
    thursday = date(2026, 11, 26)
    assert date_range("下周杭州有招聘会吗", thursday) == (date(2026, 11, 30), date(2026, 12, 6))
    assert date_range("这个月的双选会", thursday) == (thursday, date(2026, 11, 30))
    assert date_range("1月份有宣讲会吗", thursday) == (date(2027, 1, 1), date(2027, 1, 31))
    assert date_range("招聘会", thursday) == (None, None)


def test_list_positions_people_say() -> None:
    assert parse_ordinal("报名第二个") == 2
    assert parse_ordinal("第3场") == 3
    assert parse_ordinal("2") == 2
    assert parse_ordinal("最后一个吧") == -1
    assert parse_ordinal("头一个") == 1
    assert parse_ordinal("我要报名") is None


async def test_positions_by_city_and_industry(live_services: str, domain: dict) -> None:
    entities = [entity("city", "上海"), entity("industry", "金融"), entity("degree", "硕士")]
    t = tracker("上海有啥硕士能投的金融岗位", "job_search", entities=entities)
    outcome = await run(ActionSearchJobs(), t, domain)
    assert "个岗位" in outcome.text and "芯片验证工程师" not in outcome.text
    assert outcome.slots["result_list"]["query"] == {"city": "上海", "industry": "金融", "degree": "硕士"}


async def test_sms_code_is_sent_again_on_request(live_services: str, domain: dict) -> None:
    slots = {"requested_slot": "sms_code", "person_name": "刘洋", "phone": "13800000004", "job_fair_id": "JF0005",
             "verification_id": "stale"}
    t = tracker("没收到验证码，重新发一下", slots=slots, form="job_fair_registration_form", requested="sms_code")
    outcome = await run(ValidateJobFairRegistrationForm(), t, domain)
    assert "验证码已发送至您的手机 138****0004" in outcome.text
    assert outcome.slots["verification_id"] not in (None, "stale") and outcome.slots["requested_slot"] == "sms_code"


# -- the sandbox's limits, as the citizen hears them ----------------------------------------------------


@pytest.fixture
def strict_services(tmp_path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Point the actions at a sandbox of their own with the given (tiny) limits: the shared one stays untouched."""
    with ExitStack() as stack:

        def start(**limits: int) -> None:
            settings = SandboxSettings(database_url=f"sqlite:///{tmp_path / 'strict.db'}", **limits)
            monkeypatch.setenv("SERVICES_URL", stack.enter_context(serving(settings)))
            _reset_clients()

        yield start
        _reset_clients()


UNKNOWN_ID = "33010619950314001" + check_digit("33010619950314001")  # valid, but nobody's


async def test_too_many_failed_identity_checks_stop_for_today_with_a_way_out(strict_services, domain: dict) -> None:
    strict_services(id_check_failures_per_phone=1)

    def phone_typed():  # type: ignore[no-untyped-def]
        return tracker("13800000001", slots={"person_name": "陈晓", "id_number": UNKNOWN_ID}, form="rent_subsidy_form",
                       requested="phone", entities=[entity("phone", "13800000001")])

    first = await run(ValidateRentSubsidyForm(), phone_typed(), domain)
    assert "未能匹配" in first.text and first.slots["person_name"] is None
    second = await run(ValidateRentSubsidyForm(), phone_typed(), domain)
    assert "明天再试" in second.text and "政务服务中心" in second.text and "不办了" in second.text
    assert {b["payload"] for b in second.buttons} == {"/cancel", "/request_human"}
    assert second.slots["person_name"] is None and second.slots["id_number"] is None
    assert second.slots["transaction_result"] == {"service": "identity", "status": "rejected", "reference": None}


async def test_the_days_last_code_is_explained_with_a_way_out(strict_services, domain: dict) -> None:
    strict_services(sms_daily_limit_per_phone=1)
    slots = {"requested_slot": "phone", "person_name": "刘洋", "job_fair_id": "JF0005"}
    t = tracker("13800000004", slots=slots, form="job_fair_registration_form", requested="phone",
                entities=[entity("phone", "13800000004")])
    sent = await run(ValidateJobFairRegistrationForm(), t, domain)
    assert "验证码已发送" in sent.text
    again = tracker("没收到，重新发一下", slots={**slots, "phone": "13800000004", **sent.slots},
                    form="job_fair_registration_form", requested="sms_code")
    refused = await run(ValidateJobFairRegistrationForm(), again, domain)
    assert "今日获取验证码的次数已达上限" in refused.text and "明天再试" in refused.text
    assert {b["payload"] for b in refused.buttons} == {"/cancel", "/request_human"}
    assert refused.slots["phone"] is None and refused.slots["verification_id"] is None


async def test_too_many_codes_in_a_few_minutes_says_how_long_to_wait(strict_services, domain: dict) -> None:
    strict_services(sms_limit_per_phone=1)
    slots = {"requested_slot": "phone", "person_name": "刘洋", "job_fair_id": "JF0005"}
    t = tracker("13800000004", slots=slots, form="job_fair_registration_form", requested="phone",
                entities=[entity("phone", "13800000004")])
    sent = await run(ValidateJobFairRegistrationForm(), t, domain)
    again = tracker("重新发送", slots={**slots, "phone": "13800000004", **sent.slots},
                    form="job_fair_registration_form", requested="sms_code")
    refused = await run(ValidateJobFairRegistrationForm(), again, domain)
    assert "分钟后再试" in refused.text and "重新输入手机号码" in refused.text
    assert refused.slots["phone"] is None and refused.slots["requested_slot"] == "phone"
