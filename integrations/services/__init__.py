"""Typed async clients of the government services (the sandbox in services/ or the real back ends)."""

from integrations.services.base import (
    ServiceClientSettings,
    ServiceError,
    ServiceRejected,
    ServiceUnavailable,
    idempotency_key,
)
from integrations.services.campus import CampusClient
from integrations.services.identity import IdentityClient
from integrations.services.immigration import ImmigrationClient
from integrations.services.rent_subsidy import RentSubsidyClient

__all__ = [
    "CampusClient",
    "ServiceClientSettings",
    "IdentityClient",
    "ImmigrationClient",
    "RentSubsidyClient",
    "ServiceError",
    "ServiceRejected",
    "ServiceUnavailable",
    "idempotency_key",
]
