"""Rasa's own command line, with its HTTP API guarded and two measured performance fixes
(`python -m bot.rasa_server run ...`).

The guard (bot/api_guard.py) is installed on the Sanic app that `rasa.core.run.configure_app` builds: every route
other than the channels' webhooks needs the API token in an Authorization header. This reaches into Rasa, so it is
applied only to the Rasa version it was written and tested for (tests/security/test_rasa_api.py).

Profiling the Rasa server under load (py-spy, bench/run.py) showed two hot spots that do constant work again
on every turn; both fixes keep Rasa's behaviour:
- every action server response is checked with `jsonschema.validate`, which re-checks the large, constant
  schema and builds a new validator each call (about 40 % of the CPU per turn): one validator is built once,
  and invalid responses are still rejected with the same error;
- every stored event is deserialised through `Event.resolve_by_type`, which walks all Event subclasses each
  time (about 10 %): the type name -> class map is cached and rebuilt when a new name appears.
"""

from __future__ import annotations

import gc
import sys
from functools import cache, wraps
from typing import Any

import rasa.core.run
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses

from bot import api_guard
from bot.rasa_compat import UntestedRasaVersion, check_rasa_version
from bot.secret_store import RASA_API_TOKEN, shared_secret


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
    check_rasa_version()
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    Event.resolve_by_type = staticmethod(_resolve_by_type)  # type: ignore[method-assign]


async def freeze_loaded_objects(_app: Any, _loop: Any) -> None:
    """after_server_start: the model, spaCy and TensorFlow are loaded (before_server_start). A full garbage
    collection walks every tracked object; on this heap it stalls the event loop for about a second, and a client
    sending many requests makes collections frequent. What is loaded now lives as long as the process: moved to
    the permanent generation (gc.freeze), it is no longer walked."""
    gc.collect()
    gc.freeze()


def guard_api(token: str) -> None:
    """Make every app Rasa builds from now on answer only the webhooks without `token` (see bot/api_guard.py)."""
    check_rasa_version()
    original = rasa.core.run.configure_app
    if getattr(original, "guarded", False):
        return

    @wraps(original)
    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = original(*args, **kwargs)
        api_guard.install(app, token)
        app.register_listener(freeze_loaded_objects, "after_server_start")
        return app

    configure_app.guarded = True  # type: ignore[attr-defined]
    rasa.core.run.configure_app = configure_app


def main() -> None:
    try:
        apply_fixes()
    except UntestedRasaVersion as error:
        raise SystemExit(str(error)) from error
    guard_api(shared_secret(RASA_API_TOKEN))
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
