"""Entry/exit information in English, for foreign travellers who ask in English (docs/english.md).

- countries.test_requirement_en / visa_status_en / flights_en / notes_en / source_en: the measures in English;
- ports.english_name / city_en / hours_en / notes_en: the port in English.
All nullable, so existing rows stay valid; seeding fills them for the sample data (services/seed/countries.yml,
ports.yml) where they are still empty, and adds the ports' English aliases.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# (table, column, type): every new column is nullable.
COLUMNS = [
    ("countries", "test_requirement_en", sa.Text()),
    ("countries", "visa_status_en", sa.Text()),
    ("countries", "flights_en", sa.Text()),
    ("countries", "notes_en", sa.Text()),
    ("countries", "source_en", sa.String(length=200)),
    ("ports", "english_name", sa.String(length=100)),
    ("ports", "city_en", sa.String(length=50)),
    ("ports", "hours_en", sa.String(length=100)),
    ("ports", "notes_en", sa.Text()),
]


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: recreating the tables on SQLite would trip the aliases' foreign keys.
    for table, name, type_ in COLUMNS:
        op.add_column(table, sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for table, name, _ in reversed(COLUMNS):
        op.drop_column(table, name)
