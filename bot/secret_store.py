"""Secrets that the processes of one installation share: the Rasa API token and the action server token.

A deployment sets them in the environment. On a development machine (`make run`, the tests) each is generated
once and kept in `var/secrets/` (readable by this user only), so every process started from the same folder
finds the same value and nothing has to be configured. In production there is no generated fallback.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bot.settings import MIN_SECRET_CHARS, ConfigurationError, Settings

RASA_API_TOKEN = "RASA_API_TOKEN"  # every Rasa HTTP route except the channels' webhooks
ACTION_SERVER_TOKEN = "ACTION_SERVER_TOKEN"  # the Rasa server's calls to the action server


def secret_path(name: str, settings: Settings) -> Path:
    return settings.var_dir / "secrets" / name.lower()


def shared_secret(name: str, settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> str:
    """The secret `name`: from the environment, else (development only) generated once under var/secrets/."""
    settings = settings or Settings.from_env()
    value = (os.environ if environ is None else environ).get(name, "").strip()
    if value:
        if len(value) < MIN_SECRET_CHARS:
            raise ConfigurationError(f"{name} must be at least {MIN_SECRET_CHARS} characters long")
        return value
    if settings.is_production:
        raise ConfigurationError(f"{name} must be set in production (at least {MIN_SECRET_CHARS} random characters)")
    return _generated(secret_path(name, settings))


def _generated(path: Path) -> str:
    """Read the file, or create it atomically: processes started together must all end up with one value."""
    try:
        existing = path.read_text("ascii").strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".new-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as file:
            file.write(secrets.token_urlsafe(32))
        with contextlib.suppress(FileExistsError):  # another process created it first: its value wins
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return path.read_text("ascii").strip()
