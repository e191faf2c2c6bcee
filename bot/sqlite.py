"""SQLite tuned for a chat server: write-ahead log, so readers never wait and a commit costs no fsync.

With WAL and synchronous=NORMAL a crash of the process loses nothing committed; only a power cut can lose
the last few commits, which is acceptable for the embedded default (deployments use PostgreSQL/Redis).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def tune_sqlite(engine: sa.engine.Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @sa.event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
