"""Typed async clients of the government services (the sandbox in services/ or the real back ends)."""

from integrations.services.base import (
    ServiceClientSettings,
    ServiceError,
    ServiceRejected,
    ServiceUnavailable,
    idempotency_key,
)
from integrations.services.campus import CampusClient
from integrations.services.court import CourtClient
from integrations.services.health_code import HealthCodeClient
from integrations.services.identity import IdentityClient
from integrations.services.immigration import ImmigrationClient
from integrations.services.rent_subsidy import RentSubsidyClient
from integrations.services.tax import TaxClient
from integrations.services.vehicle_transfer import VehicleTransferClient
from integrations.services.work_resumption import WorkResumptionClient

__all__ = [
    "CampusClient",
    "CourtClient",
    "ServiceClientSettings",
    "HealthCodeClient",
    "IdentityClient",
    "ImmigrationClient",
    "RentSubsidyClient",
    "ServiceError",
    "ServiceRejected",
    "ServiceUnavailable",
    "TaxClient",
    "VehicleTransferClient",
    "WorkResumptionClient",
    "idempotency_key",
]
