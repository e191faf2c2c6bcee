"""One typed settings object, read from the environment (and `.env` when present)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
logger = logging.getLogger(__name__)
_warned: set[str] = set()

DEVELOPMENT, PRODUCTION = "development", "production"
ENVIRONMENTS = (DEVELOPMENT, PRODUCTION)


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong; the message names the variable and says what to do."""


def govbot_env() -> str:
    """GOVBOT_ENV: `development` (the default of `make run` and the tests) or `production`. Anything else is
    refused, so a typo such as `prod` can never leave development conveniences switched on."""
    value = os.environ.get("GOVBOT_ENV", "").strip().lower() or DEVELOPMENT
    if value not in ENVIRONMENTS:
        raise ConfigurationError(f"GOVBOT_ENV must be 'development' or 'production', not {value!r}")
    return value


def is_production() -> bool:
    return govbot_env() == PRODUCTION


def secret_from_env(name: str, development_value: str, what: str) -> str:
    """A secret from the environment; without it, a development value and one warning per process.

    In production there is no fallback: a missing secret, or the public development value, is an error.
    Read on every call (cheap), so a test or a restart with a new value takes effect at once."""
    value = os.environ.get(name)
    if is_production() and (not value or value == development_value):
        raise ConfigurationError(f"{name} must be set to a secret of your own in production ({what})")
    if value:
        return value
    if name not in _warned:
        logger.warning("%s is not set: %s with the development value.", name, what)
        _warned.add(name)
    return development_value


def load_dotenv(path: Path = ROOT / ".env") -> None:
    """Minimal `.env` support: KEY=VALUE lines; the real environment wins."""
    if not path.exists():
        return
    for line in path.read_text("utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip().strip("'\""))


@dataclass(frozen=True)
class Settings:
    env: str
    var_dir: Path
    redis_url: str | None
    conversation_log_url: str
    services_url: str
    tracker_ttl_seconds: int
    rasa_host: str
    rasa_port: int
    action_host: str
    action_port: int
    services_port: int

    @property
    def is_production(self) -> bool:
        return self.env == PRODUCTION

    @classmethod
    def from_env(cls) -> Settings:
        load_dotenv()
        var_dir = Path(os.environ.get("GOVBOT_VAR_DIR", ROOT / "var"))
        var_dir.mkdir(parents=True, exist_ok=True)
        services_port = int(os.environ.get("SERVICES_PORT", "8001"))
        return cls(
            env=govbot_env(),
            var_dir=var_dir,
            redis_url=os.environ.get("REDIS_URL") or None,
            conversation_log_url=os.environ.get("DATABASE_URL")
            or f"sqlite:///{var_dir / 'conversation_log.db'}",
            services_url=os.environ.get("SERVICES_URL", f"http://127.0.0.1:{services_port}"),
            tracker_ttl_seconds=int(os.environ.get("TRACKER_TTL_SECONDS", str(24 * 3600))),
            # Loopback unless a deployer opens it: the webhooks are usually reached through a reverse proxy.
            rasa_host=os.environ.get("RASA_HOST", "127.0.0.1"),
            rasa_port=int(os.environ.get("RASA_PORT", "5005")),
            # Only the Rasa server calls the action server: loopback, or a private address with ACTION_SERVER_TOKEN.
            action_host=os.environ.get("ACTION_HOST", "127.0.0.1"),
            action_port=int(os.environ.get("ACTION_PORT", "5055")),
            services_port=services_port,
        )
