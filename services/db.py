"""Engine, sessions and start-up migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.sqlite import switch_to_wal

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_db_engine(database_url: str) -> Engine:
    """An engine for SQLite (file under var/) or PostgreSQL, configured for concurrent requests."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(database_url, pool_pre_ping=True, hide_parameters=True, future=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # FastAPI runs sync endpoints in a thread pool; a generous busy timeout makes concurrent writers wait
    # for the file lock instead of failing with "database is locked".
    # hide_parameters: database error texts must not carry personal data into logs.
    engine = create_engine(
        database_url,
        connect_args={"check_same_thread": False, "timeout": 30},
        hide_parameters=True,
        future=True,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    switch_to_wal(cursor)  # sandbox processes opening a new file together (bot/sqlite.py says why)
    cursor.close()


def create_session_factory(engine: Engine) -> sessionmaker:
    # expire_on_commit=False: responses are built from objects after the commit.
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """A session that commits on success and always closes."""
    session: Session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def run_migrations(engine: Engine) -> None:
    """`alembic upgrade head` on the given engine (the URL is never put into a config string)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
