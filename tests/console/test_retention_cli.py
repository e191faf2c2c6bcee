"""`python -m console purge`: the retention job deletes what is older than the retention period, and only that."""

from __future__ import annotations

import random
import time

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
