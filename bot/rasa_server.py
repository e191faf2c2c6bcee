"""Rasa's own command line, with two measured performance fixes (`python -m bot.rasa_server run ...`).

Profiling the Rasa server under load (py-spy, bench/run.py) showed two hot spots that do constant work again
on every turn; both fixes keep Rasa's behaviour:
- every action server response is checked with `jsonschema.validate`, which re-checks the large, constant
  schema and builds a new validator each call (about 40 % of the CPU per turn): one validator is built once,
  and invalid responses are still rejected with the same error;
- every stored event is deserialised through `Event.resolve_by_type`, which walks all Event subclasses each
  time (about 10 %): the type name -> class map is cached and rebuilt when a new name appears.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses


@cache
def _response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        _response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise


_event_classes: dict[str, type[Event]] = {}
_original_resolve_by_type = Event.resolve_by_type


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    if type_name not in _event_classes:
        # First match wins, as in Rasa's own loop over all_subclasses(Event).
        _event_classes.update({c.type_name: c for c in reversed(all_subclasses(Event))})
    found = _event_classes.get(type_name)
    return found if found is not None else _original_resolve_by_type(type_name, default)


def apply_fixes() -> None:
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]


def main() -> None:
    apply_fixes()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
