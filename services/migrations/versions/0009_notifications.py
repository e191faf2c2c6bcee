"""Progress notifications: who watches which transaction, and the outbox of state changes for the notifier.

- notification_subscriptions: one row per topic (an application, a filing, a hearing, a person's health code) and
  subscriber (unique), with the sealed conversation id the notifier will open and the state last announced.
- notification_events: the transactional outbox. A state change writes its rows in its own transaction; the
  dispatcher posts them until the notifier accepts them (status pending → delivered, or rejected on a 4xx).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("subscriber", sa.Text(), nullable=False),
        sa.Column("subscriber_key", sa.String(length=64), nullable=False),
        sa.Column("last_state", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("topic", "subscriber_key", name="uq_notification_subscription"),
    )
    op.create_index("ix_notification_subscriptions_topic", "notification_subscriptions", ["topic"])
    op.create_table(
        "notification_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("subscriber", sa.Text(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["subscription_id"], ["notification_subscriptions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_notification_events_subscription_id", "notification_events", ["subscription_id"])
    op.create_index("ix_notification_events_due", "notification_events", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_notification_events_due", table_name="notification_events")
    op.drop_index("ix_notification_events_subscription_id", table_name="notification_events")
    op.drop_table("notification_events")
    op.drop_index("ix_notification_subscriptions_topic", table_name="notification_subscriptions")
    op.drop_table("notification_subscriptions")
