"""好差评: the console's table of service ratings and their follow-ups (console/ratings.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 14:30:00

One row per rating (`rating_id` from the assistant's slot `service_rating`; a changed rating updates its row). A
rating of 不满意 or worse carries a follow-up: its deadline (15 working days), what the operator found and the reply
sent to the citizen.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_ratings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("rating_id", sa.String(32), nullable=False, unique=True),
        sa.Column("sender_hash", sa.String(64), nullable=False, index=True),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("service", sa.String(64), nullable=False, index=True),
        sa.Column("reference", sa.String(64)),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("rated_at", sa.Float, nullable=False, index=True),
        sa.Column("followup_status", sa.String(16), nullable=False, index=True),  # none | open | done
        sa.Column("deadline", sa.Date),
        sa.Column("findings", sa.Text),
        sa.Column("reply_text", sa.Text),
        sa.Column("replied_via", sa.String(16)),  # channel (sent through the citizen's channel) | elsewhere
        sa.Column("handled_by", sa.String(64)),
        sa.Column("handled_at", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("console_ratings")
