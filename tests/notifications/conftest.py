"""Fixtures of the notification tests: the sandbox on SQLite and PostgreSQL (tests/services), a webhook receiver
standing in for the notifier, and the shared secret both sides sign with."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.receiver import Receiver
from tests.services.conftest import database_url, make_client, make_server, postgres_url  # noqa: F401

SECRET = "test-notify-webhook-secret-" + "s" * 16


@pytest.fixture
def webhook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NOTIFY_WEBHOOK_SECRET", SECRET)
    return SECRET


@pytest.fixture
def receiver(webhook_secret: str) -> Iterator[Receiver]:
    started = Receiver(webhook_secret).start()
    yield started
    started.stop()
