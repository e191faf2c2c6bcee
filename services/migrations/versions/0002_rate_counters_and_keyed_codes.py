"""Rate counters for identity checks and SMS codes; SMS codes hashed with a key and kept out of stored SMS texts.

- rate_counters: fixed-window budgets taken atomically (services/limits.py).
- Pending verifications were hashed without a key and can no longer be checked: they are closed (the citizen is
  told the code expired and asks for a new one; codes live 5 minutes anyway).
- SMS texts already stored carry readable codes: they are masked. From now on only development stores them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 10:00:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_CODE = re.compile(r"(?<!\d)\d{6}(?!\d)")


def upgrade() -> None:
    op.create_table(
        "rate_counters",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject_hash", "window_start"),
    )
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rate_counters_expires_at"), ["expires_at"], unique=False)
    verifications = sa.table(
        "sms_verifications", sa.column("consumed_at", sa.DateTime()), sa.column("created_at", sa.DateTime())
    )
    op.execute(
        verifications.update()
        .where(verifications.c.consumed_at.is_(None))
        .values(consumed_at=verifications.c.created_at)
    )
    _mask_stored_codes()


def _mask_stored_codes() -> None:
    outbox = sa.table("sms_outbox", sa.column("id", sa.Integer()), sa.column("text", sa.Text()))
    connection = op.get_bind()
    for row_id, text in connection.execute(sa.select(outbox.c.id, outbox.c.text)).all():
        masked = _CODE.sub("******", text)
        if masked != text:
            connection.execute(outbox.update().where(outbox.c.id == row_id).values(text=masked))


def downgrade() -> None:
    with op.batch_alter_table("rate_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_counters_expires_at"))
    op.drop_table("rate_counters")
