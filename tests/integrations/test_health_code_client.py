"""The health-code client against the real sandbox.

The module has a sandbox of its own: its tests move the sandbox clock and change the seed personas' codes, which
must not leak into other tests of the session.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from bot.settings import SandboxSettings
from integrations.services import HealthCodeClient, ServiceClientSettings, ServiceRejected, idempotency_key
from integrations.services.health_code import Appeal, CheckInResult, HealthCode
from tests.integrations.test_clients import verified
from tests.services.conftest import serving


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("health_code") / "services.db"
    with serving(SandboxSettings(database_url=f"sqlite:///{database}")) as url:
        yield url


@pytest.fixture
def config(own_sandbox: str) -> ServiceClientSettings:
    return ServiceClientSettings(base_url=own_sandbox)


def chat_user() -> str:
    return f"rest:{secrets.token_hex(4)}"


async def test_rules_come_from_the_service(config):
    async with HealthCodeClient(config) as client:
        rules = await client.get_rules()
    assert rules.abnormal_temperature == 37.3 and rules.days_to_green == {"yellow": 7, "red": 14}
    assert rules.temperature_range == (34.0, 43.0) and rules.symptoms["fever"] == "发热"
    assert "身份证" in rules.no_smartphone


async def test_lin_yue_checks_in_and_turns_green_when_the_clock_moves(config):
    user = chat_user()
    token = await verified(config, "林悦", "330105199708220039", "13800000002", user)
    async with HealthCodeClient(config) as client:
        code = await client.get_code(token=token, chat_user=user)
        assert isinstance(code, HealthCode)
        assert (code.colour_text, code.streak_text, code.checked_in_today) == ("黄码", "已连续打卡 5/7 天", False)
        today = date.fromisoformat(await client.dev_clock())
        assert code.earliest_green_date == (today + timedelta(days=1)).isoformat()

        key = idempotency_key(user, "health_code_check_in", today.isoformat())
        result = await client.check_in(token=token, chat_user=user, idempotency_key=key, temperature=36.5, symptoms=[])
        assert isinstance(result, CheckInResult)
        assert result.normal and not result.already_checked_in and result.code.streak_text == "已连续打卡 6/7 天"
        retried = await client.check_in(token=token, chat_user=user, idempotency_key=key, temperature=36.5, symptoms=[])
        assert retried == result
        again = await client.check_in(
            token=token, chat_user=user, idempotency_key=key + "-2", temperature=36.6, symptoms=[]
        )
        assert again.already_checked_in and again.code.streak == 6

        tomorrow = await client.dev_advance_clock(1)
        assert tomorrow == (today + timedelta(days=1)).isoformat()
        green = await client.check_in(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "health_code_check_in", tomorrow),
            temperature=36.4, symptoms=[],
        )
    assert green.colour_changed and green.previous_colour == "yellow"
    assert (green.code.colour, green.code.colour_text, green.code.earliest_green_date) == ("green", "绿码", None)


async def test_apply_then_appeal_and_errors(config):
    user = chat_user()
    token = await verified(config, "刘洋", "370202199811110050", "13800000004", user)
    async with HealthCodeClient(config) as client:
        with pytest.raises(ServiceRejected) as missing:
            await client.get_code(token=token, chat_user=user)
        assert missing.value.code == "no_health_code" and missing.value.status == 404
        with pytest.raises(ServiceRejected) as bad:
            await client.apply(
                token=token, chat_user=user, idempotency_key="bad-" + user, symptoms=[], temperature=45,
                key_area_travel=False, contact_with_case=False,
            )
        assert bad.value.code == "invalid_temperature" and bad.value.message.startswith("体温数值不在合理范围")

        key = idempotency_key(user, "health_code_apply", "form-1")
        code = await client.apply(
            token=token, chat_user=user, idempotency_key=key, symptoms=["发热"], temperature=38.1,
            key_area_travel=True, area="武汉", contact_with_case=False,
        )
        assert code.created and not code.already_applied
        assert (code.colour, code.reason_code, code.required_days) == ("red", "fever_with_key_area", 14)
        assert "隔离" in code.what_to_do and code.how_to_turn_green and code.no_smartphone
        later = await client.apply(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "health_code_apply", "form-2"),
            symptoms=[], temperature=36.5, key_area_travel=False, contact_with_case=False,
        )
        assert later.already_applied and not later.created and later.colour == "red"

        appeal = await client.appeal(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "health_code_appeal", "a1"),
            reason="我只是路过武汉站换乘，没有出站。",
        )
        assert isinstance(appeal, Appeal)
        assert (appeal.status, appeal.status_text, appeal.already_open) == ("under_review", "审核中", False)
        second = await client.appeal(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "health_code_appeal", "a2"),
            reason="再次申请",
        )
        assert second.already_open and second.appeal_no == appeal.appeal_no
        listed = await client.list_appeals(token=token, chat_user=user)
    assert [item.appeal_no for item in listed] == [appeal.appeal_no]


async def test_unverified_calls_are_rejected(config):
    async with HealthCodeClient(config) as client:
        with pytest.raises(ServiceRejected) as caught:
            await client.get_code(token="not-a-token", chat_user=chat_user())
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
