"""Where this product reaches into Rasa's internals, and the one Rasa version that was checked.

- bot/rasa_server.py replaces `RemoteAction._validate_action_result` and `Event.resolve_by_type` (speed) and
  `RasaModel.load` (start-up: no training step), and wraps `rasa.core.run.configure_app` (the API guard, the heap
  freeze);
- bot/tracker_stores.py subclasses Rasa's SQL and Redis tracker stores and uses their protected parts
  (`_event_query`, `_retrieve`, `_stream_new_events`, `session_scope`, `SQLEvent`, `red`, `key_prefix`, …);
- bot/conversation_log.py subclasses `SQLEventBroker`;
- bot/stores.py configures `PikaEventBroker` by its constructor's keys (`queues`, `exchange_name`, …),
  bot/pika_broker.py subclasses it (`publish`, `_message`, `_exchange`, `_background_tasks`, the reconnect
  callback), and bot/log_consumer.py declares the same fanout exchange and durable queue it does.

Each use has a test in tests/unit/test_rasa_internals.py that fails when its target is gone or changed shape.
Every process that loads these modules checks the version first, so a Rasa upgrade stops at start-up with this
message instead of silently dropping a speed-up or a guard.
"""

from __future__ import annotations

import rasa

TESTED_RASA_VERSION = "3.6.21"


class UntestedRasaVersion(RuntimeError):
    pass


def check_rasa_version(found: str | None = None) -> None:
    found = found or rasa.__version__
    if found != TESTED_RASA_VERSION:
        raise UntestedRasaVersion(
            f"This code reaches into Rasa {TESTED_RASA_VERSION}'s internals and found Rasa {found}: run "
            "tests/unit/test_rasa_internals.py against the new version, adapt bot/rasa_server.py and "
            "bot/tracker_stores.py, then update TESTED_RASA_VERSION in bot/rasa_compat.py."
        )
