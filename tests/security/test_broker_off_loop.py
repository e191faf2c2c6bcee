"""One long message must not stall every user: Rasa calls the event broker's publish() on its event loop.

Before the fix publish() masked the event itself, so a 100,000-character message held the loop for minutes while
another user's "你好" waited. Now publish() only queues the raw event and the writer thread masks and stores it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from rasa.shared.core.events import UserUttered

import bot.conversation_log
from bot.conversation_log import MaskingSQLEventBroker

PHONE = "13800000001"
# Quadratic for the old patterns (a label, then a long run of spaces), with personal data after it.
LONG_MESSAGE = "验证码" + " " * 100_000 + f"x，我叫张三，手机{PHONE}"


@pytest.fixture
async def broker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[MaskingSQLEventBroker]:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PII_HASH_SECRET", "test-secret")
    instance = MaskingSQLEventBroker(f"sqlite:///{tmp_path / 'conversation_log.db'}")
    yield instance
    await instance.close()


def _user(sender: str, text: str) -> dict:
    return {"sender_id": sender, **UserUttered(text, intent={"name": "inform", "confidence": 0.9}).as_dict()}


def _timed_publish(broker: MaskingSQLEventBroker, event: dict) -> float:
    started = time.perf_counter()
    broker.publish(event)
    return time.perf_counter() - started


def test_long_message_neither_blocks_publish_nor_other_users(broker: MaskingSQLEventBroker) -> None:
    long_seconds = _timed_publish(broker, _user("rest:alice", LONG_MESSAGE))
    # Bob's publish may wait for the writer thread's GIL for one regex scan (milliseconds), not for the masking.
    other_seconds = _timed_publish(broker, _user("web:bob", "你好"))
    broker.flush(timeout=60)
    stored = broker.iter_events()

    assert long_seconds < 0.1, f"publish took {long_seconds:.3f} s"
    assert other_seconds < 0.5, f"another user's publish took {other_seconds:.3f} s"
    assert [e["text"] for e in stored] == [LONG_MESSAGE.replace("张三", "张*").replace(PHONE, "138****0001"), "你好"]
    assert PHONE not in json.dumps(stored, ensure_ascii=False)


def test_masking_happens_on_the_writer_thread(
    broker: MaskingSQLEventBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    real_mask_event = bot.conversation_log.mask_event

    def recording_mask_event(*args, **kwargs):
        threads.append(threading.current_thread().name)
        return real_mask_event(*args, **kwargs)

    monkeypatch.setattr(bot.conversation_log, "mask_event", recording_mask_event)
    broker.publish(_user("rest:alice", f"手机{PHONE}"))
    broker.flush()
    assert threads == ["conversation-log"]
    assert broker.iter_events()[0]["text"] == "手机138****0001"


def test_an_event_that_cannot_be_masked_is_withheld_and_the_writer_goes_on(
    broker: MaskingSQLEventBroker, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_mask_event = bot.conversation_log.mask_event

    def failing_once(event, *args, **kwargs):
        if "坏" in str(event.get("text")):
            raise ValueError(f"cannot mask {event['text']}")  # an error text that carries the raw data
        return real_mask_event(event, *args, **kwargs)

    monkeypatch.setattr(bot.conversation_log, "mask_event", failing_once)
    with caplog.at_level(logging.ERROR, logger="bot.conversation_log"):
        broker.publish(_user("rest:alice", f"坏消息 {PHONE}"))
        broker.publish(_user("rest:alice", f"手机{PHONE}"))
        broker.flush()
    first, second = broker.iter_events()
    assert first["event"] == "user" and "text" not in first and first["sender_id"].startswith("u_")
    assert second["text"] == "手机138****0001"
    assert PHONE not in caplog.text and "rest:alice" not in caplog.text
