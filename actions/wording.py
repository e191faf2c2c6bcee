"""What the assistant says lives in the domain's responses (domain/*.yml); this module fills the parts of a message.

A whole message is sent by name: `dispatcher.utter_message(response="utter_…", **values)`; Rasa picks the variation
(by channel and slot conditions) and fills in the values. Rasa cannot repeat a piece of a response or leave one
out, so a message whose shape depends on the data is built from parts that are responses too: one line per job
fair, a note only when there is one, the reason an answer was refused inside the form's reply. An action fills those
parts here, picked and filled the way Rasa does it, and passes the text as a value of the message.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

logger = logging.getLogger(__name__)

# Rasa's own pattern for a variable (rasa/core/nlg/interpolator.py): no line break or brace inside.
VARIABLE = re.compile(r"{([^\n{}]+?)}")


def fill(template: str, values: dict[str, Any]) -> str:
    """The template with each {name} replaced; as in Rasa, a template with an unknown name stays as it is."""
    try:
        return VARIABLE.sub(lambda match: str(values[match.group(1)]), template)
    except KeyError as missing:
        logger.error("wording: no value for %s in %r", missing, template)
        return template


def _matches(variation: dict[str, Any], slots: dict[str, Any]) -> bool:
    for condition in variation.get("condition") or []:
        wanted, value = condition.get("value"), slots.get(condition.get("name"))
        if isinstance(wanted, str) and isinstance(value, str):
            if wanted.casefold() != value.casefold():
                return False
        elif wanted != value:
            return False
    return True


def pick(variations: list[dict[str, Any]], channel: str | None, slots: dict[str, Any]) -> dict[str, Any]:
    """The variation Rasa would choose (rasa/core/nlg/generator.py: ResponseVariationFilter), always the first of
    the fitting ones rather than a random one: a part of a message must read the same every time."""
    conditional = [v for v in variations if v.get("condition") and _matches(v, slots)]
    default = [v for v in variations if not v.get("condition")]
    for candidates in (
        [v for v in conditional if v.get("channel") == channel],
        [v for v in default if v.get("channel") == channel],
        [v for v in conditional if not v.get("channel")],
        [v for v in default if not v.get("channel")],
    ):
        if candidates:
            return candidates[0]
    return variations[0]


class Wording:
    """The domain's parts of messages for one conversation turn (its channel and slots choose the variation)."""

    def __init__(self, domain: DomainDict, tracker: Tracker) -> None:
        self.responses: dict[str, list[dict[str, Any]]] = domain.get("responses") or {}
        self.channel = tracker.get_latest_input_channel()
        self.slots = dict(tracker.slots)

    def part(self, name: str, **values: Any) -> str:
        variations = self.responses.get(name)
        if not variations:
            # A wrong name is a bug (tests/unit/test_responses.py checks every name); say something rather than fail.
            logger.error("wording: no response %s in the domain", name)
            return ""
        return fill(pick(variations, self.channel, self.slots).get("text") or "", values)
