"""The notifier's tables, beside the conversation log (DATABASE_URL; schema in bot/log_migrations, revision 0005).

- `notifications`: one row per state-change event (`event_id` unique: a webhook delivered twice, or to two notifier
  replicas, is one row) with what happened to it, for the worker's retries and for operators (console page
  "进度提醒"). The conversation is kept as the sandbox sent it, sealed, plus the keyed hash the log uses; the detail
  is masked like everything operators read.
- `notification_optouts`: conversations that replied "退订" (by the log's keyed hash); kept until they subscribe
  again, whatever happens to the live tracker, which expires.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base()

QUEUED, SENDING = "queued", "sending"
DELIVERED, DELIVERED_TEMPLATE = "delivered", "delivered_template"
UNDELIVERABLE, OPTED_OUT, FAILED = "undeliverable", "opted_out", "failed"
FINISHED = (DELIVERED, DELIVERED_TEMPLATE, UNDELIVERABLE, OPTED_OUT, FAILED)
PROBLEMS = (UNDELIVERABLE, FAILED)  # shown highlighted to operators


class Notification(Base):
    __tablename__ = "notifications"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    event_id = sa.Column(sa.String(64), nullable=False, unique=True)
    service = sa.Column(sa.String(40), nullable=False)
    reference = sa.Column(sa.String(64), nullable=False)
    state = sa.Column(sa.String(40), nullable=False)
    detail = sa.Column(sa.Text, nullable=False, default="")
    occurred_at = sa.Column(sa.Float)  # when the back end recorded the change (epoch seconds)
    sender_hash = sa.Column(sa.String(64), nullable=False, index=True)  # "" when the subscriber could not be opened
    channel = sa.Column(sa.String(16))
    sealed_sender = sa.Column(sa.Text, nullable=False)
    status = sa.Column(sa.String(20), nullable=False, index=True)
    reason = sa.Column(sa.Text)  # why it was not delivered (yet), in Chinese, for operators
    attempts = sa.Column(sa.Integer, nullable=False, default=0)
    received_at = sa.Column(sa.Float, nullable=False, index=True)
    next_attempt_at = sa.Column(sa.Float, nullable=False)
    lease_until = sa.Column(sa.Float)  # a worker is delivering it until then (then another may take it over)
    finished_at = sa.Column(sa.Float)


class NotificationOptOut(Base):
    __tablename__ = "notification_optouts"

    sender_hash = sa.Column(sa.String(64), primary_key=True)
    opted_out_at = sa.Column(sa.Float, nullable=False)
