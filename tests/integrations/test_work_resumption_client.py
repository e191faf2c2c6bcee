"""The work-resumption client against the real sandbox: what an action sees."""

from __future__ import annotations

from datetime import timedelta

import pytest

from integrations.services import ServiceRejected, WorkResumptionClient, idempotency_key
from integrations.services.work_resumption import Company, Filing, WorkResumptionRules
from tests.integrations.test_clients import chat_user, verified

WANG_JIANGUO = ("王建国", "330102198805120036", "13800000005")
CHEN_XIAO = ("陈晓", "330106199503140023", "13800000001")
LVYUAN = "91330110MA2K8L6R2R"
XINGGUANG = "91330102MA2J7X4Q84"


async def test_filing_end_to_end_files_once(config):
    user = chat_user()
    token = await verified(config, *WANG_JIANGUO, user)
    async with WorkResumptionClient(config) as client:
        rules = await client.get_rules()
        assert isinstance(rules, WorkResumptionRules)
        assert rules.earliest_planned_date == rules.today + timedelta(days=rules.min_days_ahead)
        assert rules.rooms_needed(120) == 2 and "承诺" in rules.commitment_text
        company = await client.check_company(token=token, chat_user=user, credit_code=LVYUAN)
        assert isinstance(company, Company)
        assert (company.name, company.role_text, company.may_file) == ("杭州绿源食品有限公司", "法定代表人", True)
        assert company.review_level.code == "district"

        # A date of its own: the sandbox is shared by the whole test session.
        planned = rules.earliest_planned_date + timedelta(days=20)
        numbers = {"returning_staff": 120, "key_area_staff": 3, "supplies_days": 5, "isolation_rooms": 2}
        with pytest.raises(ServiceRejected) as early:
            await client.file(
                token=token,
                chat_user=user,
                idempotency_key="early-" + user,
                credit_code=LVYUAN,
                planned_date=rules.today,
                **numbers,
            )
        assert early.value.code == "planned_date_too_early" and early.value.status == 422
        assert early.value.details["earliest_planned_date"] == rules.earliest_planned_date.isoformat()

        key = idempotency_key(user, "work_resumption_apply", "form-1")
        filing = await client.file(
            token=token, chat_user=user, idempotency_key=key, credit_code=LVYUAN, planned_date=planned, **numbers
        )
        assert isinstance(filing, Filing)
        assert filing.created and filing.filing_no.startswith("FG") and filing.status_text == "已备案（待审核）"
        assert (filing.planned_date, filing.review_level_code) == (planned, "district")
        assert filing.review_deadline > filing.filed_on
        retried = await client.file(
            token=token, chat_user=user, idempotency_key=key, credit_code=LVYUAN, planned_date=planned, **numbers
        )
        assert retried == filing
        later = await client.file(
            token=token,
            chat_user=user,
            idempotency_key=idempotency_key(user, "work_resumption_apply", "form-2"),
            credit_code=LVYUAN,
            planned_date=planned,
            **numbers,
        )
        assert not later.created and later.filing_no == filing.filing_no
        listed = await client.list_filings(token=token, chat_user=user, credit_code=LVYUAN)
        assert filing.filing_no in [item.filing_no for item in listed]


async def test_negative_list_other_peoples_companies_and_bad_codes_are_rejections(config):
    user = chat_user()
    token = await verified(config, *WANG_JIANGUO, user)
    async with WorkResumptionClient(config) as client:
        ktv = await client.check_company(token=token, chat_user=user, credit_code=XINGGUANG)
        assert not ktv.may_file and ktv.refusal is not None and ktv.refusal.code == "industry_not_allowed"
        rules = await client.get_rules()
        with pytest.raises(ServiceRejected) as refused:
            await client.file(
                token=token,
                chat_user=user,
                idempotency_key="ktv-" + user,
                credit_code=XINGGUANG,
                planned_date=rules.earliest_planned_date,
                returning_staff=45,
                key_area_staff=0,
                supplies_days=5,
                isolation_rooms=1,
            )
        assert refused.value.code == "industry_not_allowed" and refused.value.details["next_step"]
        with pytest.raises(ServiceRejected) as checksum:
            await client.check_company(token=token, chat_user=user, credit_code=LVYUAN[:-1] + "A")
        assert checksum.value.code == "invalid_credit_code" and checksum.value.details["reason"] == "checksum"

    chen = chat_user()
    chen_token = await verified(config, *CHEN_XIAO, chen)
    async with WorkResumptionClient(config) as client:
        with pytest.raises(ServiceRejected) as not_hers:
            await client.check_company(token=chen_token, chat_user=chen, credit_code=LVYUAN)
        assert not_hers.value.status == 404 and not_hers.value.code == "company_not_found_or_not_authorised"
        # Quoted into one path segment: never another endpoint (here no endpoint at all, not the public rules).
        with pytest.raises(ServiceRejected) as odd_path:
            await client.check_company(token=chen_token, chat_user=chen, credit_code="../rules")
        assert odd_path.value.status == 404 and odd_path.value.code == "not_found"
