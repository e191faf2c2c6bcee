"""Initial schema: population registry, identity, rent subsidy, immigration and campus tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 09:28:15.545502
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "countries",
        sa.Column("name", sa.String(length=30), nullable=False),
        sa.Column("english_name", sa.String(length=80), nullable=False),
        sa.Column("entry_status", sa.String(length=20), nullable=False),
        sa.Column("quarantine_days", sa.Integer(), nullable=True),
        sa.Column("test_requirement", sa.Text(), nullable=False),
        sa.Column("visa_status", sa.Text(), nullable=False),
        sa.Column("flights", sa.Text(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "enterprises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("registered_city", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("credit_code"),
    )
    op.create_table(
        "idempotency_records",
        sa.Column("scope", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response_body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_table(
        "job_fairs",
        sa.Column("fair_id", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("majors", sa.JSON(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("organizer", sa.String(length=100), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("fair_id"),
    )
    with op.batch_alter_table("job_fairs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_fairs_start_date"), ["start_date"], unique=False)

    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("degree", sa.String(length=10), nullable=True),
        sa.Column("major", sa.String(length=50), nullable=True),
        sa.Column("school", sa.String(length=50), nullable=True),
        sa.Column("graduation_year", sa.Integer(), nullable=True),
        sa.Column("bank_account", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("id_number"),
    )
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_persons_phone"), ["phone"], unique=False)

    op.create_table(
        "ports",
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=False),
        sa.Column("province", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("passenger_status", sa.String(length=20), nullable=False),
        sa.Column("cargo_status", sa.String(length=20), nullable=False),
        sa.Column("hours", sa.String(length=100), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_outbox_phone"), ["phone"], unique=False)

    op.create_table(
        "access_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("chat_user", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_table(
        "country_aliases",
        sa.Column("alias", sa.String(length=80), nullable=False),
        sa.Column("country_name", sa.String(length=30), nullable=False),
        sa.ForeignKeyConstraint(
            ["country_name"],
            ["countries.name"],
        ),
        sa.PrimaryKeyConstraint("alias"),
    )
    op.create_table(
        "employments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["enterprise_id"],
            ["enterprises.id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("employments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_employments_person_id"), ["person_id"], unique=False)

    op.create_table(
        "fair_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_no", sa.String(length=20), nullable=False),
        sa.Column("fair_id", sa.String(length=10), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("school", sa.String(length=50), nullable=False),
        sa.Column("major", sa.String(length=50), nullable=False),
        sa.Column("degree", sa.String(length=10), nullable=False),
        sa.Column("graduation_year", sa.Integer(), nullable=False),
        sa.Column("chat_user", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["job_fairs.fair_id"],
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fair_id", "phone", name="uq_fair_registration_phone"),
        sa.UniqueConstraint("registration_no"),
    )
    with op.batch_alter_table("fair_registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fair_registrations_phone"), ["phone"], unique=False)

    op.create_table(
        "port_aliases",
        sa.Column("alias", sa.String(length=80), nullable=False),
        sa.Column("port_name", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["port_name"],
            ["ports.name"],
        ),
        sa.PrimaryKeyConstraint("alias"),
    )
    op.create_table(
        "positions",
        sa.Column("position_id", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=False),
        sa.Column("industry", sa.String(length=20), nullable=False),
        sa.Column("degree", sa.String(length=10), nullable=False),
        sa.Column("majors", sa.JSON(), nullable=False),
        sa.Column("salary", sa.String(length=20), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.String(length=10), nullable=True),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["job_fairs.fair_id"],
        ),
        sa.PrimaryKeyConstraint("position_id"),
    )
    op.create_table(
        "properties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_properties_person_id"), ["person_id"], unique=False)

    op.create_table(
        "rent_subsidy_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_no", sa.String(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("degree", sa.String(length=10), nullable=False),
        sa.Column("monthly_amount", sa.Integer(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payout_account", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_no"),
        sa.UniqueConstraint("person_id", "period", name="uq_rent_subsidy_person_period"),
    )
    op.create_table(
        "sms_verifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("chat_user", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("consumed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sms_verifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_verifications_chat_user"), ["chat_user"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_verifications_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sms_verifications_phone"), ["phone"], unique=False)

    op.create_table(
        "social_insurance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("city", sa.String(length=20), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("social_insurance", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_social_insurance_person_id"), ["person_id"], unique=False)

    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(length=10), nullable=False),
        sa.Column("registered_city", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plate"),
    )
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vehicles_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("vehicles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vehicles_person_id"))

    op.drop_table("vehicles")
    with op.batch_alter_table("social_insurance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_insurance_person_id"))

    op.drop_table("social_insurance")
    with op.batch_alter_table("sms_verifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_verifications_phone"))
        batch_op.drop_index(batch_op.f("ix_sms_verifications_created_at"))
        batch_op.drop_index(batch_op.f("ix_sms_verifications_chat_user"))

    op.drop_table("sms_verifications")
    op.drop_table("rent_subsidy_applications")
    with op.batch_alter_table("properties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_properties_person_id"))

    op.drop_table("properties")
    op.drop_table("positions")
    op.drop_table("port_aliases")
    with op.batch_alter_table("fair_registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fair_registrations_phone"))

    op.drop_table("fair_registrations")
    with op.batch_alter_table("employments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_employments_person_id"))

    op.drop_table("employments")
    op.drop_table("country_aliases")
    op.drop_table("access_tokens")
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sms_outbox_phone"))

    op.drop_table("sms_outbox")
    op.drop_table("ports")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_persons_phone"))

    op.drop_table("persons")
    with op.batch_alter_table("job_fairs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_fairs_start_date"))

    op.drop_table("job_fairs")
    op.drop_table("idempotency_records")
    op.drop_table("enterprises")
    op.drop_table("countries")
