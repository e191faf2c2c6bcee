"""A stable id per event: a redelivered event (RabbitMQ, bot/log_consumer.py) is stored once.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 09:00:00

`conversation_events.event_key` is a keyed hash of the raw event (bot.conversation_log.event_key), unique. Rows
stored before this revision keep NULL, which a unique index allows any number of times (SQLite and PostgreSQL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "ix_conversation_events_event_key"


def upgrade() -> None:
    op.add_column("conversation_events", sa.Column("event_key", sa.String(64), nullable=True))
    op.create_index(INDEX, "conversation_events", ["event_key"], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="conversation_events")
    with op.batch_alter_table("conversation_events") as batch:
        batch.drop_column("event_key")
