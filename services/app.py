"""The FastAPI application of the government-services sandbox."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from bot.notifier.signing import webhook_secret
from bot.settings import ConfigurationError, SandboxSettings
from services.body_limit import BodySizeLimit
from services.court_rules import load_court_rules
from services.db import create_db_engine, create_session_factory, run_migrations
from services.errors import install_error_handlers
from services.health_code_policy import load_health_code_policy
from services.logging_setup import install_masking
from services.notifications_dispatch import Dispatcher
from services.rent_subsidy_policy import load_policy
from services.routers import (
    campus,
    court,
    dev,
    health_code,
    identity,
    immigration,
    notifications,
    rent_subsidy,
    tax,
    vehicle_transfer,
    work_resumption,
)
from services.seeding import seed_all
from services.tax_rules import load_tax_rules
from services.vehicle_transfer_rules import load_vehicle_transfer_rules
from services.work_resumption_rules import load_rules

logger = logging.getLogger("services.app")

DESCRIPTION = (
    "政务服务沙箱：模拟身份核验、租房补贴、出入境信息、校园招聘和健康码等政府后端服务。所有数据均为示例数据。"
    "接口约定见 docs/services-api.md。"
)


def _prepare_database(app: FastAPI, settings: SandboxSettings) -> None:
    engine = create_db_engine(settings.database_url)
    run_migrations(engine)
    factory = create_session_factory(engine)
    for attempt in range(2):  # a second process seeding at the same moment may win a unique constraint
        session = factory()
        try:
            seed_all(session, app.state.health_code_policy, app.state.tax_rules)
            break
        except IntegrityError:
            session.rollback()
            if attempt:
                raise
        finally:
            session.close()
    app.state.engine = engine
    app.state.session_factory = factory


def _start_notifications(app: FastAPI, settings: SandboxSettings) -> None:
    """The outbox's dispatcher runs with the app (services/notifications_dispatch.py). Without the webhook secret
    (production, NOTIFY_WEBHOOK_SECRET unset) state changes still wait in the outbox, and the log says why."""
    try:
        secret = webhook_secret()
    except ConfigurationError as error:
        logger.error("progress notifications are not sent: %s", error)
        return
    dispatcher = Dispatcher(app.state.session_factory, settings, secret, app.state.vehicle_transfer_rules)
    app.state.notification_dispatcher = dispatcher
    app.add_event_handler("startup", dispatcher.start)
    app.add_event_handler("shutdown", dispatcher.stop)


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build the app: migrate and seed the database, load the policy, mount the routers."""
    settings = settings or SandboxSettings.from_env()
    install_masking()
    app = FastAPI(title="政务服务沙箱（示例数据）", version="1.0.0", description=DESCRIPTION)
    app.state.settings = settings
    app.state.rent_subsidy_policy = load_policy(settings.rent_subsidy_config)
    app.state.health_code_policy = load_health_code_policy(settings.health_code_config)
    app.state.work_resumption_rules = load_rules(settings.work_resumption_config)
    # Every rule file is read once, here: a broken one stops the start with its name, and the seed uses the same.
    app.state.vehicle_transfer_rules = load_vehicle_transfer_rules(settings.vehicle_transfer_config)
    app.state.tax_rules = load_tax_rules(settings.tax_config)
    app.state.court_rules = load_court_rules(settings.court_config)
    _prepare_database(app, settings)
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)  # outermost: before anything parses

    @app.get("/health", tags=["health"], summary="健康检查")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    for module in (
        identity, rent_subsidy, immigration, campus, work_resumption, health_code, vehicle_transfer, tax, court,
        notifications,
    ):
        app.include_router(module.router)
    if settings.is_development:  # GOVBOT_ENV=development only: the outbox shows readable SMS codes
        app.include_router(dev.router)
    _start_notifications(app, settings)
    app.add_event_handler("shutdown", app.state.engine.dispose)
    logger.info("services sandbox ready (env=%s)", settings.env)
    return app
