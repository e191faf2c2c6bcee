"""Alembic environment for the alembic command line (`alembic -c bot/log_migrations/alembic.ini …`).

The product itself migrates through bot.log_migrations.upgrade, which does not read this file.
"""

from __future__ import annotations

from alembic import context

from bot.conversation_log import resolve_database_url
from bot.log_migrations import include_object, schema_metadata
from bot.sqlite import create_engine


def run_migrations_online() -> None:
    engine = create_engine(resolve_database_url())
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=schema_metadata(),
            include_object=include_object,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
