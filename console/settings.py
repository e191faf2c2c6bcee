"""The console's settings, from the environment (and `.env`)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from bot.secret_store import RASA_API_TOKEN, shared_secret
from bot.settings import ConfigurationError, Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str  # the conversation log's database: the console's own tables live beside it
    port: int
    rasa_url: str  # Rasa server HTTP API (pause/resume, operator replies, live trackers for unmasking)
    rasa_token: str | None  # the Rasa API token (sent as `Authorization: Bearer …`), shared with the Rasa server
    cookie_secure: bool
    session_hours: float
    retention_days: float
    login_attempts: int  # failed logins allowed per user name from one client address ...
    login_window_seconds: int  # ... within this window
    login_address_attempts: int = 20  # failed logins allowed per client address (any user names), same window

    @classmethod
    def from_env(cls) -> ConsoleSettings:
        base = Settings.from_env()
        env = os.environ
        return cls(
            database_url=base.conversation_log_url,
            port=int(env.get("CONSOLE_PORT", "8002")),
            rasa_url=env.get("RASA_URL", f"http://127.0.0.1:{base.rasa_port}").rstrip("/"),
            rasa_token=_rasa_token(base),
            cookie_secure=env.get("CONSOLE_COOKIE_SECURE", "true").lower() != "false",
            session_hours=float(env.get("CONSOLE_SESSION_HOURS", "8")),
            retention_days=float(env.get("RETENTION_DAYS", "180")),
            login_attempts=int(env.get("CONSOLE_LOGIN_ATTEMPTS", "5")),
            login_window_seconds=int(env.get("CONSOLE_LOGIN_WINDOW_SECONDS", "900")),
            login_address_attempts=int(env.get("CONSOLE_LOGIN_ADDRESS_ATTEMPTS", "20")),
        )


def _rasa_token(base: Settings) -> str | None:
    """The token the Rasa server checks (env RASA_API_TOKEN, or the one generated under var/secrets/ in
    development). None when it cannot be had: the commands that never call Rasa (create-user, purge) still run,
    while `serve` refuses to start in production (bot.production) and says why otherwise."""
    try:
        return shared_secret(RASA_API_TOKEN, base)
    except ConfigurationError as error:
        logger.warning("No Rasa API token for the console: %s", error)
        return None
