"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path

from fastapi import Request
from sqlalchemy.orm import Session

from bot.settings import SandboxSettings
from services.health_code_policy import HealthCodePolicy
from services.rent_subsidy_policy import RentSubsidyPolicy
from services.tax_rules import TaxRules, load_tax_rules
from services.vehicle_transfer_rules import VehicleTransferRules, load_vehicle_transfer_rules
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
    return _vehicle_transfer_rules(request.app.state.settings.vehicle_transfer_config)


@cache
def _vehicle_transfer_rules(path: Path) -> VehicleTransferRules:
    # Loaded on first use (the app factory only mounts the router) and kept per file, as the other rules are.
    return load_vehicle_transfer_rules(path)


def get_tax_rules(request: Request) -> TaxRules:
    return _tax_rules(request.app.state.settings.tax_config)


@cache
def _tax_rules(path: Path) -> TaxRules:
    # Loaded on first use and kept per file, like the vehicle transfer's rules (the seed loads them at start).
    return load_tax_rules(path)


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; handlers commit explicitly, anything uncommitted is rolled back."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
    finally:
        session.close()
