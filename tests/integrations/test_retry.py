"""The one retry policy (integrations/retry.py): transient failures are retried with the policy's pauses, any other
failure is raised at once, and the last failure comes out as it is when the policy gives up."""

from __future__ import annotations

import time

import pytest
from tenacity import wait_fixed

from integrations.retry import RetryPolicy


class Busy(Exception):
    """A failure that may pass."""


class Broken(Exception):
    """A failure that would repeat."""


def policy(**overrides) -> RetryPolicy:
    options = {"transient": lambda error: isinstance(error, Busy), "wait": wait_fixed(0.01), "attempts": 3}
    return RetryPolicy(**{**options, **overrides})


class Flaky:
    """Fails with the given failures in turn, then answers "done"; counts its calls."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"

    async def coroutine(self) -> str:
        return self()


async def test_a_transient_failure_is_retried_until_the_call_works() -> None:
    flaky, retries = Flaky(Busy(), Busy()), []
    result = await policy().run_async(flaky.coroutine, lambda e, n, pause: retries.append((type(e), n, pause)))
    assert result == "done" and flaky.calls == 3
    assert retries == [(Busy, 1, 0.01), (Busy, 2, 0.01)]


async def test_an_attempt_may_be_any_callable_returning_an_awaitable() -> None:
    flaky = Flaky(Busy())
    assert await policy().run_async(lambda: flaky.coroutine()) == "done"  # tenacity itself awaits coroutine functions
    assert flaky.calls == 2


async def test_any_other_failure_is_raised_at_once() -> None:
    flaky = Flaky(Busy(), Broken("bad request"))
    with pytest.raises(Broken, match="bad request"):
        await policy().run_async(flaky.coroutine)
    assert flaky.calls == 2


async def test_the_last_failure_is_raised_as_it_is_when_the_attempts_are_used_up() -> None:
    flaky = Flaky(Busy("1"), Busy("2"), Busy("3"), Busy("4"))
    with pytest.raises(Busy, match="3"):
        await policy().run_async(flaky.coroutine)
    assert flaky.calls == 3


def test_blocking_calls_follow_the_same_policy() -> None:
    never_retried, gives_up = Flaky(Broken()), Flaky(*[Busy()] * 5)
    with pytest.raises(Broken):
        policy().run(never_retried)
    with pytest.raises(Busy):
        policy(attempts=2).run(gives_up)
    assert (never_retried.calls, gives_up.calls) == (1, 2)
    assert policy().run(Flaky(Busy())) == "done"


async def test_no_pause_ends_past_the_deadline() -> None:
    flaky = Flaky(*[Busy()] * 10)
    started = time.monotonic()
    with pytest.raises(Busy):
        await policy(attempts=10, wait=wait_fixed(0.3), deadline=0.5).run_async(flaky.coroutine)
    assert flaky.calls == 2  # a third attempt would start 0.6 s after the first
    assert time.monotonic() - started < 0.5


async def test_without_a_limit_it_goes_on_until_the_call_works() -> None:
    flaky = Flaky(*[Busy()] * 20)
    assert await policy(attempts=None, wait=wait_fixed(0)).run_async(flaky.coroutine) == "done"
    assert flaky.calls == 21
