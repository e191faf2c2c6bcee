"""The actions' access to the government services: one shared client per back end.

Clients keep an HTTP connection pool, so they live as long as the action server process.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.names import TRANSACTION_RESULT_SLOT
from integrations.services import (
    CampusClient,
    CourtClient,
    HealthCodeClient,
    IdentityClient,
    ImmigrationClient,
    RentSubsidyClient,
    ServiceRejected,
    ServiceUnavailable,
    TaxClient,
    VehicleTransferClient,
    WorkResumptionClient,
)

RESULT_SLOT = TRANSACTION_RESULT_SLOT


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


@cache
def health_code() -> HealthCodeClient:
    return HealthCodeClient()


@cache
def work_resumption() -> WorkResumptionClient:
    return WorkResumptionClient()


@cache
def vehicle_transfer() -> VehicleTransferClient:
    return VehicleTransferClient()


@cache
def tax() -> TaxClient:
    return TaxClient()


@cache
def court() -> CourtClient:
    return CourtClient()


def tell_unavailable(dispatcher: CollectingDispatcher, error: ServiceUnavailable, response: str) -> None:
    """Say plainly that a service is down, what was kept, and what the user can do now.

    `response` is one of the utter_service_unavailable… responses: each says what was kept in that situation."""
    dispatcher.utter_message(response=response, service=error.service)


def tell_refused(dispatcher: CollectingDispatcher, error: ServiceRejected) -> None:
    """Pass on the service's own explanation of a refusal (written by the service, in Chinese)."""
    dispatcher.utter_message(response="utter_service_refused", reason=error.message)
