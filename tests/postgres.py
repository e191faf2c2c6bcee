"""Throw-away databases on the local PostgreSQL for tests and benchmarks."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class PostgresUnavailable(RuntimeError):
    pass


@contextlib.contextmanager
def postgres_database(prefix: str = "govbot_test") -> Iterator[str]:
    """A fresh database `<prefix>_<random>`, dropped afterwards; yields its URL."""
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as error:
        admin.dispose()
        raise PostgresUnavailable(f"local PostgreSQL not reachable: {error}") from error
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        drop_database(admin, name)
        admin.dispose()


def drop_database(admin: sa.engine.Engine, name: str) -> None:
    with admin.connect() as connection:
        connection.execute(
            sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name}
        )
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))


@contextlib.contextmanager
def postgres_or_skip(prefix: str) -> Iterator[str]:
    """`postgres_database` for a pytest fixture: the test is skipped when PostgreSQL is not running."""
    try:
        with postgres_database(prefix) as url:
            yield url
    except PostgresUnavailable as error:
        pytest.skip(str(error))
