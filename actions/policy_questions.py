"""Policy questions: the best knowledge-base entry with its source and date, the closest questions when unsure, and
an honest "I don't know" (with where to ask) when nothing matches well enough. Never an invented answer."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.knowledge_base import ANSWER_THRESHOLD, SUGGEST_THRESHOLD, Entry, knowledge_base

MAX_SUGGESTIONS = 3


def say_entry(dispatcher: CollectingDispatcher, entry: Entry) -> None:
    issued = entry.source.date
    dispatcher.utter_message(
        response="utter_policy_answer", answer=entry.answer, citation=entry.source.citation,
        year=issued.year, month=issued.month, day=issued.day,
    )


def answer_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    kb = knowledge_base()
    chosen = next(tracker.get_latest_entity_values("policy_entry"), None)
    if chosen in kb.by_id:  # a suggestion button
        say_entry(dispatcher, kb.by_id[chosen])
        return
    matches = kb.search(tracker.latest_message.get("text") or "", limit=MAX_SUGGESTIONS)
    if matches and matches[0].score >= ANSWER_THRESHOLD:
        say_entry(dispatcher, matches[0].entry)
        return
    close = [match.entry for match in matches if match.score >= SUGGEST_THRESHOLD]
    if not close:
        dispatcher.utter_message(response="utter_policy_unknown")
        return
    buttons = [
        {"title": entry.question, "payload": f'/policy_question{{"policy_entry": "{entry.id}"}}'} for entry in close
    ]
    dispatcher.utter_message(response="utter_policy_suggestions", buttons=buttons)


async def answer_digression(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> bool:
    """Asked in the middle of a form: answered in place (digressions.py), then the form asks again."""
    answer_question(dispatcher, tracker)
    return True


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        answer_question(dispatcher, tracker)
        return []
