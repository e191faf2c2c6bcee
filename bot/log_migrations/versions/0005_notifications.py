"""Progress notifications: the notifier's record of every state-change event, and who opted out (bot/notifier).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 09:00:00

`notifications` holds one row per event_id (unique: a webhook delivered twice, or to two notifier replicas, is one
row) with its delivery status; `notification_optouts` the conversations (keyed hashes) that replied "退订".
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("reference", sa.String(64), nullable=False),
        sa.Column("state", sa.String(40), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.Float),
        sa.Column("sender_hash", sa.String(64), nullable=False, index=True),
        sa.Column("channel", sa.String(16)),
        sa.Column("sealed_sender", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("reason", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False, index=True),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("lease_until", sa.Float),
        sa.Column("finished_at", sa.Float),
    )
    op.create_table(
        "notification_optouts",
        sa.Column("sender_hash", sa.String(64), primary_key=True),
        sa.Column("opted_out_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("notification_optouts")
    op.drop_table("notifications")
