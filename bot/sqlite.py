"""SQLite tuned for a chat server: connections kept open, write-ahead log, commits without fsync.

SQLAlchemy 1.4 opens and closes a new connection for every session on a SQLite file (NullPool). Closing the
last connection of a WAL database checkpoints and deletes the log, so every turn paid for a checkpoint: the
profile of the Rasa server under load showed connection open/close and commit as its largest cost. A small
pool keeps connections open. With WAL and synchronous=NORMAL a crash of the process loses nothing committed;
only a power cut can lose the last few commits, acceptable for the embedded default (deployments use
PostgreSQL/Redis).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 5000  # a writer waits this long for another one before "database is locked"


def create_engine(url: str | URL, **kwargs: Any) -> sa.engine.Engine:
    """`sqlalchemy.create_engine`, plus pooling and pragmas when the URL is a SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return sa.create_engine(parsed, **kwargs)
    kwargs.setdefault("poolclass", QueuePool)
    kwargs.setdefault("pool_size", 4)
    kwargs.setdefault("connect_args", {"check_same_thread": False})  # the pool hands connections across threads
    engine = sa.create_engine(parsed, **kwargs)
    sa.event.listen(engine, "connect", _pragmas)
    return engine


def _pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def switch_to_wal(cursor: Any) -> None:
    """Switching a new file to WAL can fail at once with "database is locked" while another process switches it
    (SQLite does not call the busy handler there): wait and retry, as a writer would."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
