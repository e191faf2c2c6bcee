"""The one retry policy for calls to systems outside this process (tenacity), used by the government-service clients
(services/base.py), Telegram's sendMessage and getUpdates, and WeChat's customer-service messages.

A policy says which failures are transient (worth another attempt), how long to wait before the next attempt, and
when to give up: after `attempts` attempts, or before a pause that would end past `deadline` seconds after the
first attempt began. Every other failure is raised at once. Whether a call may be repeated at all is the caller's
decision, made when it chooses `transient`: a request that may already have taken effect (a POST without an
Idempotency-Key, a Telegram message whose send timed out) is never retried, or the citizen would get two SMS codes
or the same reply twice.

When the attempts are used up, the last failure is raised as it is (not wrapped), so callers handle it like a
failure of a single attempt.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    stop_never,
)
from tenacity.stop import stop_base

T = TypeVar("T")
Wait = Callable[[RetryCallState], float]  # seconds before the next attempt; tenacity's wait_* objects are ones
OnRetry = Callable[[BaseException, int, float], None]  # (the failure, its attempt number, the pause before the next)


@dataclass(frozen=True)
class RetryPolicy:
    transient: Callable[[BaseException], bool]  # a failure worth another attempt; any other is raised at once
    wait: Wait
    attempts: int | None = None  # the first one included; None: until it works (a poller)
    deadline: float | None = None  # seconds from the first attempt; no pause may end past it

    def _stop(self) -> stop_base:
        stop: stop_base = stop_never if self.attempts is None else stop_after_attempt(self.attempts)
        return stop if self.deadline is None else stop | stop_before_delay(self.deadline)

    def _options(self, on_retry: OnRetry | None) -> dict:
        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None:
                on_retry(state.outcome.exception(), state.attempt_number, state.upcoming_sleep)

        return {"retry": retry_if_exception(self.transient), "wait": self.wait, "stop": self._stop(),
                "before_sleep": before_sleep, "reraise": True}

    async def run_async(self, attempt: Callable[[], Awaitable[T]], on_retry: OnRetry | None = None) -> T:
        """Await `attempt()` until it returns, fails for good, or the policy gives up (the last failure is raised)."""

        # tenacity awaits only coroutine functions: a lambda returning a coroutine would be taken for a blocking call.
        async def awaited() -> T:
            return await attempt()

        return await AsyncRetrying(**self._options(on_retry))(awaited)

    def run(self, attempt: Callable[[], T], on_retry: OnRetry | None = None) -> T:
        """`run_async` for blocking calls (run in a worker thread: the pauses block)."""
        return Retrying(**self._options(on_retry))(attempt)

