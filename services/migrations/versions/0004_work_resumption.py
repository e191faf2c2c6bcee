"""Enterprise work resumption (企业复工申报): enterprise industry and size, who may act for a company, filings.

- enterprises.industry / staff_count: nullable, so existing rows stay valid; seeding fills them for the sample
  enterprises (services/seed/people.yml) where they are still empty.
- company_contacts: a person's role for an enterprise (legal_representative or contact).
- work_resumption_filings: one per enterprise and planned date (unique), so a retried or repeated filing cannot be
  recorded twice.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, not batch mode: recreating `enterprises` on SQLite would trip the foreign keys that
    # point at it (employments, ...). SQLite has ADD COLUMN always and DROP COLUMN since 3.35.
    op.add_column("enterprises", sa.Column("industry", sa.String(length=50), nullable=True))
    op.add_column("enterprises", sa.Column("staff_count", sa.Integer(), nullable=True))

    op.create_table(
        "company_contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "person_id", "role", name="uq_company_contact_enterprise_person_role"),
    )
    with op.batch_alter_table("company_contacts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_contacts_person_id"), ["person_id"], unique=False)

    op.create_table(
        "work_resumption_filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("filing_no", sa.String(length=20), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("returning_staff", sa.Integer(), nullable=False),
        sa.Column("key_area_staff", sa.Integer(), nullable=False),
        sa.Column("supplies_days", sa.Integer(), nullable=False),
        sa.Column("isolation_rooms", sa.Integer(), nullable=False),
        sa.Column("review_level_code", sa.String(length=20), nullable=False),
        sa.Column("review_level", sa.String(length=50), nullable=False),
        sa.Column("review_deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("enterprise_id", "planned_date", name="uq_work_resumption_enterprise_date"),
        sa.UniqueConstraint("filing_no"),
    )
    with op.batch_alter_table("work_resumption_filings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_resumption_filings_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_resumption_filings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_resumption_filings_person_id"))
    op.drop_table("work_resumption_filings")
    with op.batch_alter_table("company_contacts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_contacts_person_id"))
    op.drop_table("company_contacts")
    op.drop_column("enterprises", "staff_count")
    op.drop_column("enterprises", "industry")
