"""The vehicle-transfer client against the real sandbox: what an action sees.

The module has a sandbox of its own: its tests move the sandbox clock and file 黄海's transfer, which must not leak
into other tests of the session.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from bot.settings import SandboxSettings
from integrations.services import ServiceClientSettings, ServiceRejected, VehicleTransferClient, idempotency_key
from integrations.services.vehicle_transfer import Application, TransferRules, VehicleCheck, refusal_reasons
from tests.integrations.test_clients import chat_user, verified
from tests.services.conftest import serving

HUANG_HAI = ("黄海", "45010219920605004X", "13800000003")
LIN_YUE = ("林悦", "330105199708220039", "13800000002")


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("vehicle_transfer") / "services.db"
    with serving(SandboxSettings(database_url=f"sqlite:///{database}")) as url:
        yield url


@pytest.fixture
def config(own_sandbox: str) -> ServiceClientSettings:
    return ServiceClientSettings(base_url=own_sandbox)


def advance(url: str, days: int) -> None:
    """Development sandbox only: move its clock forward."""
    response = httpx.post(f"{url}/dev/clock", json={"advance_days": days}, timeout=5)
    assert response.status_code == 200, response.text


async def test_rules_answer_the_chat_s_questions(config):
    async with VehicleTransferClient(config) as client:
        rules = await client.get_rules()
    assert isinstance(rules, TransferRules)
    assert [stage.time_limit_days for stage in rules.stages] == [None, 2, 1, None, None]
    assert [reason.name for reason in rules.reasons][:3] == ["抵押", "查封", "被盗抢"]
    qingdao = rules.destination("山东省青岛市")
    assert qingdao is not None and qingdao.office == "青岛市公安局交通警察支队车辆管理所"
    assert rules.destination("拉萨") is None
    assert "不用自己带" in rules.faq["paper_file"] and rules.hotline == "12345"


async def test_huang_hai_transfers_his_car_and_the_stages_follow_the_clock(config, own_sandbox):
    user = chat_user()
    token = await verified(config, *HUANG_HAI, user)
    async with VehicleTransferClient(config) as client:
        check = await client.check_vehicle(
            token=token, chat_user=user, plate="桂A12345", vin_tail="123456", destination_city="青岛"
        )
        assert isinstance(check, VehicleCheck)
        assert (check.vehicle_type, check.registered_city, check.may_transfer) == ("小型汽车", "南宁", True)
        assert check.destination is not None and check.open_application is None

        key = idempotency_key(user, "vehicle_transfer_apply", "form-1")
        application = await client.apply(
            token=token, chat_user=user, idempotency_key=key, plate="桂A12345", vin_tail="123456",
            destination_city="青岛",
        )
        assert isinstance(application, Application)
        assert application.created and not application.already_applied
        assert application.application_no.startswith("ZD") and application.stage == "archive_sent"
        assert application.stages[1].due == application.submitted_on + timedelta(days=2)
        retried = await client.apply(
            token=token, chat_user=user, idempotency_key=key, plate="桂A12345", vin_tail="123456",
            destination_city="青岛",
        )
        assert retried == application
        again = await client.apply(
            token=token, chat_user=user, idempotency_key=idempotency_key(user, "vehicle_transfer_apply", "form-2"),
            plate="桂A12345", vin_tail="123456", destination_city="青岛",
        )
        assert again.already_applied and not again.created and again.application_no == application.application_no

        advance(own_sandbox, 2)
        [waiting] = await client.list_applications(token=token, chat_user=user)
    assert waiting.stage == "awaiting_owner" and waiting.today == application.today + timedelta(days=2)
    owner_stage = next(stage for stage in waiting.stages if stage.code == "awaiting_owner")
    assert owner_stage.status == "current" and owner_stage.note is not None
    assert "青岛市公安局交通警察支队车辆管理所" in owner_stage.note and "纸质档案留存在南宁" in owner_stage.note
    assert [stage.status for stage in waiting.stages[:3]] == ["done", "done", "done"]
    assert waiting.stages[1].date == application.submitted_on + timedelta(days=1)


async def test_refusals_and_not_found_are_rejections(config):
    user = chat_user()
    token = await verified(config, *LIN_YUE, user)
    async with VehicleTransferClient(config) as client:
        check = await client.check_vehicle(token=token, chat_user=user, plate="浙A8B9C0", vin_tail="654321")
        assert not check.may_transfer and [(r.code, r.count) for r in check.reasons] == [("violations", 2)]
        with pytest.raises(ServiceRejected) as refused:
            await client.apply(
                token=token, chat_user=user, idempotency_key="refused-" + user, plate="浙A8B9C0",
                vin_tail="654321", destination_city="青岛",
            )
        assert refused.value.code == "vehicle_not_transferable" and refused.value.status == 422
        assert refusal_reasons(refused.value.details) == check.reasons
        with pytest.raises(ServiceRejected) as not_hers:
            await client.check_vehicle(token=token, chat_user=user, plate="桂A12345", vin_tail="123456")
        with pytest.raises(ServiceRejected) as wrong_tail:
            await client.check_vehicle(token=token, chat_user=user, plate="浙A8B9C0", vin_tail="654320")
        assert not_hers.value.code == wrong_tail.value.code == "vehicle_not_found"
        assert not_hers.value.message == wrong_tail.value.message and not_hers.value.status == 404
        with pytest.raises(ServiceRejected) as bad_plate:
            await client.check_vehicle(token=token, chat_user=user, plate="浙A8B9", vin_tail="654321")
        assert bad_plate.value.code == "invalid_plate" and "桂A12345" in bad_plate.value.message
        with pytest.raises(ServiceRejected) as not_served:
            await client.check_vehicle(
                token=token, chat_user=user, plate="浙A8B9C0", vin_tail="654321", destination_city="拉萨"
            )
        assert not_served.value.code == "destination_not_served" and "青岛" in not_served.value.details["served"]


async def test_unverified_calls_are_rejected(config):
    async with VehicleTransferClient(config) as client:
        with pytest.raises(ServiceRejected) as caught:
            await client.list_applications(token="not-a-token", chat_user=chat_user())
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
