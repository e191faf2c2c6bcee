"""The console's database: its own tables beside the conversation log (`DATABASE_URL`, SQLite by default).

Every console module declares its tables on `Base`; the schema itself (the log's tables and the console's) is
versioned in bot/log_migrations and changed only by its revisions. `init_db` makes sure the database is at the
newest revision before the console uses it: migrated there in development, checked in production, where
`python -m bot migrate` must have run (bot.log_migrations.SchemaNotReady says so otherwise).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base, sessionmaker

from bot.log_migrations import ensure_schema
from bot.sqlite import create_engine

Base = declarative_base()


def make_engine(url: str) -> sa.engine.Engine:
    return create_engine(url)


def init_db(engine: sa.engine.Engine) -> None:
    ensure_schema(engine)


def insert_ignore(session: Session, table: sa.Table, keys: list[str]) -> Any:
    """INSERT that skips rows whose key is already there (SQLite and PostgreSQL)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert

        return insert(table).on_conflict_do_nothing(index_elements=keys)
    return table.insert().prefix_with("OR IGNORE")


def session_factory(engine: sa.engine.Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
