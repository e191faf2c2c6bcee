"""Typed settings of the services sandbox, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'services.db'}"
DEFAULT_RENT_SUBSIDY_CONFIG = PACKAGE_DIR / "config" / "rent_subsidy.yml"


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:  # fail at start-up, not at the first request
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


@dataclass(frozen=True)
class Settings:
    """Everything the sandbox can be configured with.

    The SMS limits default to generous development values so that automated end-to-end tests that
    verify the same persona many times within minutes are not blocked; a deployment tightens them.
    """

    database_url: str = DEFAULT_DATABASE_URL
    env: str = "development"
    host: str = "127.0.0.1"
    port: int = 8001
    sms_code_ttl_seconds: int = 300
    sms_max_attempts: int = 5
    sms_limit_per_phone: int = 30
    sms_limit_per_chat_user: int = 30
    sms_limit_window_seconds: int = 600
    token_ttl_seconds: int = 1800
    rent_subsidy_config: Path = field(default=DEFAULT_RENT_SUBSIDY_CONFIG)

    @property
    def is_development(self) -> bool:
        return self.env != "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            database_url=env.get("SERVICES_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            env=(env.get("SERVICES_ENV", "").strip() or "development").lower(),
            host=env.get("SERVICES_HOST", "").strip() or "127.0.0.1",
            port=_int(env, "SERVICES_PORT", 8001),
            sms_code_ttl_seconds=_int(env, "SERVICES_SMS_CODE_TTL", 300),
            sms_max_attempts=_int(env, "SERVICES_SMS_MAX_ATTEMPTS", 5),
            sms_limit_per_phone=_int(env, "SERVICES_SMS_LIMIT_PER_PHONE", 30),
            sms_limit_per_chat_user=_int(env, "SERVICES_SMS_LIMIT_PER_CHAT_USER", 30),
            sms_limit_window_seconds=_int(env, "SERVICES_SMS_LIMIT_WINDOW", 600),
            token_ttl_seconds=_int(env, "SERVICES_TOKEN_TTL", 1800),
            rent_subsidy_config=Path(
                env.get("SERVICES_RENT_SUBSIDY_CONFIG", "").strip() or DEFAULT_RENT_SUBSIDY_CONFIG
            ),
        )
