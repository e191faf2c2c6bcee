"""好差评: the citizen rates each completed transaction (five levels, an optional comment).

The invitation comes from actions/transaction_followup.py with the five levels as buttons; it never blocks: the
citizen may just go on. A rating is kept in slot `service_rating`, so it reaches the conversation log (masked like
every event) and from there the console, which opens a follow-up for 不满意 and worse (console/ratings.py).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecutionRejected, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import digressions
from actions.form_base import GovFormValidationAction, SlotSpec, latest_intent
from actions.validators.common import Invalid, Result, Valid
from bot import rating_levels
from bot.names import SERVICE_LABELS, label

PENDING_SLOT = "rating_pending"  # {service, reference}: the transaction the citizen was invited to rate
RATING_SLOT = "service_rating"  # the rating itself, read by the console from the log
COMMENT_SLOT = "rating_comment"
COMMENT_FORM = "rating_comment_form"
SKIPPED = "（未填写）"
SKIP_WORDS = ("跳过", "不用了", "不用", "没有", "没了", "算了", "不说了", "无", "不想说", "没什么", "没啥")
MAX_COMMENT = 500
# Said while the comment is asked, these start something else: the comment is dropped, nothing is blocked.
ELSEWHERE = digressions.OTHER_TRANSACTIONS | {"entry_control_query", "port_status_query", "greet", "help",
                                              "rate_service", "policy_question", "rent_subsidy_policy"}
CONFIDENT = 0.8


def level_buttons() -> list[dict[str, str]]:
    return [{"title": level, "payload": f'/rate_service{{"rating_level":"{level}"}}'}
            for level in rating_levels.LEVELS]


def invite(dispatcher: CollectingDispatcher, service: str, reference: str) -> SlotSet:
    """The invitation to rate, with one button per level; returns the slot that remembers what is being rated."""
    dispatcher.utter_message(response="utter_ask_rating", service=label(SERVICE_LABELS, service),
                             buttons=level_buttons())
    return SlotSet(PENDING_SLOT, {"service": service, "reference": reference})


def _level(tracker: Tracker) -> str | None:
    for value in tracker.get_latest_entity_values("rating_level"):
        level = rating_levels.parse(str(value))
        if level:
            return level
    return rating_levels.parse(tracker.latest_message.get("text"))


def _typed_comment(tracker: Tracker) -> str | None:
    text = (tracker.latest_message.get("text") or "").strip()
    if text.startswith("/"):  # a button
        return None
    comment = rating_levels.comment_in(text)
    return comment[:MAX_COMMENT] if comment else None


class ActionRecordRating(Action):
    """A rating: of the transaction just invited, or a change of the one given before."""

    def name(self) -> str:
        return "action_record_rating"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        pending: dict[str, Any] | None = tracker.get_slot(PENDING_SLOT)
        previous: dict[str, Any] | None = tracker.get_slot(RATING_SLOT)
        level = _level(tracker)
        if level is None:  # "我要评价": invite again when there is something to rate
            if pending:
                return [invite(dispatcher, pending["service"], pending["reference"])]
            dispatcher.utter_message(response="utter_rating_nothing_pending")
            return []
        if pending:
            rating = {"rating_id": uuid.uuid4().hex, "service": pending["service"],
                      "reference": pending["reference"], "comment": None}
        elif previous:
            rating = dict(previous)
        else:
            dispatcher.utter_message(response="utter_rating_nothing_pending")
            return []
        rating.update(level=level, score=rating_levels.SCORES[level], rated_at=time.time())
        rating["comment"] = _typed_comment(tracker) or rating.get("comment")
        events: list[EventType] = [SlotSet(RATING_SLOT, rating), SlotSet(PENDING_SLOT, None)]
        service = label(SERVICE_LABELS, rating["service"])
        if level not in rating_levels.BAD:
            dispatcher.utter_message(response="utter_rating_thanks" if pending else "utter_rating_updated",
                                     service=service, level=level)
            return events
        if rating["comment"] or not pending:
            dispatcher.utter_message(response="utter_rating_bad_noted", service=service)
            return events
        return [*events, SlotSet(COMMENT_SLOT, None), FollowupAction(COMMENT_FORM)]


def validate_rating_comment(text: str) -> Result:
    value = text.strip()
    if value.strip("。.！!～~ ") in SKIP_WORDS:
        return Valid(SKIPPED)
    if len(value) > MAX_COMMENT:
        return Invalid("utter_invalid_rating_comment_long", {"length": len(value), "most": MAX_COMMENT})
    return Valid(value)


class ValidateRatingCommentForm(GovFormValidationAction):
    """One free question after a bad rating: what went wrong. Skippable; another request leaves it at once."""

    specs = {
        COMMENT_SLOT: SlotSpec(validate_rating_comment, "utter_explain_rating_comment", free_text=True, prose=True,
                               intents={"deny": SKIPPED, "cancel": SKIPPED}),
    }

    def name(self) -> str:
        return "validate_rating_comment_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent, confidence = latest_intent(tracker)
        asking = (tracker.active_loop or {}).get("name") == COMMENT_FORM and tracker.get_slot("requested_slot")
        if asking and intent in ELSEWHERE and confidence >= CONFIDENT:
            # The rules then run what was asked for; the comment is simply not given.
            return [ActionExecutionRejected(COMMENT_FORM)]
        return await super().run(dispatcher, tracker, domain)


class ActionRecordRatingComment(Action):
    """The comment joins the rating; the citizen hears who follows it up."""

    def name(self) -> str:
        return "action_record_rating_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        comment = tracker.get_slot(COMMENT_SLOT)
        rating: dict[str, Any] | None = tracker.get_slot(RATING_SLOT)
        events: list[EventType] = [SlotSet(COMMENT_SLOT, None)]
        if not rating:
            return events
        service = label(SERVICE_LABELS, rating["service"])
        if comment and comment != SKIPPED:
            events.append(SlotSet(RATING_SLOT, {**rating, "comment": comment}))
        dispatcher.utter_message(response="utter_rating_bad_noted", service=service)
        return events
