"""How the Telegram channel sends a reply (UpdateHandler.send) when the Bot API fails: what is retried and how long
it waits (integrations/retry.py's policy), against a stand-in Bot whose answers the test scripts."""

from __future__ import annotations

import logging
import time

import pytest
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from integrations.channels.common import RateLimit
from integrations.channels.state import MemoryChannelState
from integrations.channels.telegram.handler import SEND_ATTEMPTS, UpdateHandler
from integrations.channels.telegram.render import Outgoing

CHAT = 3_141_592_653


class ScriptedBot:
    """sendMessage answers with the scripted failures in turn, then succeeds; every call is recorded."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.calls: list[tuple[float, str]] = []

    async def send_message(self, chat_id: int, text: str, reply_markup: object = None) -> None:
        self.calls.append((time.monotonic(), text))
        if self.failures:
            raise self.failures.pop(0)


async def send(bot: ScriptedBot, *texts: str) -> None:
    async def no_turns(_message: object) -> None:
        raise AssertionError("no turn runs here")

    handler = UpdateHandler(bot, MemoryChannelState(), no_turns, RateLimit(20, 60))  # type: ignore[arg-type]
    await handler.send(CHAT, [Outgoing(text) for text in texts])


def sent(bot: ScriptedBot) -> list[str]:
    return [text for _, text in bot.calls]


async def test_flood_control_is_waited_out_as_long_as_telegram_asks() -> None:
    bot = ScriptedBot(RetryAfter(1))
    await send(bot, "您好")
    (first, _), (second, _) = bot.calls
    assert sent(bot) == ["您好", "您好"]
    # asyncio may wake a sleep up to its clock resolution early (seen: 0.99999 s for 1 s)
    assert 0.95 <= second - first < 1.5


async def test_a_message_that_never_left_is_sent_again() -> None:
    bot = ScriptedBot(NetworkError("Connection reset by peer"))
    await send(bot, "第一条", "第二条")
    assert sent(bot) == ["第一条", "第一条", "第二条"]


@pytest.mark.parametrize("failure", [TimedOut(), BadRequest("Bad Request: message text is empty")])
async def test_a_send_that_may_have_arrived_or_will_fail_again_is_not_repeated(failure: Exception) -> None:
    bot = ScriptedBot(failure)
    await send(bot, "第一条", "第二条")
    assert sent(bot) == ["第一条", "第二条"], "not repeated, and the rest of the reply still goes out"


async def test_a_blocked_chat_gets_nothing_more() -> None:
    bot = ScriptedBot(Forbidden("Forbidden: bot was blocked by the user"))
    await send(bot, "第一条", "第二条")
    assert sent(bot) == ["第一条"]


async def test_the_attempts_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    bot = ScriptedBot(*[RetryAfter(0)] * (SEND_ATTEMPTS + 1))
    with caplog.at_level(logging.WARNING, logger="integrations.channels.telegram.handler"):
        await send(bot, "第一条", "第二条")
    assert sent(bot) == ["第一条"] * SEND_ATTEMPTS + ["第二条"] * 2, "the next message is still tried"
    assert caplog.text.count("gave up after 3 attempts") == 1 and str(CHAT) not in caplog.text
