"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Request
from sqlalchemy.orm import Session

from bot.settings import SandboxSettings
from services.court_rules import CourtRules
from services.health_code_policy import HealthCodePolicy
from services.rent_subsidy_policy import RentSubsidyPolicy
from services.tax_rules import TaxRules
from services.vehicle_transfer_rules import VehicleTransferRules
from services.work_resumption_rules import WorkResumptionRules


def get_settings(request: Request) -> SandboxSettings:
    return request.app.state.settings


def get_policy(request: Request) -> RentSubsidyPolicy:
    return request.app.state.rent_subsidy_policy


def get_work_resumption_rules(request: Request) -> WorkResumptionRules:
    return request.app.state.work_resumption_rules


def get_health_code_policy(request: Request) -> HealthCodePolicy:
    return request.app.state.health_code_policy


def get_vehicle_transfer_rules(request: Request) -> VehicleTransferRules:
    return request.app.state.vehicle_transfer_rules


def get_tax_rules(request: Request) -> TaxRules:
    return request.app.state.tax_rules


def get_court_rules(request: Request) -> CourtRules:
    return request.app.state.court_rules


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; handlers commit explicitly, anything uncommitted is rolled back."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()
