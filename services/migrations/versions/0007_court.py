"""Court and procuratorate (移动微法院: cases, online hearings, mediation; 检察院 video hearings).

- court_cases, court_parties: a case and its parties (person_id only for parties of the population registry; a
  person is a party to a case at most once).
- court_hearings, court_hearing_invitees: court hearings of a case, procuratorate hearings with their invitees.
- court_hearing_consents: one decision per hearing and person (unique), so a retried or parallel consent is
  recorded once.
- court_mediation_agreements: one row per version of a case's agreement (unique case + version).
- court_mediation_signatures: one signature per agreement version and party (unique), void once a newer version is
  published.
- court_access_attempts: refused case look-ups (not a party / no such case), for operators.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "court_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("court", sa.String(length=100), nullable=False),
        sa.Column("cause", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=30), nullable=False),
        sa.Column("judge", sa.String(length=50), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_number"),
    )
    op.create_table(
        "court_parties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["court_cases.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "person_id", name="uq_court_party_case_person"),
    )
    _index("court_parties", "case_id")
    _index("court_parties", "person_id")
    op.create_table(
        "court_hearings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_no", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("organ", sa.String(length=100), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("online_possible", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["court_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hearing_no"),
    )
    _index("court_hearings", "case_id")
    op.create_table(
        "court_hearing_invitees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["hearing_id"], ["court_hearings.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hearing_id", "person_id", name="uq_court_invitee_hearing_person"),
    )
    _index("court_hearing_invitees", "person_id")
    op.create_table(
        "court_hearing_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("agree", sa.Boolean(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["hearing_id"], ["court_hearings.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hearing_id", "person_id", name="uq_court_consent_hearing_person"),
    )
    _index("court_hearing_consents", "person_id")
    op.create_table(
        "court_mediation_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["court_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "version", name="uq_court_agreement_case_version"),
    )
    op.create_table(
        "court_mediation_signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("void", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(["agreement_id"], ["court_mediation_agreements.id"]),
        sa.ForeignKeyConstraint(["party_id"], ["court_parties.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agreement_id", "party_id", name="uq_court_signature_agreement_party"),
    )
    _index("court_mediation_signatures", "party_id")
    op.create_table(
        "court_access_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("court_access_attempts", "person_id")


def downgrade() -> None:
    for table in (
        "court_access_attempts",
        "court_mediation_signatures",
        "court_mediation_agreements",
        "court_hearing_consents",
        "court_hearing_invitees",
        "court_hearings",
        "court_parties",
        "court_cases",
    ):
        op.drop_table(table)  # their indexes go with them
