"""The actions' access to the government services: one shared client per back end.

Clients keep an HTTP connection pool, so they live as long as the action server process.
"""

from __future__ import annotations

from functools import cache

from rasa_sdk.executor import CollectingDispatcher

from integrations.services import (
    CampusClient,
    IdentityClient,
    ImmigrationClient,
    RentSubsidyClient,
    ServiceUnavailable,
)


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
