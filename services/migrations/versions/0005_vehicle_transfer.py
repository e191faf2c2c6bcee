"""Vehicle registration transfer with the electronic archive (机动车档案电子化网上转递).

- vehicles: the registry facts the transfer checks (VIN, type, model, registration and inspection dates, mileage,
  mortgage / seizure / theft flags, counts of unprocessed violations and accidents). All nullable or defaulted, so
  rows seeded before this migration stay valid; seeding fills the facts of the sample vehicles.
- vehicle_transfer_applications: at most one open application per vehicle (partial unique index on
  status = 'open'), so a retried or repeated application cannot be recorded twice.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OPEN = sa.text("status = 'open'")


def _facts() -> tuple[sa.Column, ...]:
    """New Column objects on every call: a Column can belong to one table only."""
    return (
        sa.Column("vin", sa.String(length=17), nullable=True),
        sa.Column("vehicle_type", sa.String(length=20), nullable=True),
        sa.Column("brand_model", sa.String(length=50), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("inspection_valid_until", sa.Date(), nullable=True),
        sa.Column("mileage_km", sa.Integer(), nullable=True),
        sa.Column("mortgaged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("seized", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("stolen", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("open_violations", sa.Integer(), server_default="0", nullable=False),
        sa.Column("open_accidents", sa.Integer(), server_default="0", nullable=False),
    )


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: recreating `vehicles` on SQLite would trip the foreign keys pointing at it.
    # SQLite cannot add a UNIQUE column, hence the separate unique index on vin.
    for column in _facts():
        op.add_column("vehicles", column)
    op.create_index("uq_vehicles_vin", "vehicles", ["vin"], unique=True)

    op.create_table(
        "vehicle_transfer_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_no", sa.String(length=20), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("origin_city", sa.String(length=20), nullable=False),
        sa.Column("origin_office", sa.String(length=100), nullable=False),
        sa.Column("destination_city", sa.String(length=20), nullable=False),
        sa.Column("destination_office", sa.String(length=100), nullable=False),
        sa.Column("destination_address", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["vehicle_id"], ["vehicles.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_no"),
    )
    with op.batch_alter_table("vehicle_transfer_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicle_transfer_applications_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "uq_vehicle_transfer_open",
            ["vehicle_id"],
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        )


def downgrade() -> None:
    with op.batch_alter_table("vehicle_transfer_applications", schema=None) as batch_op:
        batch_op.drop_index("uq_vehicle_transfer_open")
        batch_op.drop_index(batch_op.f("ix_vehicle_transfer_applications_person_id"))
    op.drop_table("vehicle_transfer_applications")
    op.drop_index("uq_vehicles_vin", table_name="vehicles")
    for column in reversed(_facts()):
        op.drop_column("vehicles", column.name)
