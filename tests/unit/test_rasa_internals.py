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


def test_the_reliable_pika_broker_overrides_what_rasas_broker_calls() -> None:
    from rasa.core.brokers.pika import PikaEventBroker

    # bot/pika_broker.py replaces the publication and its failure path and reuses the message format.
    source = inspect.getsource(PikaEventBroker)
    assert "reconnect_callbacks.add(self._publish_unpublished_messages)" in source
    assert "self._background_tasks" in source and "self._exchange = " in source and "self._loop" in source
    assert parameters(PikaEventBroker._message) == ["self", "event", "headers"]
    assert parameters(PikaEventBroker.publish) == ["self", "event", "headers"]


def test_diet_loaded_without_a_training_step_predicts_exactly_as_rasas_own_loading() -> None:
    """bot/rasa_server.py's `_load_for_prediction`: the same intents, confidences (bit for bit) and entities as
    Rasa's `RasaModel.load`, on held-out messages, from the trained model in models/."""
    import asyncio
    from pathlib import Path

    from rasa.core.agent import Agent
    from rasa.shared.nlu.training_data.loading import load_data
    from rasa.utils.tensorflow.models import RasaModel

    models = sorted(Path("models").glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        pytest.fail("no trained model in models/: run `make test` (it trains first)")
    texts = [m.get("text") for m in load_data("tests/nlu/heldout_general_services.yml").intent_examples][::6][:40]

    def parsed_with(load: object) -> list[tuple]:
        original = RasaModel.__dict__["load"]
        RasaModel.load = load  # type: ignore[method-assign]
        try:
            agent = Agent.load(str(models[-1]))
            results = [asyncio.run(agent.parse_message(text)) for text in texts]
        finally:
            RasaModel.load = original  # type: ignore[method-assign]
        return [(r["intent"]["name"], [(i["name"], i["confidence"]) for i in r["intent_ranking"]],
                 [(e["entity"], e["start"], e["end"]) for e in r["entities"]]) for r in results]

    rasas = parsed_with(classmethod(rasa_server._original_model_load))
    ours = parsed_with(classmethod(rasa_server._load_for_prediction))
    assert len(texts) >= 30 and ours == rasas


def test_the_server_leaves_jax_out_and_runs_tensorflow_on_one_thread_per_pool() -> None:
    import re
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300)

    def imports_jax(importtime: str) -> bool:
        # A blocked import still gets a line, of a few microseconds; jax itself takes hundreds of milliseconds.
        found = re.search(r"\|\s+(\d+) \|\s+jax$", importtime, re.MULTILINE)
        return found is not None and int(found.group(1)) > 10_000

    assert imports_jax(run("-X", "importtime", "-c", "import tensorflow").stderr)  # what the patch prevents
    server = run("-X", "importtime", "-m", "bot.rasa_server", "--version")
    assert "Rasa Version" in server.stdout and re.search(r"\|\s+tensorflow$", server.stderr, re.MULTILINE)
    assert not imports_jax(server.stderr)
    pools = run("-c", "from bot.rasa_server import one_thread_per_pool as f, tf; f(); c = tf.config.threading; "
                      "print(c.get_intra_op_parallelism_threads(), c.get_inter_op_parallelism_threads())")
    assert pools.stdout.split()[-2:] == ["1", "1"], pools.stderr
