"""Tracker store, lock store and event broker chosen by configuration, so one `endpoints.yml` serves both columns.

Rasa loads a custom store by class path and calls it with the endpoint's keys; these classes
hand back Rasa's own Redis stores when `REDIS_URL` is set, and the embedded defaults
(SQLite tracker store, in-memory lock store) otherwise. The event broker is Rasa's own PikaEventBroker when
`RABBITMQ_URL` is set (the log consumer, bot/log_consumer.py, masks and stores the events), and the in-process
masked conversation log (bot/conversation_log.py) otherwise.
"""

from __future__ import annotations

from asyncio import AbstractEventLoop
from typing import Any
from urllib.parse import urlparse

from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore
from rasa.utils.endpoints import EndpointConfig

from bot.settings import Settings
from bot.tracker_stores import TRACKER_DB_NAME, FastRedisTrackerStore, FastSQLTrackerStore

KEY_PREFIX = "govbot"


def redis_kwargs(url: str) -> dict[str, Any]:
    parsed = urlparse(url)
    return {
        "host": parsed.hostname or "localhost",
        "port": parsed.port or 6379,
        "db": int(parsed.path.strip("/") or 0),
        "password": parsed.password,
        "use_ssl": parsed.scheme == "rediss",
    }


class ConfiguredTrackerStore:
    def __new__(cls, domain: Any, event_broker: Any = None, **_: Any) -> TrackerStore:  # type: ignore[misc]
        settings = Settings.from_env()
        if settings.redis_url:
            return FastRedisTrackerStore(
                domain=domain,
                event_broker=event_broker,
                record_exp=settings.tracker_ttl_seconds,
                key_prefix=KEY_PREFIX,
                **redis_kwargs(settings.redis_url),
            )
        return FastSQLTrackerStore(
            domain=domain,
            event_broker=event_broker,
            dialect="sqlite",
            db=str(settings.var_dir / TRACKER_DB_NAME),
            record_exp=settings.tracker_ttl_seconds,  # raw personal data expires, as in Redis
        )


class ConfiguredLockStore:
    def __new__(cls, **_: Any) -> LockStore:  # type: ignore[misc]
        settings = Settings.from_env()
        if settings.redis_url:
            return RedisLockStore(key_prefix=KEY_PREFIX, **redis_kwargs(settings.redis_url))
        return InMemoryLockStore()


def pika_endpoint(settings: Settings, **options: Any) -> EndpointConfig:
    """The endpoint of Rasa's PikaEventBroker for RABBITMQ_URL: one durable queue bound to the fanout exchange."""
    url = str(settings.rabbitmq_url)
    parsed = urlparse(url)
    # PikaEventBroker rebuilds its URL from these; credentials exactly as written (still %-quoted) keep it intact.
    kwargs: dict[str, Any] = {
        "username": parsed.username or "guest",
        "password": parsed.password or "guest",
        "port": parsed.port or (5671 if parsed.scheme == "amqps" else 5672),
        "queues": [settings.rabbitmq_queue],
        "exchange_name": settings.rabbitmq_exchange,
        **options,
    }
    return EndpointConfig(url=url, type="pika", **kwargs)


class ConfiguredEventBroker(EventBroker):
    """`event_broker: {type: bot.stores.ConfiguredEventBroker}`. Rasa awaits `from_endpoint_config` for a custom
    broker class; it hands back a broker of Rasa's (or ours), never an instance of this class.

    With RABBITMQ_URL: Rasa's PikaEventBroker (bot/pika_broker.py: failed events sent again, in order), publishing
    the raw events (as the tracker store holds them) to RabbitMQ; the log consumer masks them before they are
    stored. Without it: MaskingSQLEventBroker, given the
    endpoint's own keys (`url`, echo memory)."""

    def __new__(cls, **kwargs: Any) -> EventBroker:  # type: ignore[misc]
        raise TypeError("use `await ConfiguredEventBroker.from_endpoint_config(config)` (Rasa does)")

    @classmethod
    async def from_endpoint_config(  # type: ignore[override]
        cls, broker_config: EndpointConfig | None, event_loop: AbstractEventLoop | None = None
    ) -> EventBroker | None:
        from bot.masking import install_log_masking

        settings = Settings.from_env()
        if not settings.rabbitmq_url:
            from bot.conversation_log import MaskingSQLEventBroker

            return await MaskingSQLEventBroker.from_endpoint_config(broker_config or EndpointConfig(), event_loop)

        from bot.pika_broker import ReliablePikaEventBroker

        install_log_masking()  # Rasa's Pika broker logs the events it publishes (debug): masked, like ours
        options = dict(broker_config.kwargs) if broker_config else {}
        return await ReliablePikaEventBroker.from_endpoint_config(pika_endpoint(settings, **options), event_loop)
