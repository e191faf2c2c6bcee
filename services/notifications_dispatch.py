"""The outbox's dispatcher: posts every pending state change to the notifier, signed, until the notifier accepts it.

One daemon thread per sandbox process, started and stopped with the app (services/app.py). Delivery is
at-least-once: a row is marked delivered only after a 2xx, and the notifier keeps one notification per event_id
whatever arrives twice. A 4xx other than 408/425/429 means the notifier will never take that event (malformed,
too large): the row is marked rejected and logged instead of being posted forever. Otherwise the pause between
attempts starts at 1 s and doubles up to SERVICES_NOTIFY_RETRY_MAX. Several sandbox processes on one database claim
a row (claimed_until) before posting it, so they do not post the same row at the same moment.

Once a minute (and whenever the clock is moved) the calendar sweep announces vehicle transfers that moved on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import sessionmaker

from bot.notifier.signing import SIGNATURE_HEADER, sign
from bot.settings import SandboxSettings
from services import notifications
from services.clock import to_china_iso, utcnow
from services.notifications_models import DELIVERED, PENDING, REJECTED, NotificationEvent
from services.vehicle_transfer_rules import VehicleTransferRules

logger = logging.getLogger("services.notifications")

BATCH = 50
CLAIM_SECONDS = 30
POLL_SECONDS = 1.0
SWEEP_SECONDS = 60.0
POST_TIMEOUT = 5.0
RETRYABLE_4XX = frozenset({408, 425, 429})


def payload(row: NotificationEvent) -> dict[str, Any]:
    """What the notifier receives (docs/notifications.md)."""
    return {
        "event_id": row.event_id,
        "service": row.service,
        "reference": row.reference,
        "state": row.state,
        "detail": row.detail,
        "subscriber": row.subscriber,
        "occurred_at": to_china_iso(row.occurred_at),
    }


def pause_after(attempts: int, longest: float) -> float:
    return min(longest, 2.0 ** max(attempts - 1, 0))


class Dispatcher:
    def __init__(
        self,
        factory: sessionmaker,
        settings: SandboxSettings,
        secret: str,
        vehicle_rules: VehicleTransferRules,
        http: httpx.Client | None = None,
    ) -> None:
        self.factory = factory
        self.settings = settings
        self.secret = secret
        self.vehicle_rules = vehicle_rules
        self.http = http or httpx.Client(timeout=POST_TIMEOUT)
        self.wakeup = threading.Event()
        self.stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_sweep = 0.0

    def start(self) -> None:
        notifications.wake_me(self.wakeup)
        self._thread = threading.Thread(target=self._loop, name="notification-dispatcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.wakeup.set()
        notifications.forget_me(self.wakeup)
        if self._thread is not None:
            self._thread.join(timeout=POST_TIMEOUT + 5)
        self.http.close()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            self.wakeup.clear()
            try:
                if time.monotonic() >= self._next_sweep:
                    self.sweep()
                self.run_once()
            except Exception:  # the database away for a moment: try again at the next round
                logger.exception("notification dispatcher round failed")
            self.wakeup.wait(POLL_SECONDS)

    def sweep(self) -> int:
        self._next_sweep = time.monotonic() + SWEEP_SECONDS
        with self.factory() as session:
            return notifications.sweep(session, self.vehicle_rules)

    def run_once(self) -> int:
        """Post every due event once; the number the notifier accepted."""
        accepted = 0
        for event_id in self._due():
            row = self._claim(event_id)
            if row is not None:
                accepted += self._post(row)
        return accepted

    def _due(self) -> list[int]:
        now = utcnow()
        with self.factory() as session:
            return list(session.execute(
                select(NotificationEvent.id)
                .where(NotificationEvent.status == PENDING, NotificationEvent.next_attempt_at <= now,
                       or_(NotificationEvent.claimed_until.is_(None), NotificationEvent.claimed_until < now))
                .order_by(NotificationEvent.id)
                .limit(BATCH)
            ).scalars())

    def _claim(self, row_id: int) -> NotificationEvent | None:
        now = utcnow()
        with self.factory() as session:
            claimed = session.execute(
                update(NotificationEvent)
                .where(NotificationEvent.id == row_id, NotificationEvent.status == PENDING,
                       or_(NotificationEvent.claimed_until.is_(None), NotificationEvent.claimed_until < now))
                .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
            ).rowcount
            session.commit()
            return session.get(NotificationEvent, row_id) if claimed else None

    def _post(self, row: NotificationEvent) -> int:
        body = json.dumps(payload(row), ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(self.secret, body)}
        try:
            response = self.http.post(self.settings.notify_url, content=body, headers=headers)
            status, error = response.status_code, f"HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            status, error = None, type(failure).__name__
        if status is not None and 200 <= status < 300:
            self._finish(row.id, status=DELIVERED, delivered_at=utcnow(), claimed_until=None, last_error=None)
            return 1
        if status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX:
            logger.error("notification event %s rejected by the notifier (%s): not sent again", row.event_id, error)
            self._finish(row.id, status=REJECTED, claimed_until=None, last_error=error)
            return 0
        attempts = row.attempts + 1
        pause = pause_after(attempts, self.settings.notify_retry_max_seconds)
        logger.warning("notification event %s not accepted (%s), attempt %d; again in %.0f s",
                       row.event_id, error, attempts, pause)
        self._finish(row.id, attempts=attempts, claimed_until=None, last_error=error,
                     next_attempt_at=utcnow() + timedelta(seconds=pause))
        return 0

    def _finish(self, row_id: int, **values: datetime | str | int | None) -> None:
        with self.factory() as session:
            session.execute(update(NotificationEvent).where(NotificationEvent.id == row_id).values(**values))
            session.commit()
