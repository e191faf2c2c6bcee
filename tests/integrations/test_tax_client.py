"""The e-tax guidance client against the real sandbox: what an action sees."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from integrations.services import ServiceRejected, TaxClient, idempotency_key
from integrations.services.tax import Deadline, Deferral, Obligations, Surcharge
from tests.integrations.test_clients import chat_user, verified

CHEN_XIAO = ("陈晓", "330106199503140023", "13800000001")
WANG_JIANGUO = ("王建国", "330102198805120036", "13800000005")
YUNFAN = "91330106MA2H3K5P13"
LVYUAN = "91330110MA2K8L6R2R"


async def test_deadlines_and_surcharges_need_no_identity(config):
    async with TaxClient(config) as client:
        october = await client.get_deadline(month="2020-10", tax="增值税")
        assert isinstance(october, Deadline)
        assert (october.deadline, october.extension_days) == (date(2020, 10, 23), 8)
        assert [(move.name, move.days) for move in october.holidays] == [("国庆节", 8)]
        assert october.calendar_covered and "电子税务局" in october.how_to_file.title and october.how_to_file.steps
        spring = await client.get_deadline(month=date(2019, 2, 1))
        assert spring.deadline == date(2019, 2, 22) and spring.period_text == "2019年1月"
        current = await client.get_deadline()
        assert current.month == f"{current.today:%Y-%m}" and current.hotline == "12366"

        worked = await client.surcharge(amount=Decimal("10000"), days=10)
        assert isinstance(worked, Surcharge)
        assert (worked.surcharge, worked.total, worked.daily_rate) == (
            Decimal("50.00"),
            Decimal("10050.00"),
            Decimal("0.0005"),
        )
        assert "10,000.00元 × 0.05% × 10天 = 50.00元" in worked.formula
        dated = await client.surcharge(amount="10000", due_date=date(2020, 10, 23), paid_date=date(2020, 10, 30))
        assert (dated.days, dated.surcharge) == (7, Decimal("35.00"))

        with pytest.raises(ServiceRejected) as negative:
            await client.surcharge(amount="-100", days=3)
        assert (negative.value.status, negative.value.code) == (422, "invalid_amount")
        with pytest.raises(ServiceRejected) as unknown:
            await client.get_deadline(tax="房产税")
        assert unknown.value.code == "unknown_tax" and "增值税" in unknown.value.details["allowed"]


async def test_obligations_and_a_deferral_for_chen_xiao(config):
    user = chat_user()
    token = await verified(config, *CHEN_XIAO, user)
    async with TaxClient(config) as client:
        obligations = await client.list_obligations(token=token, chat_user=user, credit_code=YUNFAN)
        assert isinstance(obligations, Obligations)
        assert obligations.taxpayer.taxpayer_kind_text == "小规模纳税人"
        assert {item.status_text for item in obligations.items} == {"未申报", "已申报", "逾期"}
        overdue = next(item for item in obligations.items if item.status == "overdue" and item.tax == "增值税")
        assert overdue.amount_due == overdue.tax_amount + overdue.surcharge and overdue.overdue_days > 0
        current = obligations.items[0]
        assert current.status == "unfiled" and current.due_date >= obligations.today

        own = await client.list_obligations(token=token, chat_user=user)
        assert own.taxpayer.kind == "individual" and own.items[0].tax == "个人所得税"

        fields = {
            "credit_code": YUNFAN,
            "tax": current.tax,
            "period": current.period,
            "reason": "当期资金不足以缴纳税款",
        }
        with pytest.raises(ServiceRejected) as too_long:
            await client.request_deferral(
                token=token, chat_user=user, idempotency_key="long-" + user, months=4, **fields
            )
        assert too_long.value.code == "deferral_too_long" and too_long.value.details["max_months"] == 3

        key = idempotency_key(user, "tax_deferral", "form-1")
        deferral = await client.request_deferral(token=token, chat_user=user, idempotency_key=key, months=3, **fields)
        assert isinstance(deferral, Deferral)
        # The sandbox is shared by the session: an earlier test run may have made the request already.
        assert deferral.created != deferral.already_open and deferral.status_text == "已受理（待审批）"
        assert deferral.due_date == current.due_date and "省级税务机关" in deferral.approval_note
        retried = await client.request_deferral(token=token, chat_user=user, idempotency_key=key, months=3, **fields)
        assert retried == deferral
        listed = await client.list_deferrals(token=token, chat_user=user, credit_code=YUNFAN)
        assert deferral.deferral_no in [item.deferral_no for item in listed]


async def test_someone_elses_company_is_a_rejection(config):
    user = chat_user()
    token = await verified(config, *WANG_JIANGUO, user)
    async with TaxClient(config) as client:
        with pytest.raises(ServiceRejected) as not_his:
            await client.list_obligations(token=token, chat_user=user, credit_code=YUNFAN)
        assert (not_his.value.status, not_his.value.code) == (404, "company_not_found_or_not_authorised")
        lvyuan = await client.list_obligations(token=token, chat_user=user, credit_code=LVYUAN)
        assert lvyuan.taxpayer.taxpayer_kind_text == "一般纳税人"
