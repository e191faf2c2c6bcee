"""Health code (健康码): codes, declarations, daily check-ins, appeals, the risk lists, and the sandbox clock.

- health_check_ins: one per person and China calendar day (unique), so a repeated check-in cannot count twice.
- health_code_appeals: at most one open appeal per person (partial unique index on status = 'under_review').
- sandbox_clock: one row holding the day offset that development and tests advance, shared by every process.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:00:00
"""

from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OPEN_APPEAL = sa.text("status = 'under_review'")


def upgrade() -> None:
    clock = op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The one row every process reads: the clock starts at the real date.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(clock, [{"id": 1, "offset_days": 0, "updated_at": now}])
    op.create_table(
        "health_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=10), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("area", sa.String(length=50), nullable=True),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("required_days", sa.Integer(), nullable=False),
        sa.Column("last_check_in_date", sa.Date(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", name="uq_health_code_person"),
    )
    op.create_table(
        "health_declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("key_area_travel", sa.Boolean(), nullable=False),
        sa.Column("area", sa.String(length=50), nullable=True),
        sa.Column("contact_with_case", sa.Boolean(), nullable=False),
        sa.Column("colour", sa.String(length=10), nullable=False),
        sa.Column("reason_code", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("health_declarations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_declarations_person_id"), ["person_id"], unique=False)

    op.create_table(
        "health_check_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("check_in_date", sa.Date(), nullable=False),
        sa.Column("temperature", sa.Float(), nullable=False),
        sa.Column("symptoms", sa.JSON(), nullable=False),
        sa.Column("normal", sa.Boolean(), nullable=False),
        sa.Column("streak_after", sa.Integer(), nullable=False),
        sa.Column("colour_after", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "check_in_date", name="uq_health_check_in_person_day"),
    )
    op.create_table(
        "health_code_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appeal_no", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("appeal_no"),
    )
    with op.batch_alter_table("health_code_appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_health_code_appeals_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_health_appeal_open",
            ["person_id"],
            unique=True,
            sqlite_where=_OPEN_APPEAL,
            postgresql_where=_OPEN_APPEAL,
        )

    op.create_table(
        "health_risk_persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("listed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id", "category", name="uq_health_risk_person_category"),
    )


def downgrade() -> None:
    op.drop_table("health_risk_persons")
    with op.batch_alter_table("health_code_appeals", schema=None) as batch_op:
        batch_op.drop_index("uq_health_appeal_open")
        batch_op.drop_index(batch_op.f("ix_health_code_appeals_person_id"))

    op.drop_table("health_code_appeals")
    op.drop_table("health_check_ins")
    with op.batch_alter_table("health_declarations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_health_declarations_person_id"))

    op.drop_table("health_declarations")
    op.drop_table("health_codes")
    op.drop_table("sandbox_clock")
