"""Versioned schema of the conversation log's database: the log's tables and the operator console's beside them.

    python -m bot migrate      bring the database (DATABASE_URL, else the embedded SQLite file) to the newest revision

`python -m bot run` (so `make run`) does it before starting anything; deployers run it once per release, before
starting the Rasa replicas and the console. Revisions live in versions/; write a new one with
`python -m alembic -c bot/log_migrations/alembic.ini revision --autogenerate -m "…"` and check it by hand.

Who migrates at start-up: in development (GOVBOT_ENV unset, as in `make run`, `make test` and the e2e stack) the
event broker and the console bring the database to the newest revision themselves, one process at a time. In
production they only check, and refuse to start with SchemaNotReady, which names the command: a deployer decides
when a shared schema changes, not whichever replica happens to start first while others still run the old release.

A database made before migrations existed (tables created by `create_all`, no alembic_version table) is recognised
by its tables: revision 0001 is exactly that schema, so it keeps those tables and rows, creates only what is missing
(a log whose console never ran has no console tables), is recorded, and later revisions follow.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL, Connection, Engine

from bot.log_migrations.baseline import baseline_metadata
from bot.sqlite import BUSY_TIMEOUT_MS

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent
MIGRATE_COMMAND = "python -m bot migrate"
# pg_advisory_xact_lock key ("govbot" in ASCII): replicas started together migrate one after the other.
MIGRATION_WAIT_MS = 120_000
_LOCK_KEY = 0x676F76626F74
# In the database but not in the models: SQLite's full-text index (a virtual table, its shadow tables and its
# triggers) and PostgreSQL's expression index. The migrations make them; autogenerate must leave them alone.
UNDECLARED_PREFIXES = ("console_search_fts", "ix_console_search_tsv")


class SchemaNotReady(RuntimeError):
    """The database is not at the revision this code needs; the message says what to run."""


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # the revision recorded in alembic_version, None when there is none
    head: str  # the newest revision of this code
    legacy_tables: tuple[str, ...] = ()  # tables of revision 0001 found in a database without alembic_version

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def unknown(self) -> bool:
        """Recorded by code newer than this one (or another project): nothing here can upgrade it."""
        return self.current is not None and self.current not in _known_revisions()

    def explain(self) -> str:
        if self.unknown:
            return (f"The conversation log database is at revision {self.current}, which this code does not know "
                    f"(newest here: {self.head}): is an older release starting against a newer database?")
        if self.current is None and self.legacy_tables:
            found = f"it has the tables of a release before migrations ({len(self.legacy_tables)} found)"
        elif self.current is None:
            found = "it has no tables yet"
        else:
            found = f"it is at revision {self.current}"
        return (f"The conversation log database is not at revision {self.head}: {found}. "
                f"Run `{MIGRATE_COMMAND}` first (数据库结构需要升级：请先运行 {MIGRATE_COMMAND}).")


@dataclass(frozen=True)
class Migrated:
    before: SchemaState
    after: str

    def __str__(self) -> str:
        if self.before.current == self.after:
            return f"conversation log database: already at revision {self.after}"
        if self.before.current is None and self.before.legacy_tables:
            return (f"conversation log database: recognised the tables of a release before migrations, "
                    f"kept them with their rows, and brought it to revision {self.after}")
        return f"conversation log database: {self.before.current or 'empty'} -> revision {self.after}"


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS_DIR))


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(script.revision for script in _scripts().walk_revisions())


def head() -> str:
    return str(_scripts().get_current_head())


def schema_state(connection: Connection) -> SchemaState:
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None:
        return SchemaState(current, head())
    existing = set(sa.inspect(connection).get_table_names())
    return SchemaState(None, head(), tuple(name for name in baseline_metadata().tables if name in existing))


def upgrade(engine: Engine, revision: str = "head") -> Migrated:
    """Migrate to `revision` in one transaction, one process at a time; adopts a database made before migrations."""
    with engine.begin() as connection:
        _one_at_a_time(connection)
        before = schema_state(connection)  # read under the lock: another process may just have migrated
        if before.unknown:
            raise SchemaNotReady(before.explain())
        if before.current is None and before.legacy_tables:
            _check_adoptable(connection, before.legacy_tables)
            logger.info("Adopting a conversation log database made before migrations (%d tables).",
                        len(before.legacy_tables))
        _run(connection, revision)
        after = MigrationContext.configure(connection).get_current_revision()
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # back to a writer's usual wait
    return Migrated(before, str(after))


def migrate_database(url: str | URL) -> Migrated:
    """`python -m bot migrate`: create the database if needed (PostgreSQL), then migrate it to the newest revision."""
    from bot.conversation_log import prepare_database
    from bot.sqlite import create_engine

    prepare_database(url)
    engine = create_engine(url)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def ensure_schema(engine: Engine) -> None:
    """At start-up: migrate in development; in production the database must already be at the newest revision."""
    from bot.settings import is_production

    with engine.connect() as connection:
        state = schema_state(connection)
    if state.up_to_date:
        return
    if is_production() or state.unknown:
        raise SchemaNotReady(state.explain())
    logger.info("%s", upgrade(engine))


def _one_at_a_time(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    elif connection.dialect.name == "sqlite":
        # SQLite's write lock now, for the whole migration (its DDL is transactional): a second process waits
        # and then finds the work done. It may wait longer than a writer usually does: a migration on a slow or
        # busy machine takes seconds.
        connection.exec_driver_sql(f"PRAGMA busy_timeout={MIGRATION_WAIT_MS}")
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _check_adoptable(connection: Connection, tables: Collection[str]) -> None:
    """Adopting is only right when the existing tables are revision 0001's: refuse rather than record a lie."""
    inspector = sa.inspect(connection)
    for name in tables:
        expected = {column.name for column in baseline_metadata().tables[name].columns}
        missing = expected - {column["name"] for column in inspector.get_columns(name)}
        if missing:
            raise SchemaNotReady(
                f"Table {name} lacks the columns {', '.join(sorted(missing))} of the first versioned schema: it was "
                "made by an older release. Upgrade it by hand (or start from an empty database); nothing was changed."
            )


def _run(connection: Connection, revision: str) -> None:
    """What `alembic upgrade` does, on this connection and without env.py (kept for the alembic command line)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = _scripts()

    def steps(current: Any, _context: Any) -> Any:
        return scripts._upgrade_revs(revision, current)

    with EnvironmentContext(config, scripts, fn=steps, destination_rev=revision) as environment:
        environment.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
        with environment.begin_transaction():
            environment.run_migrations()


# --- comparing with the models (autogenerate and the drift test) ------------------------------------------


def schema_metadata() -> sa.MetaData:
    """Every table the models declare: the conversation log's, the console's and the notifier's (imports them)."""
    import console.models  # noqa: F401 - registers every console table
    from bot.conversation_log import Base as LogBase
    from bot.notifier.models import Base as NotifierBase
    from console.db import Base as ConsoleBase

    merged = sa.MetaData()
    for metadata in (LogBase.metadata, ConsoleBase.metadata, NotifierBase.metadata):
        for table in metadata.tables.values():
            table.to_metadata(merged)
    return merged


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate filter: leave the full-text objects the models do not declare (UNDECLARED_PREFIXES) alone."""
    return not (reflected and compare_to is None and (name or "").startswith(UNDECLARED_PREFIXES))
