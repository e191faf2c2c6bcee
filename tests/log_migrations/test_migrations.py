"""The versioned schema of the conversation log's database (bot/log_migrations), on SQLite and PostgreSQL.

legacy_schema_*.sql are the statements `create_all` ran before migrations existed (console.db.init_db then, captured
from it): they stand for every database already out there.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

import bot.cli
from bot.conversation_log import Base as LogBase
from bot.conversation_log import MaskingSQLEventBroker
from bot.log_migrations import (
    MIGRATE_COMMAND,
    SchemaNotReady,
    head,
    include_object,
    migrate_database,
    schema_metadata,
    upgrade,
)
from bot.log_migrations.baseline import baseline_metadata
from bot.sealing import seal
from bot.settings import ConsoleSettings, Settings
from bot.sqlite import create_engine
from console.app import create_app
from console.index import Conversation, latest_conversation
from console.projection import refresh
from console.review import add_tag, correct_message, flag_message
from console.sessions import start_session
from console.takeover import WAITING, Handoff, queue
from console.users import AuditEntry, LoginFailure, create_user
from tests.console import seed
from tests.console.conftest import post_login
from tests.postgres import postgres_or_skip

# PostgreSQL's GIN index on an expression: SQLAlchemy cannot reflect it (and says so); schema_of reads pg_indexes.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")

HERE = Path(__file__).parent
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOVBOT_ENV", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'conversation_log.db'}"
        return
    with postgres_or_skip("govbot_migrations_test") as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.engine.Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def create_legacy_schema(engine: sa.engine.Engine) -> None:
    """What today's create_all made, statement for statement."""
    sql = (HERE / f"legacy_schema_{engine.dialect.name}.sql").read_text(encoding="utf-8")
    with engine.begin() as connection:
        for statement in sql.split(";\n\n"):
            connection.exec_driver_sql(statement.strip().rstrip(";"))


def schema_of(engine: sa.engine.Engine) -> dict[str, Any]:
    """Everything the database says about its tables: columns (types, nullability, defaults such as SERIAL), keys,
    indexes, foreign keys; and the objects reflection does not cover (SQLite's FTS table and triggers, PostgreSQL's
    index definitions, the GIN index included)."""
    inspector = sa.inspect(engine)
    tables: dict[str, Any] = {}
    for name in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        tables[name] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in
                        inspector.get_columns(name)],
            "primary_key": inspector.get_pk_constraint(name)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in
                              inspector.get_indexes(name)),
            "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
            "foreign_keys": sorted((tuple(f["constrained_columns"]), f["referred_table"], f["options"].get("ondelete"))
                                   for f in inspector.get_foreign_keys(name)),
        }
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            extra = connection.execute(sa.text(
                "SELECT type, name, sql FROM sqlite_master WHERE type = 'trigger' OR sql LIKE 'CREATE VIRTUAL%'"
            )).all()
        else:
            extra = connection.execute(sa.text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )).all()
    return {"tables": tables, "extra": sorted(tuple(row) for row in extra)}


def drift(engine: sa.engine.Engine) -> list[Any]:
    """Alembic's autogenerate comparison of the database with the models: empty when they agree."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": include_object, "compare_type": True}
        )
        return compare_metadata(context, schema_metadata())


# Columns later revisions add (NULL in the rows they find): left out when old and new rows are compared.
LATER_COLUMNS = {"conversation_events": {"event_key"}}  # 0003


def all_rows(engine: sa.engine.Engine) -> dict[str, list[tuple]]:
    metadata = sa.MetaData()
    metadata.reflect(engine)

    def columns(name: str, table: sa.Table) -> list[sa.Column]:
        return [column for column in table.columns if column.name not in LATER_COLUMNS.get(name, set())]

    with engine.connect() as connection:
        return {
            name: sorted(tuple(row) for row in connection.execute(sa.select(*columns(name, table))))
            for name, table in metadata.tables.items()
            if name != "alembic_version" and not name.startswith("console_search_fts")  # FTS internals
        }


# --- the schema itself ------------------------------------------------------------------------------------


@pytest.fixture
def second_engine(database_url: str, tmp_path: Path) -> Iterator[sa.engine.Engine]:
    """Another empty database of the same kind."""
    if database_url.startswith("sqlite"):
        engine = create_engine(f"sqlite:///{tmp_path / 'second.db'}")
        yield engine
        engine.dispose()
        return
    with postgres_or_skip("govbot_migrations_test") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def test_revision_0001_is_exactly_what_create_all_made(engine, second_engine) -> None:
    upgrade(engine, "0001")
    create_legacy_schema(second_engine)
    assert schema_of(engine) == schema_of(second_engine)


def test_a_fresh_database_at_head_is_what_the_models_declare(engine) -> None:
    migrated = upgrade(engine)
    assert migrated.after == head() and migrated.before.current is None
    assert drift(engine) == []
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head()
    assert str(upgrade(engine)).endswith(f"already at revision {head()}")  # a second run changes nothing


# --- a database made before migrations ---------------------------------------------------------------------


class Legacy:
    """A database as today's code leaves it: every table with rows, through the console's own functions where they
    exist. The takeover queue's old cursor lags behind the index's: one request was never queued."""

    def __init__(self, engine: sa.engine.Engine) -> None:
        now, rng = time.time(), random.Random(3)
        self.done = seed.rent_subsidy_completed(rng, now - 3600, "webchat")
        self.waiting = seed.handoff(rng, now - 1800, "wechat")
        self.missed = seed.handoff(rng, now - 600, "telegram")
        conversations = (self.done, self.waiting, self.missed)
        create_legacy_schema(engine)
        seed.write_conversations(engine, conversations)
        with engine.begin() as connection:
            connection.execute(LogBase.metadata.tables["conversation_senders"].insert(), [
                {"sender_hash": c.sender_hash, "sealed_sender_id": seal(c.sender), "channel": c.channel,
                 "first_seen": c.events[0]["timestamp"]} for c in conversations
            ])
        with Session(engine) as db:
            refresh(db)
            self._review_and_users(db, now)
            db.commit()
        with engine.begin() as connection:
            self._as_before_migrations(connection, now)

    def _review_and_users(self, db: Session, now: float) -> None:
        conversation = latest_conversation(db, self.done.sender_hash)
        self.done_id = conversation.id
        add_tag(db, conversation.id, "政策咨询", "lina")
        user_event = db.execute(sa.text(
            "SELECT id, data FROM conversation_events WHERE sender_id = :s AND type_name = 'user' ORDER BY id LIMIT 1"
        ), {"s": self.done.sender_hash}).first()
        flag_message(db, conversation, user_event.id, "回答不完整", "lina")
        text = json.loads(user_event.data)["text"]
        correct_message(db, conversation, user_event.id, "rent_subsidy_apply", text, "lina")
        user = create_user(db, "lina", PASSWORD, "admin")
        db.flush()
        start_session(db, user, hours=8, now=now)
        db.add(LoginFailure(username="lina", client="c0ffee", at=now - 60))
        db.add(AuditEntry(at=now - 30, user_id=user.id, username="lina", action="view", target=str(conversation.id)))

    def _as_before_migrations(self, connection: sa.engine.Connection, now: float) -> None:
        """The old cursor rows; the missed request un-queued, as if the old sync had stopped before it."""
        newest = connection.execute(sa.text("SELECT max(id) FROM conversation_events")).scalar()
        connection.execute(sa.text("UPDATE console_index_state SET key = 'conversation_index'"))
        connection.execute(sa.text("INSERT INTO console_index_gaps (event_id, seen_at) VALUES (:i, :t)"),
                           {"i": newest + 7, "t": now})
        missed = connection.execute(sa.text("SELECT id FROM handoffs WHERE sender_hash = :s"),
                                    {"s": self.missed.sender_hash}).scalar()
        connection.execute(sa.text("DELETE FROM handoff_requests WHERE handoff_id = :h"), {"h": missed})
        connection.execute(sa.text("DELETE FROM handoffs WHERE id = :h"), {"h": missed})
        synced = connection.execute(sa.text("SELECT max(event_id) FROM handoff_requests")).scalar()
        connection.execute(sa.text("INSERT INTO handoff_sync (id, last_event_id) VALUES (1, :i)"), {"i": synced})


def test_a_database_made_before_migrations_keeps_every_row(database_url: str, engine) -> None:
    legacy = Legacy(engine)
    before = all_rows(engine)
    assert all(before[name] for name in before), [name for name in before if not before[name]]  # rows everywhere

    migrated = migrate_database(database_url)
    assert "recognised" in str(migrated) and migrated.after == head()
    assert drift(engine) == []
    after = all_rows(engine)
    assert set(before) - set(after) == {"handoff_sync"}  # the old takeover cursor is gone ...
    assert not any(after[name] for name in set(after) - set(before))  # later revisions' tables start empty
    for name in after.keys() & before.keys() - {"console_index_state"}:
        assert after[name] == before[name], name
    cursor = dict((key, last) for key, last, _ in after["console_index_state"])
    (index_cursor,) = [last for key, last, _ in before["console_index_state"]]
    assert cursor["conversation_log"] == index_cursor  # ... the index's is the reader's, not read again
    assert "handoff_catch_up" in cursor  # ... and the requests it had not reached are read once more

    _readable_by_the_console(database_url, legacy)


def _readable_by_the_console(database_url: str, legacy: Legacy) -> None:
    settings = replace(ConsoleSettings.from_env(), database_url=database_url, cookie_secure=False)
    app = create_app(settings, run_jobs=False)
    with app.state.session_factory() as db:
        events_before = db.get(Conversation, legacy.done_id).events
        refresh(db)  # the console's first round after the upgrade
        assert db.get(Conversation, legacy.done_id).events == events_before  # nothing indexed twice
        waiting = {h.sender_hash for h in queue(db) if h.status == WAITING}
        assert waiting == {legacy.waiting.sender_hash, legacy.missed.sender_hash}  # the missed request is queued
        assert db.query(Handoff).count() == 2
    with TestClient(app, follow_redirects=False) as client:
        assert post_login(client, "lina", PASSWORD).status_code == 303  # the old account and password
        listed = client.get("/conversations?q=租房补贴")  # the full-text index came through
        assert f"/conversations/{legacy.done_id}" in listed.text
        page = client.get(f"/conversations/{legacy.done_id}").text
        assert "政策咨询" in page and "回答不完整" in page
        assert "微信公众号" in client.get("/takeover").text
    app.state.engine.dispose()


def test_a_log_whose_console_never_ran_gets_the_console_tables(engine, database_url: str) -> None:
    baseline = baseline_metadata()  # what the event broker alone made before migrations
    log_tables = [baseline.tables[name] for name in ("conversation_events", "conversation_senders")]
    baseline.create_all(engine, tables=log_tables)
    seed.write_conversations(engine, [seed.small_talk(random.Random(1), time.time() - 60, "rest")])
    rows = all_rows(engine)["conversation_events"]
    migrate_database(database_url)
    assert drift(engine) == []
    assert all_rows(engine)["conversation_events"] == rows


def test_tables_of_an_older_release_are_refused_not_stamped(engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE conversation_senders (sender_hash VARCHAR(64) PRIMARY KEY)")
    with pytest.raises(SchemaNotReady, match="sealed_sender_id"):
        upgrade(engine)
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is None


# --- who migrates ------------------------------------------------------------------------------------------


def test_production_processes_refuse_an_unmigrated_database_and_name_the_command(
    monkeypatch: pytest.MonkeyPatch, database_url: str, engine
) -> None:
    monkeypatch.setenv("GOVBOT_ENV", "production")
    with pytest.raises(SchemaNotReady, match=MIGRATE_COMMAND):
        MaskingSQLEventBroker(database_url)
    settings = replace(ConsoleSettings.from_env(), database_url=database_url, cookie_secure=False)
    with pytest.raises(SchemaNotReady, match=MIGRATE_COMMAND):
        create_app(settings, run_jobs=False)
    assert sa.inspect(engine).get_table_names() == []  # refused, not half-done

    monkeypatch.setenv("DATABASE_URL", database_url)
    bot.cli.main(["migrate"])
    broker = MaskingSQLEventBroker(database_url)  # now it starts
    broker.engine.dispose()


def test_development_processes_migrate_by_themselves(engine, database_url: str) -> None:
    broker = MaskingSQLEventBroker(database_url)
    broker.engine.dispose()
    assert drift(engine) == []


def test_a_database_of_a_newer_release_is_refused(engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaNotReady, match="9999"):
        MaskingSQLEventBroker(str(engine.url))


def test_processes_starting_together_migrate_one_after_the_other(database_url: str, engine) -> None:
    results: list[Any] = []

    def start() -> None:
        other = create_engine(database_url)
        try:
            results.append(str(upgrade(other)))
        except Exception as error:  # noqa: BLE001 - the assertion below shows it
            results.append(error)
        finally:
            other.dispose()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(type(r).__name__ for r in results) == ["str"] * 3, results
    assert sum("empty ->" in r for r in results) == 1  # one did the work, the others found it done
    assert drift(engine) == []


def test_make_run_migrates_before_anything_starts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'conversation_log.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setattr(bot.cli, "train", lambda: None)
    started: list[str | None] = []

    def exec_instead(*_args: Any) -> None:
        engine = create_engine(url)
        with engine.connect() as connection:
            started.append(MigrationContext.configure(connection).get_current_revision())
        engine.dispose()

    monkeypatch.setattr(bot.cli.os, "execvpe", exec_instead)
    bot.cli.run(Settings.from_env())
    assert started == [head()]  # the processes (honcho) start on a database at the newest revision
