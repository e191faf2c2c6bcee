"""Tracker and lock stores chosen by configuration, so one `endpoints.yml` serves both columns.

Rasa loads a custom store by class path and calls it with the endpoint's keys; these classes
hand back Rasa's own Redis stores when `REDIS_URL` is set, and the embedded defaults
(SQLite tracker store, in-memory lock store) otherwise.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from rasa.core.lock_store import InMemoryLockStore, LockStore, RedisLockStore
from rasa.core.tracker_store import TrackerStore

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
