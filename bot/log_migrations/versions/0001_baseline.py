"""Baseline: the conversation log and console tables as `create_all` made them before migrations existed.

Revision ID: 0001
Revises:
Create Date: 2026-12-01 10:00:00

In an empty database this creates everything. In a database made before migrations (the tables, no
alembic_version) it keeps the existing tables and their rows and creates only the missing ones: a log whose console
never ran, for instance. The schema itself is frozen in bot/log_migrations/baseline.py.
"""

from __future__ import annotations

from alembic import op

from bot.log_migrations.baseline import baseline_metadata, create_missing

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_missing(op.get_bind())


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        bind.exec_driver_sql("DROP TABLE IF EXISTS console_search_fts")  # its triggers go with console_search_text
    baseline_metadata().drop_all(bind)
