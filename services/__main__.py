"""`python -m services`: run the sandbox with uvicorn on SERVICES_HOST:SERVICES_PORT (127.0.0.1:8001)."""

from __future__ import annotations

import logging

import uvicorn

from bot.production import enforce
from bot.settings import SandboxSettings
from services.app import create_app
from services.logging_setup import install_masking


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Exits (status 2, with the list) on an invalid GOVBOT_ENV or an open production item such as a missing
    # SERVICES_SECRET_KEY, before the database is touched or a port is bound.
    enforce("services")
    settings = SandboxSettings.from_env()
    app = create_app(settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="info")
    server = uvicorn.Server(config)
    install_masking()  # again after uvicorn configured its loggers
    server.run()


if __name__ == "__main__":
    main()
