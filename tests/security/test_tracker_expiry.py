"""Hole 9 (first part): the default SQLite tracker store kept raw names, ID numbers and identity tokens forever.

The README said trackers expire; only the Redis store did. The SQLite store now expires a conversation
TRACKER_TTL_SECONDS after its newest event, like Redis: an expired conversation is gone when it is next read,
and `purge_expired_trackers` (run by `python -m console purge` and by an hourly sweep) deletes all of them.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.settings import ROOT, Settings
from bot.stores import ConfiguredTrackerStore
from bot.tracker_stores import FastSQLTrackerStore, purge_expired_trackers

ID_NUMBER = "330106199503140023"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


async def citizen_says(store: FastSQLTrackerStore, sender: str, at: float) -> None:
    """A conversation whose events all happened at `at`."""
    tracker = await store.retrieve(sender) or DialogueStateTracker(sender, store.domain.slots)
    tracker.update_with_events([UserUttered(f"我的身份证号是{ID_NUMBER}", timestamp=at),
                                SlotSet("identity_token", "live-token", timestamp=at)],
                               domain=None, override_timestamp=False)
    await store.save(tracker)


def stored_texts(db: Path) -> str:
    with sqlite3.connect(db) as connection:
        return "".join(row[0] for row in connection.execute("SELECT data FROM events"))


def test_the_embedded_store_is_configured_to_expire(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    domain: Domain) -> None:
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_TTL_SECONDS", "600")
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = ConfiguredTrackerStore(domain)
    assert isinstance(store, FastSQLTrackerStore) and store.record_exp == 600


async def test_an_expired_conversation_is_not_handed_out_and_is_deleted(tmp_path: Path, domain: Domain) -> None:
    db = tmp_path / "tracker.db"
    store = FastSQLTrackerStore(domain=domain, dialect="sqlite", db=str(db), record_exp=3600)
    await citizen_says(store, "web:stale", time.time() - 7200)
    await citizen_says(store, "web:fresh", time.time())
    assert ID_NUMBER in stored_texts(db)

    assert await store.retrieve("web:stale") is None
    assert await store.retrieve_full_tracker("web:stale") is None
    fresh = await store.retrieve("web:fresh")
    assert fresh is not None and fresh.get_slot("identity_token") == "live-token"
    with sqlite3.connect(db) as connection:
        senders = {row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")}
    assert senders == {"web:fresh"}


async def test_the_purge_removes_every_expired_conversation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          domain: Domain) -> None:
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("TRACKER_TTL_SECONDS", "3600")
    monkeypatch.delenv("REDIS_URL", raising=False)
    store = FastSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "tracker.db"), record_exp=3600)
    for index in range(3):
        await citizen_says(store, f"wechat:old-{index}", time.time() - 86400)
    await citizen_says(store, "wechat:recent", time.time() - 60)

    assert purge_expired_trackers(Settings.from_env()) == 3
    assert purge_expired_trackers(Settings.from_env()) == 0
    assert ID_NUMBER in stored_texts(tmp_path / "tracker.db")  # the recent one is still there
    assert (await store.retrieve("wechat:recent")) is not None
