"""Attack: reach the sandbox's development routes on a deployment (hole 9, services part).

`/dev/sms-outbox` hands out every citizen's SMS code. It was mounted unless SERVICES_ENV was exactly `production`,
so `SERVICES_ENV=prod` (or forgetting it) exposed it. Now the product-wide GOVBOT_ENV decides: /dev/* exists only
in `development`, any other value than development/production is refused, and `python -m services` runs the
production checklist (bot.production.enforce) before it touches the database or binds a port.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from bot.settings import ConfigurationError, SandboxSettings
from services.app import create_app
from tests.e2e.stack import ROOT, free_port, wait_until
from tests.services.helpers import CHEN_XIAO, PRODUCTION_SECRET_KEY


def environment(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A sandbox process of its own: its own database, port and var/ directory, no inherited secret."""
    env = {name: value for name, value in os.environ.items() if name not in ("SERVICES_SECRET_KEY", "GOVBOT_ENV")}
    return env | {
        "PYTHONPATH": str(ROOT),
        "GOVBOT_VAR_DIR": str(tmp_path / "var"),
        "SERVICES_DATABASE_URL": f"sqlite:///{tmp_path / 'services.db'}",
        "SERVICES_PORT": str(free_port()),
        **variables,
    }


def run_services(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "services"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_dev_routes_are_gone_in_production_mode_whatever_services_env_says(tmp_path, monkeypatch):
    monkeypatch.setenv("GOVBOT_ENV", "production")
    monkeypatch.setenv("SERVICES_ENV", "prod")  # the old switch: ignored now
    monkeypatch.setenv("SERVICES_SECRET_KEY", PRODUCTION_SECRET_KEY)
    monkeypatch.setenv("SERVICES_DATABASE_URL", f"sqlite:///{tmp_path / 'services.db'}")
    with TestClient(create_app(SandboxSettings.from_env())) as client:
        response = client.get("/dev/sms-outbox", params={"phone": CHEN_XIAO.phone})
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
        assert not any(path.startswith("/dev") for path in client.get("/openapi.json").json()["paths"])
        client.app.state.engine.dispose()


@pytest.mark.parametrize("value", ["prod", "staging", "dev"])
def test_an_invalid_mode_is_refused(value, monkeypatch):
    monkeypatch.setenv("GOVBOT_ENV", value)
    with pytest.raises(ConfigurationError, match="GOVBOT_ENV"):
        SandboxSettings.from_env()
    with pytest.raises(ConfigurationError, match="GOVBOT_ENV"):
        SandboxSettings.from_env({}, env=value)


def test_python_m_services_refuses_to_start_with_an_invalid_mode(tmp_path):
    result = run_services(environment(tmp_path, GOVBOT_ENV="prod"))
    assert result.returncode == 2
    assert "GOVBOT_ENV must be 'development' or 'production'" in result.stderr
    assert not (tmp_path / "services.db").exists()  # refused before touching the database


def test_python_m_services_refuses_production_without_its_secret_key(tmp_path):
    result = run_services(environment(tmp_path, GOVBOT_ENV="production"))
    assert result.returncode == 2 and "SERVICES_SECRET_KEY is not set" in result.stderr


def test_python_m_services_in_production_serves_without_dev_routes(tmp_path):
    env = environment(tmp_path, GOVBOT_ENV="production", SERVICES_SECRET_KEY=PRODUCTION_SECRET_KEY)
    url = f"http://127.0.0.1:{env['SERVICES_PORT']}"
    server = subprocess.Popen(
        [sys.executable, "-m", "services"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(lambda: httpx.get(f"{url}/health").status_code == 200, 60, "services", server)
        assert httpx.get(f"{url}/dev/sms-outbox", params={"phone": CHEN_XIAO.phone}).status_code == 404
    finally:
        server.terminate()
        server.wait(20)
