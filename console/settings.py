"""The console's settings, from the environment (and `.env`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.settings import Settings


@dataclass(frozen=True)
class ConsoleSettings:
    database_url: str  # the conversation log's database: the console's own tables live beside it
    port: int
    rasa_url: str  # Rasa server HTTP API (pause/resume, operator replies, live trackers for unmasking)
    rasa_token: str | None  # Rasa's --auth-token, when the API is protected
    cookie_secure: bool
    session_hours: float
    retention_days: float
    login_attempts: int  # failed logins allowed per user name and per client address ...
    login_window_seconds: int  # ... within this window

    @classmethod
    def from_env(cls) -> ConsoleSettings:
        base = Settings.from_env()
        env = os.environ
        return cls(
            database_url=base.conversation_log_url,
            port=int(env.get("CONSOLE_PORT", "8002")),
            rasa_url=env.get("RASA_URL", f"http://127.0.0.1:{base.rasa_port}").rstrip("/"),
            rasa_token=env.get("RASA_API_TOKEN") or None,
            cookie_secure=env.get("CONSOLE_COOKIE_SECURE", "true").lower() != "false",
            session_hours=float(env.get("CONSOLE_SESSION_HOURS", "8")),
            retention_days=float(env.get("RETENTION_DAYS", "180")),
            login_attempts=int(env.get("CONSOLE_LOGIN_ATTEMPTS", "5")),
            login_window_seconds=int(env.get("CONSOLE_LOGIN_WINDOW_SECONDS", "900")),
        )
