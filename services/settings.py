"""Typed settings of the services sandbox, read once from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from bot.settings import DEVELOPMENT, ENVIRONMENTS, PRODUCTION, ConfigurationError, govbot_env, secret_from_env

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
DEFAULT_DATABASE_URL = f"sqlite:///{REPO_ROOT / 'var' / 'services.db'}"
DEFAULT_RENT_SUBSIDY_CONFIG = PACKAGE_DIR / "config" / "rent_subsidy.yml"

SECRET_KEY_NAME = "SERVICES_SECRET_KEY"
# Public (it is in this repository): fine on a developer's machine, refused in production.
DEVELOPMENT_SECRET_KEY = "govbot-development-services-secret-key"
MIN_SECRET_KEY_CHARS = 32

# Setting → environment variable, for every integer setting (all of them must be at least 1).
INT_ENV = {
    "port": "SERVICES_PORT",
    "sms_code_ttl_seconds": "SERVICES_SMS_CODE_TTL",
    "sms_max_attempts": "SERVICES_SMS_MAX_ATTEMPTS",
    "sms_limit_per_phone": "SERVICES_SMS_LIMIT_PER_PHONE",
    "sms_limit_per_chat_user": "SERVICES_SMS_LIMIT_PER_CHAT_USER",
    "sms_limit_window_seconds": "SERVICES_SMS_LIMIT_WINDOW",
    "sms_daily_limit_per_phone": "SERVICES_SMS_DAILY_LIMIT_PER_PHONE",
    "sms_daily_limit_per_chat_user": "SERVICES_SMS_DAILY_LIMIT_PER_CHAT_USER",
    "id_check_failures_per_phone": "SERVICES_ID_CHECK_FAILURES_PER_PHONE",
    "id_check_failures_per_id_number": "SERVICES_ID_CHECK_FAILURES_PER_ID_NUMBER",
    "id_check_failures_per_person": "SERVICES_ID_CHECK_FAILURES_PER_PERSON",
    "id_check_failures_per_chat_user": "SERVICES_ID_CHECK_FAILURES_PER_CHAT_USER",
    "token_ttl_seconds": "SERVICES_TOKEN_TTL",
    "max_body_bytes": "SERVICES_MAX_BODY_BYTES",
}


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

    The limits are set so that a real citizen never meets them (a few codes per quarter of an hour, a few typing
    mistakes a day) while an attacker is stopped after a handful of tries; the end-to-end tests, which verify a
    persona a few times per run, stay well below them. Daily limits count per calendar day, China time.
    """

    database_url: str = DEFAULT_DATABASE_URL
    env: str = DEVELOPMENT  # GOVBOT_ENV: /dev/* and readable SMS codes exist only in development
    secret_key: str = DEVELOPMENT_SECRET_KEY  # keys the SMS-code hashes and the rate-limit subjects
    host: str = "127.0.0.1"
    port: int = 8001
    sms_code_ttl_seconds: int = 300
    sms_max_attempts: int = 5
    # Codes sent, per window and per day.
    sms_limit_per_phone: int = 5
    sms_limit_per_chat_user: int = 5
    sms_limit_window_seconds: int = 600
    sms_daily_limit_per_phone: int = 10
    sms_daily_limit_per_chat_user: int = 20
    # Failed name + ID number + phone checks per day. "person" is the same name with the same region and birth
    # date (the first 14 characters of the ID number): it stops guessing the sequence digits of one person's ID
    # number even when the attacker changes phone and chat user at every try.
    id_check_failures_per_phone: int = 5
    id_check_failures_per_id_number: int = 5
    id_check_failures_per_person: int = 5
    id_check_failures_per_chat_user: int = 10
    token_ttl_seconds: int = 1800
    max_body_bytes: int = 16 * 1024
    rent_subsidy_config: Path = field(default=DEFAULT_RENT_SUBSIDY_CONFIG)

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise ConfigurationError(f"GOVBOT_ENV must be 'development' or 'production', not {self.env!r}")
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in INT_ENV and value < 1:
                raise ConfigurationError(f"{INT_ENV[item.name]} must be at least 1, got {value}")
        if self.is_production and (
            self.secret_key == DEVELOPMENT_SECRET_KEY or len(self.secret_key) < MIN_SECRET_KEY_CHARS
        ):
            raise ConfigurationError(
                f"{SECRET_KEY_NAME} must be a secret of your own of at least {MIN_SECRET_KEY_CHARS} characters "
                "in production"
            )

    @property
    def is_development(self) -> bool:
        return self.env == DEVELOPMENT

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @classmethod
    def from_env(cls) -> Settings:
        """From the process environment; an invalid GOVBOT_ENV or a missing production secret raises."""
        env = os.environ
        numbers = {name: _int(env, variable, getattr(cls, name)) for name, variable in INT_ENV.items()}
        return cls(
            database_url=env.get("SERVICES_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            env=govbot_env(),
            secret_key=secret_from_env(
                SECRET_KEY_NAME, DEVELOPMENT_SECRET_KEY, "the services sandbox keys its SMS-code hashes"
            ),
            host=env.get("SERVICES_HOST", "").strip() or "127.0.0.1",
            rent_subsidy_config=Path(
                env.get("SERVICES_RENT_SUBSIDY_CONFIG", "").strip() or DEFAULT_RENT_SUBSIDY_CONFIG
            ),
            **numbers,
        )
