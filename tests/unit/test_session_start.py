"""A new session keeps a conversation paused while an operator holds it; otherwise it starts fresh."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionSessionStart


def session_tracker(paused: bool) -> Tracker:
    return Tracker(
        sender_id="citizen",
        slots={"person_name": "陈晓", "identity_token": "t"},
        latest_message={},
        events=[{"event": "pause"}] if paused else [],
        paused=paused,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def test_a_conversation_held_by_an_operator_stays_paused(domain: dict) -> None:
    events = await ActionSessionStart().run(CollectingDispatcher(), session_tracker(paused=True), domain)
    assert [e["event"] for e in events] == ["session_started", "pause", "action"]
    assert events[-1]["name"] == "action_listen"


async def test_a_new_session_carries_nothing_over(domain: dict) -> None:
    events = await ActionSessionStart().run(CollectingDispatcher(), session_tracker(paused=False), domain)
    assert [e["event"] for e in events] == ["session_started", "action"]  # no slots: identity is per session
