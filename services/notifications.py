"""Progress notifications in the sandbox: who watches which transaction, and the state changes they are told about.

- `subscribe`: a verified citizen's conversation asks to be told when one of the citizen's own transactions changes
  (POST /api/v1/notifications/subscriptions, with the service's usual token). The thing watched is a *topic*: an
  application, a filing, a hearing, a case's mediation agreement, a person's health code. A reference the sandbox
  does not know and someone else's reference get the same 404. The subscriber is the conversation id sealed by the
  assistant (bot/sealing.py): the sandbox stores it and passes it back, and cannot read it.
- `record`: a service module calls it inside the transaction that changes a state (a payout, an approval, a hearing
  moved, a code turned green), so the change and its outbox rows (notification_events) are committed together or
  not at all: the transactional outbox. services/notifications_dispatch.py posts the rows to the notifier.
  The topics and the records behind them: services/notifications_topics.py.
- `sweep`: states that follow from the calendar (a vehicle transfer's stages, computed from the submission date and
  the sandbox clock) are compared with the state last announced; run after the clock moves and periodically.

Events carry only what the citizen is told: the service and reference as the assistant named them, the new state,
and a short detail the service module writes (no names, no ID numbers; accounts masked).
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import date
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.auth import Principal
from services.clock import to_china_iso, utcnow
from services.errors import ApiError
from services.keyed_hash import keyed_hash
from services.models import Vehicle, VehicleTransferApplication
from services.notifications_models import PENDING, NotificationEvent, NotificationSubscription
from services.notifications_topics import RESOLVERS, vehicle_state
from services.sandbox_clock import sandbox_today
from services.vehicle_transfer import application_dict
from services.vehicle_transfer_rules import VehicleTransferRules

logger = logging.getLogger("services.notifications")

# Set after a commit that wrote outbox rows: the dispatchers post them at once instead of at their next poll.
_WAKEUPS: set[threading.Event] = set()
_RECORDED = "notification_events_recorded"

MAX_REFERENCE_CHARS = 64
MAX_SUBSCRIBER_CHARS = 2000


def wake_me(wakeup: threading.Event) -> None:
    """`wakeup` is set after every commit that wrote outbox rows (in this process)."""
    _WAKEUPS.add(wakeup)


def forget_me(wakeup: threading.Event) -> None:
    _WAKEUPS.discard(wakeup)


@event.listens_for(Session, "after_commit")
def _wake_dispatchers(session: Session) -> None:
    if session.info.pop(_RECORDED, False):
        for wakeup in list(_WAKEUPS):
            wakeup.set()


@event.listens_for(Session, "after_rollback")
def _forget_recorded(session: Session) -> None:
    session.info.pop(_RECORDED, None)


# --- subscribing -----------------------------------------------------------------------------------------------------


def _clean(service: str, reference: str, subscriber: str) -> tuple[str, str, str]:
    if service not in RESOLVERS:
        raise ApiError(422, "service_not_watchable", "该办理事项暂不支持进度提醒。", {"field": "service"})
    reference = (reference or "").strip()
    if not 0 < len(reference) <= MAX_REFERENCE_CHARS:
        raise ApiError(422, "invalid_reference", "请提供办理编号（不超过64个字符）。", {"field": "reference"})
    subscriber = (subscriber or "").strip()
    if not 0 < len(subscriber) <= MAX_SUBSCRIBER_CHARS or not subscriber.isascii():
        raise ApiError(422, "invalid_subscriber", "订阅方标识格式不正确。", {"field": "subscriber"})
    return service, reference, subscriber


def subscribe(
    session: Session, secret: str, rules: VehicleTransferRules, principal: Principal, service: str, reference: str,
    subscriber: str,
) -> tuple[int, dict[str, Any]]:
    """Watch one of the principal's own transactions; (201, …) for a new subscription, (200, …) when this chat user
    already watched it (the subscriber token is replaced: the assistant seals afresh every time)."""
    service, reference, subscriber = _clean(service, reference, subscriber)
    watched = RESOLVERS[service](session, principal, reference, rules)
    key = keyed_hash(secret, "notification-subscriber", principal.chat_user)
    for _attempt in range(2):  # a parallel request for the same topic may insert first
        existing = session.execute(
            select(NotificationSubscription).where(
                NotificationSubscription.topic == watched.topic, NotificationSubscription.subscriber_key == key
            )
        ).scalar_one_or_none()
        now = utcnow()
        if existing is not None:
            existing.subscriber, existing.service, existing.reference = subscriber, service, reference
            existing.updated_at = now
            session.commit()
            return 200, _subscription_dict(existing)
        row = NotificationSubscription(
            topic=watched.topic, service=service, reference=reference, subscriber=subscriber, subscriber_key=key,
            last_state=watched.state, created_at=now, updated_at=now,
        )
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            continue
        logger.info("subscription %s to %s", row.id, watched.topic.split(":")[0])
        return 201, _subscription_dict(row)
    raise RuntimeError("subscription could not be recorded")


def _subscription_dict(row: NotificationSubscription) -> dict[str, Any]:
    return {"service": row.service, "reference": row.reference, "subscribed_at": to_china_iso(row.created_at)}


# --- recording state changes (inside the caller's transaction) -------------------------------------------------------


def record(session: Session, topic: str, state: str, detail: str = "", *, only_if_changed: bool = False) -> int:
    """Outbox rows for every subscription of `topic`; the caller's commit writes them with the change itself.

    `only_if_changed`: skip subscriptions that were last told this very state (sweeps run again and again)."""
    rows = session.execute(
        select(NotificationSubscription).where(NotificationSubscription.topic == topic)
    ).scalars().all()
    now = utcnow()
    written = 0
    for subscription in rows:
        if only_if_changed and subscription.last_state == state:
            continue
        subscription.last_state = state
        subscription.updated_at = now
        session.add(NotificationEvent(
            event_id=uuid.uuid4().hex, subscription_id=subscription.id, service=subscription.service,
            reference=subscription.reference, state=state, detail=detail, subscriber=subscription.subscriber,
            occurred_at=now, status=PENDING, attempts=0, next_attempt_at=now,
        ))
        written += 1
    if written:
        session.info[_RECORDED] = True
    return written


# --- states that follow from the calendar ----------------------------------------------------------------------------


def sweep(session: Session, rules: VehicleTransferRules, topics: list[str] | None = None) -> int:
    """Announce the vehicle transfers whose latest stage changed since it was last announced; commits."""
    query = select(NotificationSubscription.topic).where(NotificationSubscription.topic.startswith("vehicle_transfer:"))
    if topics is not None:
        query = query.where(NotificationSubscription.topic.in_(topics))
    watched = sorted(set(session.execute(query).scalars()))
    today = sandbox_today(session)
    written = 0
    for topic in watched:
        application = session.execute(
            select(VehicleTransferApplication).where(
                VehicleTransferApplication.application_no == topic.split(":", 1)[1]
            )
        ).scalar_one_or_none()
        if application is None:
            continue
        state = vehicle_state(rules, application, today)
        if state == "submitted":
            continue
        detail = _vehicle_detail(session, rules, application, today)
        written += record(session, topic, state, detail, only_if_changed=True)
    session.commit()
    return written


def _vehicle_detail(
    session: Session, rules: VehicleTransferRules, application: VehicleTransferApplication, today: date
) -> str:
    """The service's own progress text of the stage now under way, and the owner's one step when it is theirs."""
    view = application_dict(rules, application, session.get(Vehicle, application.vehicle_id), today)
    return view["progress_text"] + (view["owner_step"] if view["stage"] == "awaiting_owner" else "")


# --- the outbox, for developers and tests ----------------------------------------------------------------------------


def outbox(session: Session, limit: int = 100) -> list[dict[str, Any]]:
    rows = session.execute(
        select(NotificationEvent).order_by(NotificationEvent.id.desc()).limit(limit)
    ).scalars()
    return [
        {"event_id": row.event_id, "service": row.service, "reference": row.reference, "state": row.state,
         "detail": row.detail, "status": row.status, "attempts": row.attempts,
         "occurred_at": to_china_iso(row.occurred_at), "delivered_at": to_china_iso(row.delivered_at),
         "last_error": row.last_error}
        for row in rows
    ]
