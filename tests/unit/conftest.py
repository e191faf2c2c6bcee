"""Run custom actions the way the action server does: real rasa-sdk trackers, the real sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services
from bot.settings import ROOT

CLIENTS = (services.identity, services.rent_subsidy, services.immigration, services.campus, services.health_code,
           services.work_resumption, services.vehicle_transfer, services.tax, services.court)


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    return Domain.load(str(ROOT / "domain")).as_dict()


def _reset_clients() -> None:
    for factory in CLIENTS:
        factory.cache_clear()


@pytest.fixture
def live_services(sandbox_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Actions talk to the real sandbox (fresh clients: each test has its own event loop)."""
    yield from _actions_talking_to(sandbox_url, monkeypatch)


def _actions_talking_to(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SERVICES_URL", url)
    _reset_clients()
    yield url
    _reset_clients()


@pytest.fixture(scope="module")
def own_sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A sandbox for one test module, whose records (consents, filings, a moved clock) must not reach the others."""
    from bot.settings import SandboxSettings
    from tests.services.conftest import serving

    database = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]) / "services.db"
    with serving(SandboxSettings(database_url=f"sqlite:///{database}")) as url:
        yield url


@pytest.fixture
def own_services(own_sandbox: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The actions talk to the module's own sandbox (fresh clients: each test has its own event loop)."""
    yield from _actions_talking_to(own_sandbox, monkeypatch)


@pytest.fixture
def services_down(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Actions talk to a port where nothing listens."""
    from tests.conftest import free_port

    monkeypatch.setenv("SERVICES_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("SERVICES_DEADLINE", "2")
    _reset_clients()
    yield
    _reset_clients()


def tracker(
    text: str = "",
    intent: str = "inform",
    confidence: float = 0.95,
    entities: list[dict] | None = None,
    slots: dict[str, Any] | None = None,
    form: str | None = None,
    requested: str | None = None,
    sender: str = "tester",
    ranking: list[dict] | None = None,
) -> Tracker:
    slots = dict(slots or {})
    if requested:
        slots["requested_slot"] = requested
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        "entities": entities or [],
    }
    return Tracker(
        sender_id=sender,
        slots=slots,
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message, "input_channel": "rest"}],
        paused=False,
        followup_action=None,
        active_loop={"name": form} if form else {},
        latest_action_name="action_listen",
    )


def entity(name: str, value: str, text: str | None = None) -> dict:
    return {"entity": name, "value": value, "start": 0, "end": len(text or value)}


@dataclass
class Outcome:
    events: list[dict]
    messages: list[dict]

    @property
    def slots(self) -> dict[str, Any]:
        return {e["name"]: e["value"] for e in self.events if e.get("event") == "slot"}

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def responses(self) -> list[str]:
        return [m["response"] for m in self.messages if m.get("response")]

    @property
    def buttons(self) -> list[dict]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    @property
    def rejected(self) -> bool:
        return any(e.get("event") == "action_execution_rejected" for e in self.events)


async def run(action: Action, tracker: Tracker, domain: dict[str, Any]) -> Outcome:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain)
    return Outcome(events, dispatcher.messages)


def latest_code(sandbox_url: str, phone: str) -> str:
    import re

    outbox = httpx.get(f"{sandbox_url}/dev/sms-outbox", params={"phone": phone}).json()
    return re.search(r"\d{6}", outbox[0]["text"]).group()
