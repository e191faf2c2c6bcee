"""Revision 0001, frozen: the schema `create_all` made before migrations existed, table for table, index for index.

Do not edit to follow the models: change the schema with a new revision. Revision 0001 creates these tables (those
still missing, when it adopts an older database) and the full-text objects below; bot.log_migrations checks a
database it adopts against them.
"""

from __future__ import annotations

import functools

import sqlalchemy as sa

# SQLite: an external-content FTS5 table over console_search_text, kept in step by triggers (the documented pattern).
SQLITE_FULL_TEXT = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS console_search_fts USING fts5(tokens, content='console_search_text', "
    "content_rowid='conversation_id')",
    "CREATE TRIGGER IF NOT EXISTS console_search_ai AFTER INSERT ON console_search_text BEGIN "
    "INSERT INTO console_search_fts(rowid, tokens) VALUES (new.conversation_id, new.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS console_search_ad AFTER DELETE ON console_search_text BEGIN "
    "INSERT INTO console_search_fts(console_search_fts, rowid, tokens) VALUES ('delete', old.conversation_id, "
    "old.tokens); END",
    "CREATE TRIGGER IF NOT EXISTS console_search_au AFTER UPDATE ON console_search_text BEGIN "
    "INSERT INTO console_search_fts(console_search_fts, rowid, tokens) VALUES ('delete', old.conversation_id, "
    "old.tokens); INSERT INTO console_search_fts(rowid, tokens) VALUES (new.conversation_id, new.tokens); END",
)
POSTGRESQL_FULL_TEXT = (
    "CREATE INDEX IF NOT EXISTS ix_console_search_tsv ON console_search_text "
    "USING gin (to_tsvector('simple', tokens))",
)


def _id(name: str = "id") -> sa.Column:
    """A primary key given by the database (SERIAL on PostgreSQL)."""
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=True)


def _key(name: str) -> sa.Column:
    """An integer primary key the application chooses (an event id, a conversation id)."""
    return sa.Column(name, sa.Integer, primary_key=True, autoincrement=False)


def _log_tables(metadata: sa.MetaData) -> None:
    events = sa.Table(
        "conversation_events", metadata,
        _id(),
        sa.Column("sender_id", sa.String(64), index=True),
        sa.Column("type_name", sa.String(64), index=True),
        sa.Column("timestamp", sa.Float, index=True),
        sa.Column("intent_name", sa.String(255), index=True),
        sa.Column("intent_confidence", sa.Float),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )
    sa.Index("ix_conversation_events_sender_time", events.c.sender_id, events.c.timestamp)
    sa.Table(
        "conversation_senders", metadata,
        sa.Column("sender_hash", sa.String(64), primary_key=True),
        sa.Column("sealed_sender_id", sa.Text, nullable=False),
        sa.Column("channel", sa.String(64)),
        sa.Column("first_seen", sa.Float),
    )


def _index_tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "console_index_state", metadata,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.Float),
    )
    sa.Table("console_index_gaps", metadata, _key("event_id"), sa.Column("seen_at", sa.Float, nullable=False))
    flags = ("completed", "fallback", "handoff", "abandoned_form", "service_error")
    conversations = sa.Table(
        "console_conversations", metadata,
        _key("id"),
        sa.Column("sender_id", sa.String(64), nullable=False),
        sa.Column("last_event_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(32)),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("last_at", sa.Float, nullable=False),
        sa.Column("turns", sa.Integer, nullable=False),
        sa.Column("events", sa.Integer, nullable=False),
        sa.Column("intents", sa.Text, nullable=False),
        sa.Column("min_confidence", sa.Float),
        *(sa.Column(flag, sa.Boolean, nullable=False) for flag in flags),
        sa.Column("open_form", sa.String(255)),
        sa.Column("form_closed", sa.Boolean, nullable=False),
        sa.Column("last_action", sa.String(255)),
        sa.Column("review_status", sa.String(16), nullable=False),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", sa.Float),
    )
    c = conversations.c
    sa.Index("ix_console_conversations_sender", c.sender_id, c.id)
    sa.Index("ix_console_conversations_started", c.started_at)
    sa.Index("ix_console_conversations_channel", c.channel, c.started_at)
    sa.Index("ix_console_conversations_review", c.review_status, c.started_at)
    intents = sa.Table(
        "console_conversation_intents", metadata,
        _key("conversation_id"),
        sa.Column("intent", sa.String(255), primary_key=True),
    )
    sa.Index("ix_console_conversation_intents_intent", intents.c.intent, intents.c.conversation_id)
    sa.Table(
        "console_search_text", metadata, _key("conversation_id"), sa.Column("tokens", sa.Text, nullable=False)
    )


def _review_tables(metadata: sa.MetaData) -> None:
    tags = sa.Table(
        "console_conversation_tags", metadata,
        _key("conversation_id"),
        sa.Column("tag", sa.String(32), primary_key=True),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Index("ix_console_conversation_tags_tag", tags.c.tag, tags.c.conversation_id)
    sa.Table(
        "console_message_flags", metadata,
        _key("event_id"),
        sa.Column("conversation_id", sa.Integer, nullable=False, index=True),
        sa.Column("event_timestamp", sa.Float),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    sa.Table(
        "console_corrections", metadata,
        _key("event_id"),
        sa.Column("conversation_id", sa.Integer, nullable=False, index=True),
        sa.Column("event_timestamp", sa.Float),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("predicted_intent", sa.String(255)),
        sa.Column("intent", sa.String(255), nullable=False),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("updated_at", sa.Float, nullable=False),
    )


def _user_tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "console_users", metadata,
        _id(),
        sa.Column("username", sa.String(64), unique=True, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_login_at", sa.Float),
    )
    sa.Table(
        "console_sessions", metadata,
        _id(),
        sa.Column("token_hash", sa.String(64), unique=True, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("console_users.id", ondelete="CASCADE"), nullable=False,
                  index=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False, index=True),
    )
    sa.Table(
        "console_login_failures", metadata,
        _id(),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("client", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
    )
    sa.Table(
        "console_audit_log", metadata,
        _id(),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("user_id", sa.Integer, index=True),
        sa.Column("username", sa.String(64), nullable=False, index=True),
        sa.Column("action", sa.String(64), nullable=False, index=True),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )


def _takeover_tables(metadata: sa.MetaData) -> None:
    sa.Table(
        "handoffs", metadata,
        _id(),
        sa.Column("sender_hash", sa.String(64), nullable=False, index=True),
        sa.Column("request_event_id", sa.Integer, unique=True),
        sa.Column("channel", sa.String(64)),
        sa.Column("requested_at", sa.Float, nullable=False, index=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("operator", sa.String(64)),
        sa.Column("taken_at", sa.Float),
        sa.Column("closed_at", sa.Float),
        sa.Column("closed_reason", sa.String(32)),
    )
    sa.Table(
        "handoff_requests", metadata,
        _key("event_id"),
        sa.Column("handoff_id", sa.Integer, nullable=False, index=True),
    )
    sa.Table("handoff_sync", metadata, _id(), sa.Column("last_event_id", sa.Integer, nullable=False))


@functools.cache
def baseline_metadata() -> sa.MetaData:
    metadata = sa.MetaData()
    for add in (_log_tables, _index_tables, _review_tables, _user_tables, _takeover_tables):
        add(metadata)
    return metadata


def create_missing(connection: sa.engine.Connection) -> list[str]:
    """Create the tables of revision 0001 that are not there yet (all of them in an empty database) and the
    full-text objects; returns the names of the tables created."""
    existing = set(sa.inspect(connection).get_table_names())
    missing = [table for table in baseline_metadata().sorted_tables if table.name not in existing]
    baseline_metadata().create_all(connection, tables=missing, checkfirst=False)
    statements = {"sqlite": SQLITE_FULL_TEXT, "postgresql": POSTGRESQL_FULL_TEXT}
    for statement in statements.get(connection.dialect.name, ()):
        connection.exec_driver_sql(statement)
    return [table.name for table in missing]
