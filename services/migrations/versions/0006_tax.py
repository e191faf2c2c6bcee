"""E-tax guidance (电子税务): tax registrations, filing obligations, payment deferral requests.

- tax_registrations: an enterprise's VAT taxpayer kind (小规模纳税人 / 一般纳税人), filing cycle and tax office.
- tax_obligations: one return per taxpayer (an enterprise or a person), tax and period (two unique constraints; the
  status is computed from filed_on, the due date and the sandbox clock). Amounts in fen.
- tax_deferrals: at most one pending deferral per obligation (partial unique index on status = 'pending'), so a
  retried or repeated request cannot be recorded twice.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_table(
        "tax_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("taxpayer_kind", sa.String(length=20), nullable=False),
        sa.Column("vat_cycle", sa.String(length=10), nullable=False),
        sa.Column("tax_office", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id"),
    )
    op.create_table(
        "tax_obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("tax", sa.String(length=20), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("cycle", sa.String(length=10), nullable=False),
        sa.Column("filing_start", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("tax_amount_fen", sa.Integer(), nullable=True),
        sa.Column("filed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "tax", "period", name="uq_tax_obligation_enterprise"),
        sa.UniqueConstraint("person_id", "tax", "period", name="uq_tax_obligation_person"),
    )
    op.create_table(
        "tax_deferrals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deferral_no", sa.String(length=20), nullable=False),
        sa.Column("obligation_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["obligation_id"], ["tax_obligations.id"]),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deferral_no"),
    )
    with op.batch_alter_table("tax_deferrals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tax_deferrals_enterprise_id"), ["enterprise_id"], unique=False)
        batch_op.create_index(
            "uq_tax_deferral_open", ["obligation_id"], unique=True, sqlite_where=_PENDING, postgresql_where=_PENDING
        )


def downgrade() -> None:
    with op.batch_alter_table("tax_deferrals", schema=None) as batch_op:
        batch_op.drop_index("uq_tax_deferral_open")
        batch_op.drop_index(batch_op.f("ix_tax_deferrals_enterprise_id"))
    op.drop_table("tax_deferrals")
    op.drop_table("tax_obligations")
    op.drop_table("tax_registrations")
