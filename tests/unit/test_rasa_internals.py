"""Every place that reaches into Rasa (bot/rasa_compat.py lists them): each test fails when its target is gone,
has changed shape, or the patch no longer takes effect, so a Rasa upgrade cannot silently drop a guard or a
speed-up."""

from __future__ import annotations

import inspect

import pytest
import rasa.core.run
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore, TrackerStore
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from sanic import Sanic

from bot import rasa_server
from bot.rasa_compat import UntestedRasaVersion, check_rasa_version


def parameters(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_another_rasa_version_stops_at_start_up() -> None:
    check_rasa_version()  # the installed one is the tested one
    with pytest.raises(UntestedRasaVersion, match="3.7.0"):
        check_rasa_version("3.7.0")


def test_the_cached_action_response_check_still_rejects_a_bad_response() -> None:
    assert callable(RemoteAction.action_response_format_spec)
    assert parameters(RemoteAction._validate_action_result) == ["self", "result"]
    rasa_server.apply_fixes()
    assert RemoteAction._validate_action_result is rasa_server._validate_action_result
    action = object.__new__(RemoteAction)
    assert action._validate_action_result({"events": [], "responses": []}) is True
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})


def test_the_cached_event_types_resolve_as_rasa_does() -> None:
    original = rasa_server._original_resolve_by_type
    assert parameters(original) == ["type_name", "default"]
    rasa_server.apply_fixes()
    assert Event.resolve_by_type is rasa_server._resolve_by_type
    for event_class in all_subclasses(Event):
        name = getattr(event_class, "type_name", None)
        if isinstance(name, str):
            assert Event.resolve_by_type(name) is original(name), name
    with pytest.raises(ValueError, match="no-such-event"):
        Event.resolve_by_type("no-such-event")


def server_listeners(app: Sanic) -> list[str]:
    """Names of the server listeners of `app` (Sanic 21.12 keeps them as signal handlers)."""
    handlers = [h for route in app.signal_router.routes for h in getattr(route, "handlers", [route.handler])]
    listeners = [h.keywords["listener"] for h in handlers if "listener" in getattr(h, "keywords", {})]
    return [getattr(listener, "__name__", "") for listener in listeners]


def test_every_app_rasa_builds_is_guarded_and_freezes_its_heap() -> None:
    assert {"input_channels", "enable_api", "cors", "auth_token"} <= set(parameters(rasa.core.run.configure_app))
    original = rasa.core.run.configure_app
    Sanic.test_mode = True
    try:
        rasa_server.guard_api("t" * 40)
        app = rasa.core.run.configure_app(input_channels=None, enable_api=True)
        middleware = [getattr(m, "__name__", "") for m in app.request_middleware]
        assert "require_token" in middleware
        assert app.config.REQUEST_MAX_SIZE == 1024 * 1024
        assert "freeze_loaded_objects" in server_listeners(app)
    finally:
        rasa.core.run.configure_app = original


def test_the_tracker_stores_find_what_they_subclass() -> None:
    all_sessions = "fetch_events_from_all_sessions"
    assert parameters(SQLTrackerStore._event_query) == ["self", "session", "sender_id", all_sessions]
    assert parameters(SQLTrackerStore._retrieve) == ["self", "sender_id", all_sessions]
    assert inspect.isfunction(SQLTrackerStore.session_scope.__wrapped__)  # a contextmanager
    assert hasattr(SQLTrackerStore, "SQLEvent") and {"sender_id", "timestamp", "data", "id"} <= set(
        SQLTrackerStore.SQLEvent.__table__.columns.keys()
    )
    assert parameters(TrackerStore._stream_new_events) == ["self", "event_broker", "new_events", "sender_id"]
    assert parameters(TrackerStore.stream_events) == ["self", "tracker"]
    assert parameters(RedisTrackerStore.save) == ["self", "tracker", "timeout"]
    redis_init = inspect.getsource(RedisTrackerStore.__init__)
    assert all(f"self.{name} =" in redis_init for name in ("red", "key_prefix", "record_exp"))
    assert callable(RedisTrackerStore.serialise_tracker) and callable(RedisTrackerStore.deserialise_tracker)


def test_the_conversation_log_finds_what_it_subclasses() -> None:
    assert parameters(SQLEventBroker.publish) == ["self", "event"]
    assert inspect.ismethod(SQLEventBroker.from_endpoint_config)
    assert hasattr(SQLEventBroker, "session_scope")


def test_the_pika_broker_takes_the_keys_the_configured_broker_gives_it() -> None:
    from rasa.core.brokers.pika import PikaEventBroker

    from bot.settings import Settings
    from bot.stores import pika_endpoint

    accepted = set(parameters(PikaEventBroker.__init__))
    given = pika_endpoint(Settings.from_env({"RABBITMQ_URL": "amqp://u:p@h:5672/"})).kwargs
    assert set(given) <= accepted, set(given) - accepted
    assert inspect.ismethod(PikaEventBroker.from_endpoint_config)
    # The log consumer declares the exchange and the queue as Rasa does (a different declaration is refused).
    source = inspect.getsource(PikaEventBroker)
    assert "declare_exchange(\n            self.exchange_name, type=aio_pika.ExchangeType.FANOUT\n        )" in source
    assert "declare_queue(queue_name, durable=True)" in source
