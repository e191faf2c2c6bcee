"""The progress-notification client against the real sandbox (a module's own: its subscriptions stay here)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.settings import SandboxSettings
from integrations.services import RentSubsidyClient, ServiceClientSettings, ServiceRejected, ServiceUnavailable
from integrations.services.base import idempotency_key
from integrations.services.notifications import NotificationsClient
from tests.e2e.stack import free_port
from tests.integrations.test_clients import chat_user, verified
from tests.services.conftest import serving


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("notifications") / "services.db"
    # Nothing listens at the webhook: events would wait in the outbox (these tests change no state).
    settings = SandboxSettings(database_url=f"sqlite:///{database}",
                               notify_url=f"http://127.0.0.1:{free_port()}/events")
    with serving(settings) as url:
        yield url


@pytest.fixture
def config(own_sandbox: str) -> ServiceClientSettings:
    return ServiceClientSettings(base_url=own_sandbox)


async def test_a_citizen_watches_her_application_once_however_often_she_asks(config) -> None:  # noqa: ANN001
    user = chat_user()
    token = await verified(config, "陈晓", "330106199503140023", "13800000001", user)
    async with RentSubsidyClient(config) as rent:
        number = (await rent.apply(token=token, chat_user=user,
                                   idempotency_key=idempotency_key(user, "rent_subsidy_apply", "1"))).application_no
    async with NotificationsClient(config) as client:
        first = await client.subscribe(token=token, chat_user=user, service="rent_subsidy", reference=number,
                                       subscriber="sealed-one")
        again = await client.subscribe(token=token, chat_user=user, service="rent_subsidy", reference=number,
                                       subscriber="sealed-two")
        assert (first.created, again.created, first.reference) == (True, False, number)
        with pytest.raises(ServiceRejected) as unknown:
            await client.subscribe(token=token, chat_user=user, service="rent_subsidy", reference="ZF0",
                                   subscriber="sealed-one")
        assert unknown.value.code == "subscription_target_not_found" and "办理编号" in unknown.value.message
        with pytest.raises(ServiceRejected) as other_user:  # the token is bound to its own conversation
            await client.subscribe(token=token, chat_user=chat_user(), service="rent_subsidy", reference=number,
                                   subscriber="sealed-one")
        assert other_user.value.status == 401


async def test_a_sandbox_that_is_down_is_unavailable_not_a_crash() -> None:
    down = ServiceClientSettings(base_url=f"http://127.0.0.1:{free_port()}", deadline=1.0, max_retries=1)
    async with NotificationsClient(down) as client:
        with pytest.raises(ServiceUnavailable) as error:
            await client.subscribe(token="t", chat_user="rest:x", service="rent_subsidy", reference="ZF1",
                                   subscriber="s")
    assert error.value.service == "进度提醒服务"
