"""One reader of the conversation log: the index and the takeover queue share one cursor (console/projection.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:30:00

The index's cursor row becomes the projection's. The takeover queue's own cursor (handoff_sync) goes; where it lagged
behind, the requests it may not have seen yet are left to a one-time catch-up (row "handoff_catch_up": the takeover
queue reads action_request_human rows above that id up to the cursor once; requests it already has are skipped).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OLD_KEY, NEW_KEY, CATCH_UP_KEY = "conversation_index", "conversation_log", "handoff_catch_up"
OLD_LOOKBACK_IDS = 2000  # how far behind its cursor the old takeover sync looked for requests committed late

state = sa.table("console_index_state", sa.column("key", sa.String), sa.column("last_event_id", sa.Integer),
                 sa.column("updated_at", sa.Float))


def upgrade() -> None:
    bind = op.get_bind()
    op.execute(state.update().where(state.c.key == OLD_KEY).values(key=NEW_KEY))
    cursor = bind.execute(sa.select(state.c.last_event_id).where(state.c.key == NEW_KEY)).scalar()
    synced = bind.execute(sa.text("SELECT last_event_id FROM handoff_sync ORDER BY id LIMIT 1")).scalar()
    if cursor is not None and synced is not None:
        start = max(min(synced, cursor) - OLD_LOOKBACK_IDS, 0)
        op.execute(state.insert().values(key=CATCH_UP_KEY, last_event_id=start))
    op.drop_table("handoff_sync")


def downgrade() -> None:
    bind = op.get_bind()
    handoff_sync = op.create_table(
        "handoff_sync",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("last_event_id", sa.Integer, nullable=False),
    )
    cursor = bind.execute(sa.select(state.c.last_event_id).where(state.c.key == NEW_KEY)).scalar()
    if cursor is not None:
        op.bulk_insert(handoff_sync, [{"id": 1, "last_event_id": cursor}])
    op.execute(state.delete().where(state.c.key == CATCH_UP_KEY))
    op.execute(state.update().where(state.c.key == NEW_KEY).values(key=OLD_KEY))
