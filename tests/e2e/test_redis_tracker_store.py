"""With REDIS_URL set, conversations live in Redis: a Rasa restart mid-form loses nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

REDIS_URL = "redis://127.0.0.1:6379/11"


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    running = Stack(tmp_path_factory.mktemp("redis-stack"), extra_env={"REDIS_URL": REDIS_URL})
    try:
        yield running.start()
    finally:
        running.stop_all()
        client.flushdb()


def test_form_continues_after_rasa_restart(redis_stack: Stack) -> None:
    chat = redis_stack.chat()
    chat.say("我要申请租房补贴")
    chat.say("陈晓")
    chat.say("330106199503140023")
    assert "手机号码" in chat.text, chat.text

    client = redis.Redis.from_url(REDIS_URL)
    key = next(iter(client.scan_iter(f"*{chat.sender}*")))
    assert 0 < client.ttl(key) <= 24 * 3600  # the tracker expires
    assert not (redis_stack.var_dir / "tracker.db").exists()  # not the SQLite default

    redis_stack.stop("rasa")
    redis_stack.start_rasa()

    chat.say("13800000001")
    assert "验证码已发送" in chat.text, chat.text  # the form went on where it was
    assert chat.slot("person_name") == "陈晓"
