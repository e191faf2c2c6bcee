"""The typed clients against the real sandbox: what an action sees."""

from __future__ import annotations

import secrets

import httpx
import pytest

from integrations.services import (
    CampusClient,
    IdentityClient,
    ImmigrationClient,
    RentSubsidyClient,
    ServiceRejected,
    idempotency_key,
)
from integrations.services.campus import JobFair, Position
from integrations.services.rent_subsidy import Eligibility, RentSubsidyApplication
from services.idcard import check_digit


def chat_user() -> str:
    return f"rest:{secrets.token_hex(4)}"


async def verified(config, name: str, id_number: str | None, phone: str, user: str) -> str:  # type: ignore[no-untyped-def]
    async with IdentityClient(config) as identity:
        sent = await identity.request_sms_code(name=name, phone=phone, chat_user=user, id_number=id_number)
        assert sent.phone_masked == f"{phone[:3]}****{phone[-4:]}"
        code = await identity.dev_latest_code(phone)
        assert code is not None and len(code) == 6
        result = await identity.verify_code(verification_id=sent.verification_id, code=code)
        return result.token


async def test_rent_subsidy_end_to_end_pays_once(config):
    user = chat_user()
    token = await verified(config, "陈晓", "330106199503140023", "13800000001", user)
    async with RentSubsidyClient(config) as client:
        policy = await client.get_policy()
        assert policy.amounts["本科"] == 800 and "本人承诺" in policy.commitment_text
        eligibility = await client.check_eligibility(token=token, chat_user=user)
        assert isinstance(eligibility, Eligibility)
        assert eligibility.eligible and eligibility.total_amount == 9600
        key = idempotency_key(user, "rent_subsidy_apply", "form-1")
        assert key == idempotency_key(user, "rent_subsidy_apply", "form-1")
        application = await client.apply(token=token, chat_user=user, idempotency_key=key)
        assert isinstance(application, RentSubsidyApplication)
        assert application.created and application.status_text == "已发放"
        retried = await client.apply(token=token, chat_user=user, idempotency_key=key)
        assert retried.application_no == application.application_no
        later = await client.apply(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "rent_subsidy_apply", "form-2")
        )
        assert not later.created and later.application_no == application.application_no
        listed = await client.list_applications(token=token, chat_user=user)
        assert [item.application_no for item in listed] == [application.application_no]


async def test_not_eligible_is_a_rejection_with_reasons(config):
    user = chat_user()
    token = await verified(config, "林悦", "330105199708220039", "13800000002", user)
    async with RentSubsidyClient(config) as client:
        eligibility = await client.check_eligibility(token=token, chat_user=user)
        assert not eligibility.eligible
        assert [reason.code for reason in eligibility.reasons] == ["owns_housing"]
        with pytest.raises(ServiceRejected) as caught:
            await client.apply(token=token, chat_user=user, idempotency_key="k-" + user)
    assert caught.value.code == "not_eligible" and caught.value.status == 422
    assert caught.value.details["reasons"][0]["code"] == "owns_housing"


async def test_wrong_code_and_mismatch_are_rejections_with_chinese_messages(config):
    async with IdentityClient(config) as identity:
        with pytest.raises(ServiceRejected) as mismatch:
            await identity.request_sms_code(
                name="陈晓", id_number="330106199503140023", phone="13900000000", chat_user=chat_user()
            )
        assert mismatch.value.code == "identity_mismatch" and "核对" in mismatch.value.message
        sent = await identity.request_sms_code(name="刘洋", phone="13800000004", chat_user=chat_user())
        assert sent.level == "phone"
        real = await identity.dev_latest_code("13800000004")
        wrong_code = f"{(int(real) + 1) % 1_000_000:06d}"
        with pytest.raises(ServiceRejected) as wrong:
            await identity.verify_code(verification_id=sent.verification_id, code=wrong_code)
        assert wrong.value.code == "wrong_code" and wrong.value.details["attempts_left"] == 4
        assert "验证码不正确" in wrong.value.message


async def test_too_many_failed_checks_are_a_429_rejection_with_a_retry_time(config):
    # Valid but unknown ID numbers and a phone of their own: the shared sandbox's personas are not touched.
    unknown = [f"11010519900307{seq}" for seq in range(900, 906)]
    unknown = [first17 + check_digit(first17) for first17 in unknown]
    async with IdentityClient(config) as identity:

        async def ask(id_number: str) -> ServiceRejected:
            with pytest.raises(ServiceRejected) as caught:
                await identity.request_sms_code(
                    name="某某", id_number=id_number, phone="13912340000", chat_user=chat_user()
                )
            return caught.value

        assert [(await ask(id_number)).code for id_number in unknown[:5]] == ["identity_mismatch"] * 5
        limited = await ask(unknown[5])
    assert limited.status == 429 and limited.code == "identity_check_limited"
    assert limited.details["retry_after"] > 0 and "明天再试" in limited.message


async def test_token_of_another_chat_user_is_refused(config):
    user = chat_user()
    token = await verified(config, "王芳", "330102199001010039", "13800000011", user)
    async with RentSubsidyClient(config) as client:
        with pytest.raises(ServiceRejected) as caught:
            await client.check_eligibility(token=token, chat_user="wechat:intruder")
    assert caught.value.status == 401 and caught.value.code == "unauthorized"


async def test_immigration_lookups(config):
    async with ImmigrationClient(config) as client:
        usa = await client.get_country("US")
        assert usa.country == "美国" and "示例数据" in usa.source
        assert (await client.get_country("美利坚")).country == "美国"
        with pytest.raises(ServiceRejected) as unknown:
            await client.get_country("美过")
        assert unknown.value.code == "unknown_country" and "美国" in unknown.value.suggestions
        port = await client.get_port("浦东机场")
        assert port.port == "上海浦东国际机场口岸" and port.kind == "air"
        suspended = await client.list_ports(passenger_status="suspended")
        assert suspended and all(item.passenger_status == "suspended" for item in suspended)
        assert len(await client.search_countries()) >= 45


async def test_campus_search_and_registration(config):
    user = chat_user()
    async with CampusClient(config) as client:
        page = await client.search_job_fairs(city="杭州")
        assert page.items and isinstance(page.items[0], JobFair)
        assert all(fair.city == "杭州" for fair in page.items)
        online = await client.search_job_fairs(online=True, page_size=2)
        assert online.has_more and all(fair.online for fair in online.items)
        positions = await client.search_positions(city="杭州", major="计算机科学与技术", degree="本科")
        assert positions.items and isinstance(positions.items[0], Position)

        token = await verified(config, "刘洋", None, "13800000004", user)
        form = {
            "name": "刘洋",
            "school": "浙江大学",
            "major": "计算机科学与技术",
            "degree": "本科",
            "graduation_year": 2020,
        }
        key = idempotency_key(user, "fair_registration", "JF0006")
        registration = await client.register(
            "JF0006", token=token, chat_user=user, idempotency_key=key, **form
        )
        assert registration.created and registration.registration_no.startswith("BM")
        repeat = await client.register(
            "JF0006", token=token, chat_user=user, idempotency_key=key + "-again", **form
        )
        assert not repeat.created and repeat.registration_no == registration.registration_no
        with pytest.raises(ServiceRejected) as full:
            await client.register(
                "JF0003", token=token, chat_user=user, idempotency_key=key + "-full", **form
            )
        assert full.value.code == "fair_full"
        mine = await client.list_registrations(token=token, chat_user=user)
        assert registration.registration_no in {item.registration_no for item in mine}


async def test_a_country_just_looked_up_is_not_fetched_again_but_errors_are(config):
    """The entry-control form validates the name and then answers: one request to the service, not two."""
    requests: list[str] = []

    async def count(request):  # type: ignore[no-untyped-def]
        requests.append(request.url.path)

    http = httpx.AsyncClient(base_url=config.base_url, event_hooks={"request": [count]})
    async with ImmigrationClient(config, http=http) as client:
        assert (await client.get_country("日本")).country == "日本"
        assert (await client.get_country("日本")).country == "日本"
        assert (await client.get_port("罗湖")).port == (await client.get_port("罗湖")).port
        for _ in range(2):
            with pytest.raises(ServiceRejected):
                await client.get_country("美过")
    await http.aclose()
    assert len(requests) == 4  # 日本 once, 罗湖 once, the unknown name both times
