"""Alembic environment: uses the connection handed over by services.db.run_migrations, or the URL in
SERVICES_DATABASE_URL when run from the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from bot.settings import SandboxSettings
from services.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(SandboxSettings.from_env().database_url)
    with engine.connect() as fresh:
        _run(fresh)


run_migrations_online()
