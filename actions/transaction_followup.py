"""After a transaction completes: invite the citizen to rate it (好差评) and watch it for progress notifications.

Runs after each form's finishing action (stories/*.yml); does nothing unless that action completed a transaction
with a reference (an application, a filing, a registration …) that was not followed up yet.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import notifications, rating
from bot.names import TRANSACTION_RESULT_SLOT

FOLLOWED_SLOT = "followed_up_references"
KEEP_REFERENCES = 20


class ActionTransactionFollowup(Action):
    def name(self) -> str:
        return "action_transaction_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        result: dict[str, Any] | None = tracker.get_slot(TRANSACTION_RESULT_SLOT)
        if not result or result.get("status") != "completed" or not result.get("reference"):
            return []
        service, reference = result["service"], str(result["reference"])
        followed: list[str] = list(tracker.get_slot(FOLLOWED_SLOT) or [])
        if reference in followed:  # the same application shown again (an idempotent retry): asked once
            return []
        events = await notifications.watch(tracker, service, reference)
        events.append(rating.invite(dispatcher, service, reference))
        events.append(SlotSet(FOLLOWED_SLOT, [*followed, reference][-KEEP_REFERENCES:]))
        return events
