"""E-tax guidance (电子税务): deadlines moved by official holidays, the surcharge worked out, a company's and a
person's obligations after verification, and payment deferrals (at most 3 months, one open per period)."""

from __future__ import annotations

import logging
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import chinese_calendar
import pytest
import yaml
from alembic import command
from fastapi.testclient import TestClient
from stdnum.cn import uscc

from bot.settings import SandboxSettings
from services import sandbox_clock, tax_calendar
from services.app import create_app
from services.db import alembic_config, create_db_engine
from services.errors import ApiError
from services.tax_guidance import deadline_answer, surcharge_answer
from services.tax_rules import add_months, load_tax_rules, shift_month
from tests.services.helpers import CHEN_XIAO, WANG_JIANGUO, error_of, query, verify

BASE = "/api/v1/tax"
DEFERRALS = f"{BASE}/deferrals"
YUNFAN = "91330106MA2H3K5P13"  # 杭州云帆科技有限公司: small-scale taxpayer, contact 陈晓
LVYUAN = "91330110MA2K8L6R2R"  # 杭州绿源食品有限公司: general taxpayer, legal representative 王建国
NOBODYS = "91330110MA2K8L6R9" + uscc.calc_check_digit("91330110MA2K8L6R9")  # valid, but no such company
RULES = load_tax_rules(SandboxSettings().tax_config)
REAL_TODAY = date(2026, 11, 30)  # for the calculations that do not need the clock


def _today(client: TestClient) -> date:
    return date.fromisoformat(client.get(f"{BASE}/deadline").json()["today"])


def _advance(client: TestClient, days: int) -> None:
    session = client.app.state.session_factory()
    try:
        sandbox_clock.advance(session, days)
    finally:
        session.close()


def _open_period(today: date) -> tuple[str, date]:
    """The period whose return is due next (the seed's "this month's, open") and its due date."""
    year, month = RULES.current_filing_month(today)
    period_year, period_month = shift_month(year, month, -1)
    return f"{period_year:04d}-{period_month:02d}", RULES.deadline(year, month).deadline


def _period_before(period: str, months: int) -> str:
    year, month = shift_month(int(period[:4]), int(period[5:]), -months)
    return f"{year:04d}-{month:02d}"


# --- the deadline rule, on fixed months (no database) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("month", "deadline", "extension", "holiday", "moved_to_working_day"),
    [
        ("2020-10", "2020-10-23", 8, ("国庆节", 8, 8), False),  # 10月1日至8日放假8天
        ("2019-02", "2019-02-22", 7, ("春节", 7, 7), False),  # 2月4日至10日
        ("2024-02", "2024-02-21", 6, ("春节", 8, 6), False),  # 2月10日至17日: 6 of the 8 days within 1–15
        ("2023-10", "2023-10-23", 6, ("中秋节、国庆节", 8, 6), True),  # 9月29日至10月6日; 21日 is a Saturday
        ("2023-01", "2023-01-17", 2, ("元旦", 3, 2), False),  # 2022年12月31日至1月2日 reaches into the window
        ("2020-05", "2020-05-20", 5, ("劳动节", 5, 5), False),
        ("2020-12", "2020-12-15", 0, None, False),  # a normal month
        ("2020-11", "2020-11-16", 0, None, True),  # the 15th is a Sunday
        ("2020-04", "2020-04-20", 3, ("清明节", 3, 3), True),  # 15 + 3 = Saturday the 18th → Monday
    ],
)
def test_deadlines_of_fixed_months(month, deadline, extension, holiday, moved_to_working_day):
    answer = deadline_answer(RULES, REAL_TODAY, month, None)
    assert (answer["deadline"], answer["extension_days"]) == (deadline, extension)
    assert answer["moved_to_next_working_day"] is moved_to_working_day
    assert answer["calendar_covered"] is True and answer["calendar_note"] is None
    if holiday is None:
        assert answer["holidays"] == []
    else:
        (moved,) = answer["holidays"]
        assert (moved["name"], moved["days"], moved["days_in_window"]) == holiday
        assert moved["name"] in answer["explanation"] and f"顺延{extension}天" in answer["explanation"]
    day = date.fromisoformat(deadline)
    assert f"{day.month}月{day.day}日" in answer["explanation"]


def test_october_2020_is_explained_in_full():
    answer = deadline_answer(RULES, REAL_TODAY, "2020-10", "增值税")
    assert answer["explanation"] == (
        "2020年10月申报2020年9月的增值税，申报纳税期限为2020年10月23日（星期五）。"
        "1日至15日内有国庆节连续放假8天（10月1日至10月8日），期限由10月15日顺延8天至10月23日。"
    )
    assert (answer["period"], answer["period_text"], answer["deadline_text"]) == (
        "2020-09",
        "2020年9月",
        "2020年10月23日（星期五）",
    )
    assert answer["holidays"] == [
        {"name": "国庆节", "start": "2020-10-01", "end": "2020-10-08", "days": 8, "days_in_window": 8}
    ]
    assert "电子税务局" in answer["how_to_file"]["title"] and len(answer["how_to_file"]["steps"]) >= 3
    assert answer["hotline"] == "12366" and "顺延" in answer["rule"]


def test_a_working_saturday_counts_as_a_working_day():
    # 2021: 春节 11–17 February; the 20th, a Saturday, was a 调休 working day.
    answer = deadline_answer(RULES, REAL_TODAY, "2021-02", None)
    assert answer["deadline"] == "2021-02-20" and answer["moved_to_next_working_day"] is False
    assert "调休上班日" in answer["explanation"]


def test_a_year_the_package_does_not_cover_falls_back_to_weekends_and_says_so():
    first, last = tax_calendar.covered_years()
    year = last + 1
    answer = deadline_answer(RULES, REAL_TODAY, f"{year}-05", None)
    expected = tax_calendar.next_working_day(date(year, 5, 15))
    assert expected.weekday() < 5 and answer["deadline"] == expected.isoformat()
    assert answer["calendar_covered"] is False and answer["holidays"] == []
    assert f"{year}年" in answer["calendar_note"] and "只按周末" in answer["calendar_note"]
    assert f"{first}—{last}" in answer["calendar_note"]


def test_the_holiday_calendar_is_the_packages():
    first, last = tax_calendar.covered_years()
    assert first <= 2019 and last >= 2026  # the years the tests above rely on
    sample = date(2020, 10, 10)  # a 调休 Saturday
    assert tax_calendar.is_working_day(sample) is chinese_calendar.is_workday(sample) is True
    assert tax_calendar.holiday_name(date(2020, 10, 2)) == "国庆节"
    assert tax_calendar.holiday_name(sample) is None  # the package names it, but it is a working day


def test_quarterly_tax_outside_a_quarter_month():
    answer = deadline_answer(RULES, REAL_TODAY, "2023-11", "企业所得税")
    assert answer["files_this_month"] is False and answer["period"] is None
    assert "2024年1月" in answer["explanation"]
    in_quarter = deadline_answer(RULES, REAL_TODAY, "2023-10", "所得税预缴")  # an alias
    assert (in_quarter["tax"], in_quarter["period"], in_quarter["period_text"]) == (
        "企业所得税",
        "2023Q3",
        "2023年第3季度",
    )


def test_month_formats_and_errors():
    assert deadline_answer(RULES, REAL_TODAY, "2020年10月", None)["deadline"] == "2020-10-23"
    assert deadline_answer(RULES, REAL_TODAY, "2020/10", "vat")["tax"] == "增值税"
    for bad in ("garbage", "2020-13", "1899-01", "2020-10-01" * 10):
        with pytest.raises(ApiError) as refused:
            deadline_answer(RULES, REAL_TODAY, bad, None)
        assert (refused.value.status, refused.value.code, refused.value.details["field"]) == (
            422,
            "invalid_field",
            "month",
        )
    with pytest.raises(ApiError) as unknown:
        deadline_answer(RULES, REAL_TODAY, None, "房产税")
    assert unknown.value.code == "unknown_tax" and "增值税" in unknown.value.details["allowed"]


def test_changing_the_config_changes_the_rule(tmp_path: Path):
    config = yaml.safe_load(SandboxSettings().tax_config.read_text(encoding="utf-8"))
    config["deadline"]["long_holiday_min_days"] = 9  # the 8 days of October 2020 no longer count
    path = tmp_path / "tax.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    assert deadline_answer(load_tax_rules(path), REAL_TODAY, "2020-10", None)["deadline"] == "2020-10-15"


def test_add_months_keeps_the_day_or_takes_the_last():
    assert add_months(date(2026, 12, 15), 3) == date(2027, 3, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)


# --- the surcharge, worked out (no database) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "days", "surcharge", "total"),
    [
        ("10000", "10", "50.00", "10050.00"),
        ("2400.00", "39", "46.80", "2446.80"),
        ("1,234.56元", "7天", "4.32", "1238.88"),  # 4.32096, typed as a citizen types it
        ("333.33", "3", "0.50", "333.83"),  # 0.499995: rounded half up to the fen
        ("500", "0", "0.00", "500.00"),
    ],
)
def test_surcharge_worked_examples(amount, days, surcharge, total):
    answer = surcharge_answer(RULES, REAL_TODAY, amount, days)
    assert (answer["surcharge"], answer["total"], answer["rate_percent"]) == (surcharge, total, "0.05%")
    assert answer["formula"].endswith(f"= {Decimal(surcharge):,.2f}元")
    assert "万分之五" in answer["formula"] and "第三十二条" in answer["basis"]


def test_surcharge_formula_text():
    answer = surcharge_answer(RULES, REAL_TODAY, "10000", "10")
    assert answer["formula"] == "滞纳金 = 欠缴税款 × 万分之五（0.05%）× 滞纳天数 = 10,000.00元 × 0.05% × 10天 = 50.00元"


def test_surcharge_from_dates_counts_from_the_day_after_the_deadline():
    answer = surcharge_answer(RULES, REAL_TODAY, "10000", raw_due="2020-10-23", raw_paid="2020-10-30")
    assert (answer["days"], answer["surcharge"], answer["paid_date_assumed"]) == (7, "35.00", False)
    assert "2020年10月24日起算" in answer["explanation"] and "共7天" in answer["explanation"]
    in_time = surcharge_answer(RULES, REAL_TODAY, "10000", raw_due="2020-10-23", raw_paid="2020-10-23")
    assert (in_time["days"], in_time["surcharge"]) == (0, "0.00") and "不加收滞纳金" in in_time["explanation"]
    not_yet_paid = surcharge_answer(RULES, REAL_TODAY, "10000", raw_due="2026-11-16")
    assert not_yet_paid["paid_date"] == REAL_TODAY.isoformat() and not_yet_paid["paid_date_assumed"] is True
    assert not_yet_paid["days"] == 14


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"raw_amount": "-5", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "0", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "abc", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "1e9", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "NaN", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "12.345", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "100000000000.01", "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": "9" * 200, "raw_days": "3"}, "invalid_amount", "amount"),
        ({"raw_amount": None, "raw_days": "3"}, "invalid_field", "amount"),
        ({"raw_amount": "100", "raw_days": "-3"}, "invalid_days", "days"),
        ({"raw_amount": "100", "raw_days": "2.5"}, "invalid_days", "days"),
        ({"raw_amount": "100", "raw_days": "3651"}, "invalid_days", "days"),
        ({"raw_amount": "100", "raw_days": "ten"}, "invalid_days", "days"),
        ({"raw_amount": "100"}, "invalid_field", "days"),
        ({"raw_amount": "100", "raw_days": "3", "raw_due": "2020-10-23"}, "invalid_field", "days"),
        ({"raw_amount": "100", "raw_paid": "2020-10-23"}, "invalid_field", "due_date"),
        ({"raw_amount": "100", "raw_due": "2020-02-30"}, "invalid_field", "due_date"),
        ({"raw_amount": "100", "raw_due": "2020-10-23", "raw_paid": "明天"}, "invalid_field", "paid_date"),
        ({"raw_amount": "100", "raw_due": "2000-01-01", "raw_paid": "2020-01-01"}, "invalid_days", "days"),
    ],
)
def test_surcharge_refuses_negative_huge_and_garbage_input(params, code, field):
    with pytest.raises(ApiError) as refused:
        surcharge_answer(RULES, REAL_TODAY, **params)
    assert (refused.value.status, refused.value.code, refused.value.details["field"]) == (422, code, field)
    assert re.search(r"[\u4e00-\u9fff]", refused.value.message)  # a Chinese sentence, not a stack trace


# --- the public endpoints, on SQLite and PostgreSQL ---------------------------------------------------------------


def test_deadline_and_surcharge_endpoints(client):
    october = client.get(f"{BASE}/deadline", params={"month": "2020-10", "tax": "增值税"})
    assert october.status_code == 200 and october.json()["deadline"] == "2020-10-23"
    spring = client.get(f"{BASE}/deadline", params={"month": "2019-02"}).json()
    assert spring["deadline"] == "2019-02-22" and spring["holidays"][0]["name"] == "春节"
    worked = client.get(f"{BASE}/surcharge", params={"amount": "10000", "days": "10"}).json()
    assert (worked["surcharge"], worked["total"]) == ("50.00", "10050.00")
    dated = client.get(
        f"{BASE}/surcharge", params={"amount": "10000", "due_date": "2020-10-23", "paid_date": "2020-10-30"}
    )
    assert dated.json()["surcharge"] == "35.00"
    for params, code in (
        ({"amount": "-1", "days": "3"}, "invalid_amount"),
        ({"amount": "100", "days": "99999"}, "invalid_days"),
        ({"month": "2020-99"}, "invalid_field"),
    ):
        path = "deadline" if "month" in params else "surcharge"
        refused = client.get(f"{BASE}/{path}", params=params)
        assert (refused.status_code, error_of(refused)["code"]) == (422, code)


def test_default_month_is_the_sandbox_month_and_follows_the_clock(client):
    answer = client.get(f"{BASE}/deadline").json()
    today = date.fromisoformat(answer["today"])
    assert answer["month"] == f"{today:%Y-%m}" and answer["files_this_month"] is True
    assert answer["passed"] is (date.fromisoformat(answer["deadline"]) < today)
    if answer["passed"]:  # the citizen also hears when the next period runs
        assert answer["next_deadline"] and "下一个申报期" in answer["explanation"]
    else:
        assert answer["days_left"] == (date.fromisoformat(answer["deadline"]) - today).days
    _advance(client, 40)
    later = client.get(f"{BASE}/deadline").json()
    assert later["month"] == f"{today + timedelta(days=40):%Y-%m}" != answer["month"]


# --- obligations ---------------------------------------------------------------------------------------------------


def test_chen_xiao_sees_her_companys_obligations_with_status(client):
    headers = verify(client, CHEN_XIAO)
    today = _today(client)
    response = client.get(f"{BASE}/obligations", params={"credit_code": YUNFAN.lower()}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    taxpayer = body["taxpayer"]
    assert (taxpayer["name"], taxpayer["credit_code"], taxpayer["role_text"]) == (
        "杭州云帆科技有限公司",
        YUNFAN,
        "登记联系人",
    )
    assert (taxpayer["taxpayer_kind"], taxpayer["taxpayer_kind_text"]) == ("small_scale", "小规模纳税人")
    assert taxpayer["vat_cycle_text"] == "按月申报" and body["sample_data"] is True

    open_period, open_due = _open_period(today)
    periods = [
        open_period,
        _period_before(open_period, 1),
        _period_before(open_period, 2),
        _period_before(open_period, 3),
    ]
    items = body["items"]
    assert [(item["period"], item["tax"]) for item in items] == [
        (period, tax) for period in periods for tax in ("增值税", "附加税费")
    ]
    assert [item["status_text"] for item in items[::2]] == ["未申报", "已申报", "逾期", "已申报"]
    current, filed, overdue = items[0], items[2], items[4]
    assert current["due_date"] == open_due.isoformat() and current["amount_due"] is None
    assert filed["filed_on"] and filed["tax_amount"] == "1800.00" and filed["amount_due"] is None
    days = (today - date.fromisoformat(overdue["due_date"])).days
    surcharge = (Decimal("2400.00") * Decimal("0.0005") * days).quantize(Decimal("0.01"))
    assert (overdue["tax_amount"], overdue["overdue_days"]) == ("2400.00", days) and days > 0
    assert (overdue["surcharge"], overdue["amount_due"]) == (str(surcharge), str(Decimal("2400.00") + surcharge))
    assert body["summary"]["unfiled"] == 2 and body["summary"]["overdue"] == 2
    assert "逾期" in body["summary"]["text"] or "已逾期" in body["summary"]["text"]


def test_wang_jianguo_sees_lvyuan_as_a_general_taxpayer(client):
    body = client.get(
        f"{BASE}/obligations", params={"credit_code": LVYUAN}, headers=verify(client, WANG_JIANGUO)
    ).json()
    assert (body["taxpayer"]["name"], body["taxpayer"]["taxpayer_kind_text"]) == ("杭州绿源食品有限公司", "一般纳税人")
    assert body["taxpayer"]["role_text"] == "法定代表人"
    assert {item["status"] for item in body["items"]} == {"unfiled", "filed"}


def test_a_company_without_tax_registration_says_so(client):
    xingguang = "91330102MA2J7X4Q84"  # 王建国 is its contact; no tax records in the seed
    body = client.get(f"{BASE}/obligations", params={"credit_code": xingguang}, headers=verify(client, WANG_JIANGUO))
    assert body.status_code == 200 and body.json()["items"] == []
    assert body.json()["taxpayer"]["taxpayer_kind"] is None and "暂未查询到" in body.json()["summary"]["text"]


def test_someone_elses_company_looks_exactly_like_no_company(client):
    headers = verify(client, CHEN_XIAO)
    not_hers = client.get(f"{BASE}/obligations", params={"credit_code": LVYUAN}, headers=headers)
    missing = client.get(f"{BASE}/obligations", params={"credit_code": NOBODYS}, headers=headers)
    assert not_hers.status_code == missing.status_code == 404
    assert not_hers.json() == missing.json()
    assert error_of(not_hers)["code"] == "company_not_found_or_not_authorised"
    assert "绿源" not in not_hers.text and "一般纳税人" not in not_hers.text
    wang = client.get(f"{BASE}/obligations", params={"credit_code": YUNFAN}, headers=verify(client, WANG_JIANGUO))
    assert wang.status_code == 404 and wang.json() == not_hers.json()
    bad = client.get(f"{BASE}/obligations", params={"credit_code": YUNFAN[:-1] + "A"}, headers=headers)
    assert (bad.status_code, error_of(bad)["code"]) == (422, "invalid_credit_code")


def test_a_person_sees_only_their_own_individual_obligations(client):
    today = _today(client)
    chen = client.get(f"{BASE}/obligations", headers=verify(client, CHEN_XIAO)).json()
    assert chen["taxpayer"] == {"kind": "individual", "name_masked": "陈*"}
    latest = chen["items"][0]
    assert (latest["tax"], latest["period"], latest["cycle"]) == ("个人所得税", str(today.year - 1), "annual")
    assert latest["period_text"] == f"{today.year - 1}年度综合所得汇算"
    assert latest["due_date"] == f"{today.year}-06-30"
    filed_by_now = today >= date(today.year, 4, 12)
    assert latest["status"] == ("filed" if filed_by_now else "unfiled")
    wang = client.get(f"{BASE}/obligations", headers=verify(client, WANG_JIANGUO)).json()
    own = wang["items"][0]
    assert own["tax_amount"] == "1260.00"
    assert own["status"] == ("overdue" if today > date(today.year, 6, 30) else "unfiled")
    assert CHEN_XIAO.id_number not in str(wang) and WANG_JIANGUO.id_number not in str(wang)


def test_status_follows_the_sandbox_clock(client):
    headers = verify(client, CHEN_XIAO)
    today = _today(client)
    _open, due = _open_period(today)
    _advance(client, (due - today).days + 1)
    items = client.get(f"{BASE}/obligations", params={"credit_code": YUNFAN}, headers=headers).json()["items"]
    assert items[0]["status"] == "overdue" and items[0]["overdue_days"] == 1


def test_obligations_need_a_verified_identity(client):
    for path, method in ((f"{BASE}/obligations", "GET"), (DEFERRALS, "GET"), (DEFERRALS, "POST")):
        kwargs = {"json": {}} if method == "POST" else {}
        anonymous = client.request(method, path, headers={"Idempotency-Key": "k"}, **kwargs)
        assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "unauthorized")
    phone_only = verify(client, CHEN_XIAO, with_id=False)
    refused = client.get(f"{BASE}/obligations", headers=phone_only)
    assert (refused.status_code, error_of(refused)["code"]) == (403, "insufficient_level")


# --- deferrals ---------------------------------------------------------------------------------------------------


def _deferral_body(client: TestClient, **changes: object) -> dict:
    period, _due = _open_period(_today(client))
    body = {
        "credit_code": YUNFAN,
        "tax": "增值税",
        "period": period,
        "months": 3,
        "reason": "受疫情影响，当期货币资金在扣除应付职工工资、社会保险费后不足以缴纳税款。",
    }
    return body | changes


def _defer(client: TestClient, headers: dict, key: str, body: dict):  # type: ignore[no-untyped-def]
    return client.post(DEFERRALS, json=body, headers={**headers, "Idempotency-Key": key})


def test_chen_xiao_defers_three_months_and_asking_again_returns_it(client):
    headers = verify(client, CHEN_XIAO)
    today = _today(client)
    period, due = _open_period(today)
    body = _deferral_body(client)
    first = _defer(client, headers, "key-1", body)
    assert first.status_code == 201, first.text
    deferral = first.json()
    assert deferral["deferral_no"] == f"YQ{today:%Y%m%d}0001"
    assert (deferral["status"], deferral["status_text"], deferral["already_open"]) == (
        "pending",
        "已受理（待审批）",
        False,
    )
    assert (deferral["company_name"], deferral["tax"], deferral["period"], deferral["months"]) == (
        "杭州云帆科技有限公司",
        "增值税",
        period,
        3,
    )
    assert deferral["due_date"] == due.isoformat()
    assert deferral["requested_until"] == add_months(due, 3).isoformat()
    assert "省级税务机关" in deferral["approval_note"] and deferral["decision_days"] == 20
    assert deferral["submitted_by_masked"] == "陈*" and deferral["submitted_at"].endswith("+08:00")

    retried = _defer(client, headers, "key-1", body)
    assert (retried.status_code, retried.json()) == (201, deferral)
    again = _defer(client, verify(client, CHEN_XIAO), "key-2", body | {"months": 2})
    assert again.status_code == 200
    assert again.json()["deferral_no"] == deferral["deferral_no"] and again.json()["already_open"] is True
    conflict = _defer(client, headers, "key-1", body | {"months": 1})
    assert (conflict.status_code, error_of(conflict)["code"]) == (409, "idempotency_conflict")

    listed = client.get(DEFERRALS, headers=headers).json()["items"]
    assert [item["deferral_no"] for item in listed] == [deferral["deferral_no"]]
    obligations = client.get(f"{BASE}/obligations", params={"credit_code": YUNFAN}, headers=headers).json()
    assert obligations["items"][0]["deferral_no"] == deferral["deferral_no"]
    assert client.get(DEFERRALS, headers=verify(client, WANG_JIANGUO)).json()["items"] == []


def test_more_than_three_months_is_refused_with_the_rule(client):
    response = _defer(client, verify(client, CHEN_XIAO), "k", _deferral_body(client, months=4))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "deferral_too_long"
    assert error["details"]["max_months"] == 3 and "第三十一条" in error["details"]["rule"]
    assert "最长不得超过三个月" in error["message"] and "4个月" in error["message"]
    assert client.get(DEFERRALS, headers=verify(client, CHEN_XIAO)).json()["items"] == []


@pytest.mark.parametrize(
    ("changes", "status", "code"),
    [
        ({"months": 0}, 422, "invalid_field"),
        ({"months": "3"}, 422, "invalid_field"),
        ({"months": 2.5}, 422, "invalid_field"),
        ({"tax": "房产税"}, 422, "unknown_tax"),
        ({"period": "上个月"}, 422, "invalid_field"),
        ({"reason": "无"}, 422, "invalid_reason"),
        ({"period": "2001-01"}, 404, "obligation_not_found"),
        ({"credit_code": LVYUAN}, 404, "company_not_found_or_not_authorised"),
        ({"credit_code": "123"}, 422, "invalid_credit_code"),
    ],
)
def test_deferral_refusals(client, changes, status, code):
    response = _defer(client, verify(client, CHEN_XIAO), "k", _deferral_body(client, **changes))
    assert (response.status_code, error_of(response)["code"]) == (status, code)


def test_filed_and_overdue_periods_cannot_be_deferred(client):
    headers = verify(client, CHEN_XIAO)
    period, _due = _open_period(_today(client))
    filed = _defer(client, headers, "k1", _deferral_body(client, period=_period_before(period, 1)))
    assert (filed.status_code, error_of(filed)["code"]) == (422, "already_filed")
    overdue = _defer(client, headers, "k2", _deferral_body(client, period=_period_before(period, 2)))
    assert (overdue.status_code, error_of(overdue)["code"]) == (422, "deferral_after_deadline")
    assert "届满前" in error_of(overdue)["message"]


def test_someone_elses_company_cannot_be_deferred_or_listed(client):
    headers = verify(client, WANG_JIANGUO)
    not_his = _defer(client, headers, "k1", _deferral_body(client))
    missing = _defer(client, headers, "k2", _deferral_body(client, credit_code=NOBODYS))
    assert not_his.status_code == missing.status_code == 404 and not_his.json() == missing.json()
    listed = client.get(DEFERRALS, params={"credit_code": YUNFAN}, headers=headers)
    assert listed.status_code == 404 and listed.json() == not_his.json()


def test_deferral_needs_an_idempotency_key(client):
    response = client.post(DEFERRALS, json=_deferral_body(client), headers=verify(client, CHEN_XIAO))
    assert (response.status_code, error_of(response)["code"]) == (400, "idempotency_key_required")


def test_parallel_duplicates_record_one_deferral(client):
    headers = verify(client, CHEN_XIAO)
    body = _deferral_body(client)
    keys = ["same-key"] * 4 + [f"other-key-{i}" for i in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda key: _defer(client, headers, key, body), keys))
    assert all(response.status_code in (200, 201) for response in responses), [r.text for r in responses]
    assert len({response.json()["deferral_no"] for response in responses}) == 1
    assert len(client.get(DEFERRALS, headers=headers).json()["items"]) == 1


def test_logs_carry_no_names_or_id_numbers(client, caplog):
    caplog.set_level(logging.DEBUG)
    _defer(client, verify(client, CHEN_XIAO), "k", _deferral_body(client))
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("services", "uvicorn")))
    assert "tax deferral YQ" in logged
    assert CHEN_XIAO.name not in logged and CHEN_XIAO.id_number not in logged and CHEN_XIAO.phone not in logged


# --- an existing database ----------------------------------------------------------------------------------------


def test_downgrading_and_upgrading_again_reseeds_the_tax_records(database_url):
    create_app(SandboxSettings(database_url=database_url)).state.engine.dispose()
    engine = create_db_engine(database_url)
    config = alembic_config()
    for target in ("0005", "head"):
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            (command.downgrade if target == "0005" else command.upgrade)(config, target)
    engine.dispose()
    assert query(database_url, "SELECT count(*) FROM tax_obligations") == [(0,)]
    app = create_app(SandboxSettings(database_url=database_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        body = client.get(f"{BASE}/obligations", params={"credit_code": YUNFAN}, headers=verify(client, CHEN_XIAO))
        assert body.status_code == 200 and len(body.json()["items"]) == 8
    app.state.engine.dispose()
    # Starting again adds nothing: the seed is idempotent.
    create_app(SandboxSettings(database_url=database_url)).state.engine.dispose()
    assert query(database_url, "SELECT count(*) FROM tax_obligations") == [(8 + 6 + 3,)]
