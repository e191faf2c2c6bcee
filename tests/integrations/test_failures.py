"""When the service is down, slow or failing: a Chinese ServiceUnavailable, retries only when idempotent."""

from __future__ import annotations

import asyncio
import time

import pytest

from integrations.services import (
    ImmigrationClient,
    RentSubsidyClient,
    ServiceClientSettings,
    ServiceUnavailable,
)
from integrations.services.identity import IdentityClient


async def test_service_down_is_reported_in_chinese_quickly(closed_port_url):
    config = ServiceClientSettings(base_url=closed_port_url, backoff=0.05)
    started = time.monotonic()
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            await client.get_country("美国")
    assert time.monotonic() - started < 3
    assert "出入境信息服务暂时无法访问" in caught.value.message
    assert caught.value.reason == "connect_error"


async def test_slow_service_times_out_within_the_configured_time(slow_server):
    config = ServiceClientSettings(base_url=slow_server.url, timeout=0.4, max_retries=0)
    started = time.monotonic()
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            await client.get_port("罗湖")
    assert time.monotonic() - started < 1.5
    assert caught.value.reason == "timeout"


async def test_get_requests_are_retried_with_backoff(failing_server):
    config = ServiceClientSettings(base_url=failing_server.url, max_retries=2, backoff=0.05)
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceUnavailable):
            await client.get_country("美国")
    assert len(failing_server.requests) == 3


async def test_a_server_error_is_not_retried_even_for_a_get(broken_server):
    """A 500 is a bug on the service's side: asking again would only make the citizen wait longer."""
    config = ServiceClientSettings(base_url=broken_server.url, max_retries=2, backoff=0.05)
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            await client.get_country("美国")
    assert len(broken_server.requests) == 1
    assert caught.value.reason == "http_500" and type(caught.value) is ServiceUnavailable


async def test_posts_without_idempotency_key_are_never_retried(failing_server):
    config = ServiceClientSettings(base_url=failing_server.url, max_retries=2, backoff=0.05)
    async with IdentityClient(config) as client:
        with pytest.raises(ServiceUnavailable):
            await client.request_sms_code(name="陈晓", phone="13800000001", chat_user="rest:x")
    assert failing_server.requests == ["POST /api/v1/identity/sms-codes"]


async def test_a_retried_failure_reaches_the_caller_as_a_plain_service_unavailable(failing_server):
    config = ServiceClientSettings(base_url=failing_server.url, max_retries=1, backoff=0.05)
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            await client.get_country("美国")
    assert type(caught.value) is ServiceUnavailable and caught.value.reason == "http_503"


async def test_posts_with_idempotency_key_are_retried(failing_server):
    config = ServiceClientSettings(base_url=failing_server.url, max_retries=2, backoff=0.05)
    async with RentSubsidyClient(config) as client:
        with pytest.raises(ServiceUnavailable) as caught:
            await client.apply(token="t", chat_user="rest:x", idempotency_key="k")
    assert len(failing_server.requests) == 3
    assert "租房补贴服务" in caught.value.message


async def test_retries_stop_at_the_overall_deadline(slow_server):
    config = ServiceClientSettings(base_url=slow_server.url, timeout=0.5, deadline=1.2, max_retries=5, backoff=0.05)
    started = time.monotonic()
    async with ImmigrationClient(config) as client:
        with pytest.raises(ServiceUnavailable):
            await client.get_country("美国")
    assert time.monotonic() - started < 2.0
    assert len(slow_server.requests) <= 3


async def test_waiting_for_a_slow_service_does_not_block_the_event_loop(slow_server):
    config = ServiceClientSettings(base_url=slow_server.url, timeout=0.6, max_retries=0)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.02)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        async with ImmigrationClient(config) as client:
            with pytest.raises(ServiceUnavailable):
                await client.get_country("美国")
    finally:
        task.cancel()
    assert ticks >= 10


def test_config_from_environment():
    config = ServiceClientSettings.from_env(
        {"SERVICES_URL": "http://gov.example:9000/", "SERVICES_TIMEOUT": "3", "SERVICES_MAX_RETRIES": "1"}
    )
    assert config.base_url == "http://gov.example:9000"
    assert (config.timeout, config.connect_timeout, config.max_retries) == (3.0, 2.0, 1)
    assert ServiceClientSettings.from_env({}).base_url == "http://127.0.0.1:8001"
