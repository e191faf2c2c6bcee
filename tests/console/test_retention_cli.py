"""`python -m console purge`: the retention job deletes what is older than the retention period, and only that."""

from __future__ import annotations

import random
import sqlite3
import time

import pytest
import sqlalchemy as sa

from bot.conversation_log import ConversationEvent, ConversationSender
from console.db import init_db, make_engine
from tests.console import seed
from tests.console.test_auth_cli import cli

DAY = 86400.0


def test_purge_deletes_old_conversations_with_their_sealed_ids_and_keeps_recent_ones(console_db_url: str) -> None:
    rng = random.Random(5)
    now = time.time()
    old = seed.handoff(rng, now - 200 * DAY, "webchat")
    recent = seed.entry_control_query(rng, now - 10 * DAY, "wechat")
    seed.seed_via_broker(console_db_url, [old, recent])  # the real broker: events and sealed sender ids
    engine = make_engine(console_db_url)
    init_db(engine)

    done = cli(console_db_url, "purge", "--days", "180")
    assert done.returncode == 0, done.stderr
    assert f"已删除 {len(old.events)} 条会话事件" in done.stdout

    with engine.connect() as connection:
        senders = {row[0] for row in connection.execute(sa.select(ConversationEvent.sender_id).distinct())}
        sealed = {row[0] for row in connection.execute(sa.select(ConversationSender.sender_hash))}
    assert senders == {recent.sender_hash}
    assert sealed == {recent.sender_hash}  # nobody can reach the old citizen any more


def test_purge_also_deletes_expired_trackers_of_the_embedded_store(
    console_db_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The live trackers hold what citizens typed, raw: the daily purge removes the expired ones too."""
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(var_dir))
    monkeypatch.setenv("TRACKER_TTL_SECONDS", "3600")
    monkeypatch.delenv("REDIS_URL", raising=False)
    now = time.time()
    with sqlite3.connect(var_dir / "tracker.db") as connection:  # Rasa's SQLTrackerStore table
        connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), "
                           "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                           "action_name VARCHAR(255), data TEXT)")
        rows = [("web:stale", now - 7200, '{"text": "我的身份证号是330106199503140023"}'),
                ("web:stale", now - 7000, '{"event": "slot", "name": "identity_token"}'),
                ("web:fresh", now - 60, '{"text": "你好"}')]
        connection.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                               rows)

    done = cli(console_db_url, "purge", "--days", "180")
    assert done.returncode == 0, done.stderr
    assert "1 个过期的实时会话" in done.stdout
    with sqlite3.connect(var_dir / "tracker.db") as connection:
        left = {row[0] for row in connection.execute("SELECT DISTINCT sender_id FROM events")}
    assert left == {"web:fresh"}
