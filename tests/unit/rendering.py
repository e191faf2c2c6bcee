"""An action's messages as the citizen reads them: responses filled by Rasa's own template filling
(TemplatedNaturalLanguageGenerator), as the Rasa server does when an action names a response."""

from __future__ import annotations

import re
from typing import Any

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa_sdk import Action, Tracker

from actions.wording import VARIABLE
from tests.unit.conftest import Outcome
from tests.unit.conftest import run as run_action

# utter_message's own arguments: everything else it is given is a value for the response.
NOT_VALUES = {"text", "image", "json_message", "response", "template", "attachment", "buttons", "elements", "custom"}
UNFILLED = re.compile(r"{[^{}\n]*}")


def texts_of(variation: dict[str, Any]) -> list[str]:
    """The filled parts of a variation: its text and its buttons."""
    buttons = [str(value) for button in variation.get("buttons") or [] for value in button.values()]
    return [variation.get("text") or "", *buttons]


def variables(variations: list[dict[str, Any]]) -> set[str]:
    return {name for variation in variations for text in texts_of(variation) for name in VARIABLE.findall(text)}


def render(messages: list[dict[str, Any]], domain: dict[str, Any], slots: dict[str, Any]) -> list[dict[str, Any]]:
    """The messages as the citizen gets them: what Rasa's RemoteAction does with an action's messages, with
    the slots the tracker had before the action ran. Fails when a value is missing or passed for nothing."""
    nlg = TemplatedNaturalLanguageGenerator(domain["responses"])
    filled = {name: None for name in domain["slots"]} | slots
    shown = []
    for message in messages:
        message = dict(message)
        name = message.pop("response", None)
        draft: dict[str, Any] = {}
        if name:
            passed = {k for k, v in message.items() if k not in NOT_VALUES}
            said = variables(domain["responses"][name])
            assert passed <= said, f"{name} does not say {sorted(passed - said)}"
            assert said <= passed | set(domain["slots"]), f"{name} is not given {sorted(said - passed)}"
            draft = nlg.generate_from_slots(name, filled, "rest", **message)
            draft["response"] = name
        buttons = message.pop("buttons", None) or []
        if buttons:
            draft.setdefault("buttons", []).extend(buttons)
        draft.update({k: v for k, v in message.items() if v})
        text = draft.get("text") or ""
        assert not UNFILLED.search(text) and "None" not in text, f"{name}: {text!r}"
        shown.append(draft)
    return shown


async def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> Outcome:
    """tests/unit/conftest.py's run, with the messages rendered as the citizen reads them."""
    before = dict(tracker.slots)  # a form's validation changes the tracker's slots while it runs
    outcome = await run_action(action, tracker, domain)
    return Outcome(outcome.events, render(outcome.messages, domain, before))


def part(domain: dict[str, Any], name: str, **values: Any) -> str:
    """A part of a message (e.g. a validator's reason), filled by Rasa."""
    rendered = TemplatedNaturalLanguageGenerator(domain["responses"]).generate_from_slots(name, {}, "rest", **values)
    assert rendered, name
    return rendered["text"]

