"""Tables of progress notifications in the sandbox (migration 0009; services/notifications.py explains them)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint

from services.models import Base

PENDING, DELIVERED, REJECTED = "pending", "delivered", "rejected"


class NotificationSubscription(Base):
    """Someone's conversation watches one thing (a topic: an application, a filing, a hearing, a person's code).

    `subscriber` is the conversation id sealed by the assistant (bot/sealing.py): the sandbox cannot read it and
    only passes it back. `subscriber_key` is a keyed hash of the chat user the subscription came from, so asking
    again updates the row instead of adding one."""

    __tablename__ = "notification_subscriptions"
    __table_args__ = (UniqueConstraint("topic", "subscriber_key", name="uq_notification_subscription"),)

    id = Column(Integer, primary_key=True)
    topic = Column(String(80), nullable=False, index=True)
    service = Column(String(40), nullable=False)  # as the assistant named it (bot/names.py SERVICE_LABELS)
    reference = Column(String(64), nullable=False)  # as the assistant named it (an application number …)
    subscriber = Column(Text, nullable=False)
    subscriber_key = Column(String(64), nullable=False)
    last_state = Column(String(40))  # the state last announced (or found when subscribing)
    created_at = Column(DateTime, nullable=False)
    updated_at = Column(DateTime, nullable=False)


class NotificationEvent(Base):
    """The outbox: one row per state change and subscription, written in the transaction of the change itself and
    posted to the notifier until it accepts it (services/notifications_dispatch.py)."""

    __tablename__ = "notification_events"
    __table_args__ = (Index("ix_notification_events_due", "status", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    event_id = Column(String(32), nullable=False, unique=True)
    subscription_id = Column(
        Integer, ForeignKey("notification_subscriptions.id", ondelete="CASCADE"), nullable=False, index=True
    )
    service = Column(String(40), nullable=False)
    reference = Column(String(64), nullable=False)
    state = Column(String(40), nullable=False)
    detail = Column(Text, nullable=False, default="")
    subscriber = Column(Text, nullable=False)
    occurred_at = Column(DateTime, nullable=False)
    status = Column(String(16), nullable=False, default=PENDING)  # pending, delivered, rejected (a 4xx: never again)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False)
    claimed_until = Column(DateTime)  # a dispatcher is posting it (another one leaves it alone until then)
    delivered_at = Column(DateTime)
    last_error = Column(String(200))
