"""The actions' access to the government services: one shared client per back end.

Clients keep an HTTP connection pool, so they live as long as the action server process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from integrations.services import (
    CampusClient,
    IdentityClient,
    ImmigrationClient,
    RentSubsidyClient,
    ServiceUnavailable,
)

RESULT_SLOT = "transaction_result"


def result(service: str, status: str, reference: str | None = None) -> dict[str, Any]:
    """One service call's outcome, kept in slot `transaction_result` so the operator console can count
    completed transactions and service errors per service. status: completed | rejected | error."""
    return {"service": service, "status": status, "reference": reference}


def result_event(service: str, status: str, reference: str | None = None) -> SlotSet:
    return SlotSet(RESULT_SLOT, result(service, status, reference))


@cache
def identity() -> IdentityClient:
    return IdentityClient()


@cache
def rent_subsidy() -> RentSubsidyClient:
    return RentSubsidyClient()


@cache
def immigration() -> ImmigrationClient:
    return ImmigrationClient()


@cache
def campus() -> CampusClient:
    return CampusClient()


def tell_unavailable(dispatcher: CollectingDispatcher, error: ServiceUnavailable, kept: str = "") -> None:
    """Say plainly that a service is down, what was kept, and what the user can do now."""
    dispatcher.utter_message(
        text=f"{error.message}{kept}您可以稍后再试，或回复“转人工”由工作人员协助您。",
        buttons=[{"title": "转人工", "payload": "/request_human"}],
    )
