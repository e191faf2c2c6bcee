"""The court client against the real sandbox: what an action sees.

The module has a sandbox of its own: its tests record 陈晓's consent and signature and publish a new agreement
version, which must not leak into other tests of the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from bot.case_numbers import normalise_case_number
from bot.settings import SandboxSettings
from integrations.services import CourtClient, ServiceClientSettings, ServiceRejected, idempotency_key
from integrations.services.court import CourtCase, CourtRules, Hearing, Mediation
from tests.integrations.test_clients import chat_user, verified
from tests.services.conftest import serving

CHEN_XIAO = ("陈晓", "330106199503140023", "13800000001")
HUANG_HAI = ("黄海", "45010219920605004X", "13800000003")
RENTAL = "(2020)浙0106民初1234号"
SHOPPING = "(2020)浙0192民初567号"
LOAN = "(2020)浙0106民初9999号"


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("court") / "services.db"
    with serving(SandboxSettings(database_url=f"sqlite:///{database}")) as url:
        yield url


@pytest.fixture
def config(own_sandbox: str) -> ServiceClientSettings:
    return ServiceClientSettings(base_url=own_sandbox)


def sandbox_now(url: str) -> datetime:
    return datetime.fromisoformat(httpx.get(f"{url}/dev/clock", timeout=5).json()["now"])


def test_case_numbers_are_normalised_for_display():
    assert normalise_case_number("（2020）浙0106民初1234") == RENTAL
    assert normalise_case_number("〔2020〕浙0192民初567号") == SHOPPING
    assert normalise_case_number("我的案子") is None


async def test_rules_answer_the_chat_s_questions(config):
    async with CourtClient(config) as client:
        rules = await client.get_rules()
    assert isinstance(rules, CourtRules)
    assert rules.hotline == "12368" and "法释〔2021〕12号" in rules.faq["online_refusal"]
    assert "第二十二条" in rules.faq["litigation_fee"] and "人脸识别" in rules.identity_recheck
    assert len(rules.faq) == 8 and rules.in_court_note and rules.procuratorate_note


async def test_chen_xiao_consents_and_signs(config, own_sandbox):
    user = chat_user()
    token = await verified(config, *CHEN_XIAO, user)
    now = sandbox_now(own_sandbox)
    async with CourtClient(config) as client:
        shopping, rental = await client.list_cases(token=token, chat_user=user)
        assert isinstance(rental, CourtCase)
        assert (rental.case_number, rental.role, rental.stage, rental.stage_name) == (
            RENTAL, "原告", "hearing_scheduled", "已排期开庭",
        )
        assert rental.other_parties == ("赵**", "杭州安居房产经纪有限公司") and rental.has_hearing
        assert rental.next_date is not None and rental.next_date.utcoffset() == timedelta(hours=8)
        assert rental.next_date.date() == (now + timedelta(days=7)).date() and rental.next_date.hour == 10
        assert shopping.has_mediation and shopping.next_date is None
        assert await client.get_case(token=token, chat_user=user, case_number="〔2020〕浙0106民初1234") == rental

        [hearing] = await client.list_hearings(token=token, chat_user=user)
        assert isinstance(hearing, Hearing)
        assert (hearing.hearing_id, hearing.kind, hearing.mode, hearing.consent) == ("H0001", "court", "pending", None)
        assert hearing.scheduled_at == rental.next_date and hearing.case_number == RENTAL
        key = idempotency_key(user, "court_hearing_consent", "form-1")
        agreed = await client.give_consent(
            token=token, chat_user=user, idempotency_key=key, hearing_id="H0001", agree=True
        )
        assert (agreed.mode, agreed.consent, agreed.already_recorded) == ("online", "agreed", False)
        assert agreed.consent_at is not None and "移动微法院" in agreed.joining_instructions
        assert await client.give_consent(
            token=token, chat_user=user, idempotency_key=key, hearing_id="H0001", agree=True
        ) == agreed
        again = await client.give_consent(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "court_hearing_consent", "form-2"),
            hearing_id="H0001", agree=True,
        )
        assert again.already_recorded and again.consent_at == agreed.consent_at
        with pytest.raises(ServiceRejected) as changed:
            await client.give_consent(
                token=token, chat_user=user, idempotency_key=idempotency_key(user, "court_hearing_consent", "f3"),
                hearing_id="H0001", agree=False,
            )
        assert (changed.value.status, changed.value.code) == (409, "consent_already_recorded")
        assert changed.value.details == {"consent": "agreed"} and "12368" in changed.value.message

        [waiting] = await client.list_mediations(token=token, chat_user=user)
        assert isinstance(waiting, Mediation)
        assert (waiting.case_number, waiting.version, waiting.signed_by_me, waiting.all_signed) == (
            SHOPPING, 1, False, False,
        )
        assert waiting.waiting_for == ("原告陈*",) and waiting.parties[1].signed and waiting.parties[1].signed_at
        assert await client.get_mediation(token=token, chat_user=user, case_number=SHOPPING) == waiting
        key = idempotency_key(user, "mediation_sign", "form-1")
        signed = await client.sign_mediation(
            token=token, chat_user=user, idempotency_key=key, case_number=SHOPPING, version=1
        )
        assert signed.created and not signed.already_signed and signed.all_signed and signed.signed_by_me
        assert signed.my_signed_at is not None and "司法确认" in signed.next_step
        retried = await client.sign_mediation(
            token=token, chat_user=user, idempotency_key=key, case_number=SHOPPING, version=1
        )
        assert retried == signed
        later = await client.sign_mediation(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "mediation_sign", "form-2"),
            case_number=SHOPPING, version=1,
        )
        assert later.already_signed and not later.created and later.my_signed_at == signed.my_signed_at

        published = httpx.post(f"{own_sandbox}/dev/court/mediation-version",
                               json={"case_number": SHOPPING, "text": "调解协议（第二版，示例）"}, timeout=5)
        assert published.status_code == 201, published.text
        with pytest.raises(ServiceRejected) as old_version:
            await client.sign_mediation(
                token=token, chat_user=user, idempotency_key=idempotency_key(user, "mediation_sign", "form-3"),
                case_number=SHOPPING, version=1,
            )
        assert (old_version.value.code, old_version.value.details) == (
            "agreement_version_changed", {"current_version": 2},
        )
        revised = await client.get_mediation(token=token, chat_user=user, case_number=SHOPPING)
        assert (revised.version, revised.voided_versions, revised.signed_by_me) == (2, 1, False)


async def test_huang_hai_refuses_the_video_hearing(config):
    user = chat_user()
    token = await verified(config, *HUANG_HAI, user)
    async with CourtClient(config) as client:
        [hearing] = await client.list_hearings(token=token, chat_user=user)
        assert (hearing.kind, hearing.organ, hearing.case_number) == ("procuratorate", "杭州市西湖区人民检察院", None)
        assert hearing.subject and hearing.scheduled_at.hour == 14 and hearing.scheduled_at.minute == 30
        refused = await client.give_consent(
            token=token, chat_user=user, idempotency_key="refuse-" + user, hearing_id=hearing.hearing_id, agree=False
        )
        assert (refused.mode, refused.consent, refused.joining_instructions) == ("in_person", "refused", "")
        assert await client.list_cases(token=token, chat_user=user) == []


async def test_rejections(config):
    user = chat_user()
    token = await verified(config, *CHEN_XIAO, user)
    async with CourtClient(config) as client:
        with pytest.raises(ServiceRejected) as not_hers:
            await client.get_case(token=token, chat_user=user, case_number=LOAN)
        with pytest.raises(ServiceRejected) as nobodys:
            await client.get_case(token=token, chat_user=user, case_number="(2020)浙0106民初8888号")
        assert not_hers.value.code == nobodys.value.code == "case_not_found" and not_hers.value.status == 404
        assert not_hers.value.message == nobodys.value.message and not_hers.value.details == {}
        with pytest.raises(ServiceRejected) as malformed:
            await client.get_case(token=token, chat_user=user, case_number="1234号")
        assert malformed.value.code == "invalid_case_number" and malformed.value.details["example"] == RENTAL
        with pytest.raises(ServiceRejected) as no_mediation:
            await client.get_mediation(token=token, chat_user=user, case_number=RENTAL)
        assert no_mediation.value.code == "no_mediation"
        with pytest.raises(ServiceRejected) as other_hearing:
            await client.give_consent(token=token, chat_user=user, idempotency_key="k-" + user, hearing_id="H0002",
                                      agree=True)
        assert (other_hearing.value.status, other_hearing.value.code) == (404, "hearing_not_found")
        with pytest.raises(ServiceRejected) as unverified:
            await client.list_cases(token="not-a-token", chat_user=user)
        assert (unverified.value.status, unverified.value.code) == (401, "unauthorized")
