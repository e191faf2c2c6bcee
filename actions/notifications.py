"""Progress notifications in the conversation (docs/notifications.md).

- `watch(tracker, service, reference)`: after a completed transaction (actions/transaction_followup.py) the back end
  is asked to report state changes of that reference, with this conversation's id sealed (bot/sealing.py) as the
  subscriber. Never raises and waits at most WATCH_SECONDS: a notification is a courtesy, the transaction is done.
- `action_progress_notification`: the external intent EXTERNAL_progress_update, which the notifier (bot/notifier)
  triggers through Rasa's API, carries the event as entities; the citizen is told once per event (a repeated
  delivery finds the event id already in the tracker and says nothing) and the slot `progress_notified` tells the
  notifier it was said.
- In the middle of a form (actions/form_base.py asks `in_form`), the news is told and the form asks its question
  again: the back end's news is not the citizen's answer.
- "退订" / "订阅提醒": the citizen's wish is kept in the notifier's table beside the conversation log (by the log's
  keyed hash of the conversation id), so it outlives the tracker, which expires.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.engine import Engine

from bot.masking import hash_sender_id
from bot.names import SERVICE_LABELS, label
from bot.sealing import seal
from bot.settings import ServiceClientSettings, Settings
from integrations.services.notifications import NotificationsClient

logger = logging.getLogger(__name__)

EXTERNAL_INTENT = "EXTERNAL_progress_update"
STOP, RESUME = "notifications_stop", "notifications_resume"
NOTIFIED_SLOT = "progress_notified"  # the event id last told (bot/notifier/delivery.py reads it)
WATCH_SLOT = "progress_watch"  # {service, reference} last watched: operators see the subscription in the log
CONFIDENT = 0.7  # inside a form, "退订" must be clearly meant: any other text may be the answer asked for
WATCH_SECONDS = 3.0

# The services whose references the back end can watch (services/notifications_topics.py RESOLVERS).
WATCHABLE = frozenset({
    "rent_subsidy", "rent_subsidy_status", "vehicle_transfer", "vehicle_transfer_status", "work_resumption",
    "work_resumption_status", "court_hearing", "mediation", "health_code", "health_code_query",
    "health_code_check_in", "health_code_appeal", "job_fair_registration", "tax_deferral",
})
# A transaction's follow-up service names, by the kind of record they watch.
KINDS = {
    "rent_subsidy_status": "rent_subsidy",
    "vehicle_transfer_status": "vehicle_transfer",
    "work_resumption_status": "work_resumption",
    "health_code_query": "health_code",
    "health_code_check_in": "health_code",
    "health_code_appeal": "health_code",
}


# --- watching --------------------------------------------------------------------------------------------------------


@cache
def _client() -> NotificationsClient:
    # Short waits, one retry: the citizen is waiting for the end of the transaction's answer, not for this.
    config = ServiceClientSettings.from_env(timeout=2.0, deadline=WATCH_SECONDS, max_retries=1)
    return NotificationsClient(config)


async def watch(tracker: Tracker, service: str, reference: str) -> list[EventType]:
    """Ask the back end to tell us when `reference` of `service` changes state; events to add to the tracker."""
    token = tracker.get_slot("identity_token")
    if service not in WATCHABLE or not reference or not token:
        return []
    try:
        await asyncio.wait_for(
            _client().subscribe(token=token, chat_user=tracker.sender_id, service=service, reference=reference,
                                subscriber=seal(tracker.sender_id)),
            WATCH_SECONDS + 0.5,
        )
    except Exception as error:  # the transaction is done whatever happens here
        reason = getattr(error, "code", None) or getattr(error, "reason", None) or type(error).__name__
        logger.warning("progress of a %s transaction not watched for %s (%s)", service,
                       hash_sender_id(tracker.sender_id), reason)
        return []
    return [SlotSet(WATCH_SLOT, {"service": service, "reference": reference})]


# --- telling -------------------------------------------------------------------------------------------------------


def _entity(tracker: Tracker, name: str) -> str:
    return str(next(tracker.get_latest_entity_values(name), None) or "")


def _told_before(tracker: Tracker, event_id: str) -> bool:
    return any(
        event.get("event") == "slot" and event.get("name") == NOTIFIED_SLOT and event.get("value") == event_id
        for event in tracker.events
    )


@dataclass(frozen=True)
class Progress:
    service: str  # the Chinese label
    reference: str
    detail: str  # the back end's sentence, without its final full stop


Tell = Callable[[CollectingDispatcher, Progress], None]
# What changed → how the citizen is told (domain/notifications.yml); anything else gets the general wording.
TELL: dict[tuple[str, str], Tell] = {
    ("rent_subsidy", "paid"): lambda d, p: d.utter_message(
        response="utter_progress_rent_subsidy_paid", reference=p.reference, detail=p.detail),
    ("vehicle_transfer", "archive_sent"): lambda d, p: d.utter_message(
        response="utter_progress_vehicle_archive_sent", reference=p.reference, detail=p.detail),
    ("vehicle_transfer", "destination_checked"): lambda d, p: d.utter_message(
        response="utter_progress_vehicle_checked", reference=p.reference, detail=p.detail),
    ("vehicle_transfer", "completed"): lambda d, p: d.utter_message(
        response="utter_progress_vehicle_completed", reference=p.reference, detail=p.detail),
    ("work_resumption", "approved"): lambda d, p: d.utter_message(
        response="utter_progress_work_resumption_approved", reference=p.reference, detail=p.detail),
    ("court_hearing", "rescheduled"): lambda d, p: d.utter_message(
        response="utter_progress_hearing_rescheduled", reference=p.reference, detail=p.detail),
    ("mediation", "revised"): lambda d, p: d.utter_message(
        response="utter_progress_mediation_revised", reference=p.reference, detail=p.detail),
    ("health_code", "green"): lambda d, p: d.utter_message(response="utter_progress_health_code_green"),
}


def _tell_in_general(dispatcher: CollectingDispatcher, progress: Progress) -> None:
    dispatcher.utter_message(response="utter_progress_update", service=progress.service,
                             reference=progress.reference, detail=progress.detail)


def announce(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Tell the citizen what the external intent carries, once per event."""
    event_id = _entity(tracker, "notification_event")
    if not event_id:
        return []
    if _told_before(tracker, event_id):  # delivered again after a crash or a timeout: said once
        return [SlotSet(NOTIFIED_SLOT, event_id)]
    service, state = _entity(tracker, "notification_service"), _entity(tracker, "notification_state")
    progress = Progress(label(SERVICE_LABELS, service), _entity(tracker, "notification_reference"),
                        _entity(tracker, "notification_detail").rstrip("。"))
    TELL.get((KINDS.get(service, service), state), _tell_in_general)(dispatcher, progress)
    return [SlotSet(NOTIFIED_SLOT, event_id)]


class ActionProgressNotification(Action):
    def name(self) -> str:
        return "action_progress_notification"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return announce(dispatcher, tracker)


# --- opting out and in -----------------------------------------------------------------------------------------------


@cache
def _engine() -> Engine:
    from bot.log_migrations import ensure_schema
    from bot.sqlite import create_engine

    engine = create_engine(Settings.from_env().conversation_log_url)
    ensure_schema(engine)
    return engine


async def _remember(sender_id: str, out: bool) -> bool:
    from bot.notifier.store import set_opted_out

    try:
        # _engine() creates and migrates the database the first time: in the thread, not on the event loop.
        await asyncio.to_thread(lambda: set_opted_out(_engine(), hash_sender_id(sender_id), out))
    except Exception as error:  # the hash itself may be what failed: the log names no one
        logger.warning("a notification preference was not saved (%s)", type(error).__name__)
        return False
    return True


async def change_preference(dispatcher: CollectingDispatcher, tracker: Tracker, out: bool) -> list[EventType]:
    if not await _remember(tracker.sender_id, out):
        dispatcher.utter_message(response="utter_notifications_change_failed")
    else:
        dispatcher.utter_message(response="utter_notifications_stopped" if out else "utter_notifications_resumed")
    return []


class ActionNotificationsStop(Action):
    def name(self) -> str:
        return "action_notifications_stop"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await change_preference(dispatcher, tracker, out=True)


class ActionNotificationsResume(Action):
    def name(self) -> str:
        return "action_notifications_resume"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return await change_preference(dispatcher, tracker, out=False)


# --- inside a form ---------------------------------------------------------------------------------------------------


def _latest_intent(tracker: Tracker) -> tuple[str, float]:
    intent: dict[str, Any] = tracker.latest_message.get("intent") or {}
    return intent.get("name") or "", float(intent.get("confidence") or 0.0)


def in_form(tracker: Tracker) -> bool:
    """Is the message the form is looking at about notifications rather than an answer to its question?"""
    intent, confidence = _latest_intent(tracker)
    return intent == EXTERNAL_INTENT or (intent in (STOP, RESUME) and confidence >= CONFIDENT)


async def handle_in_form(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """Tell the news or record the wish; the form then asks its question again (actions/form_base.py)."""
    intent, _ = _latest_intent(tracker)
    if intent == EXTERNAL_INTENT:
        return announce(dispatcher, tracker)
    return await change_preference(dispatcher, tracker, out=intent == STOP)
