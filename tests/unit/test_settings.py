"""The one settings module: what a deployer sees when a value is wrong, and the README that documents it."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest

from bot.settings import (
    GROUPS,
    ROOT,
    TABLE_END,
    TABLE_START,
    ChannelSettings,
    ConfigurationError,
    ConsoleSettings,
    SandboxSettings,
    ServiceClientSettings,
    Settings,
    TelegramSettings,
    WeChatSettings,
    variables_table,
)

# Modules that may read the process environment: the settings module, the generated-secret store, and the CLIs
# (which pass the environment on to the processes they start, and read CONSOLE_PASSWORD as an input; `make cluster`
# fills in the local Redis, RabbitMQ and PostgreSQL where they are not set).
ENVIRONMENT_READERS = {
    "bot/settings.py", "bot/secret_store.py", "bot/cli.py", "bot/cluster.py", "console/__main__.py",
}
PRODUCT_PACKAGES = ("actions", "bot", "console", "integrations", "nlu", "services")


def test_the_readme_table_is_the_one_the_settings_declare() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    start, end = readme.index(TABLE_START), readme.index(TABLE_END) + len(TABLE_END)
    assert readme[start:end] == variables_table(), "run `python -m bot settings-table` and commit the README"


def test_every_variable_is_documented_once() -> None:
    table = variables_table()
    declared = {item.metadata["env"] for group in GROUPS for item in group.variables()}
    for name in declared:
        assert table.count(f"| `{name}` |") == 1, name


def _reads_environment(path: Path) -> bool:
    return any(
        isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv")
        and isinstance(node.value, ast.Name) and node.value.id == "os"
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
    )


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT))
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if _reads_environment(path)
    }
    assert readers <= ENVIRONMENT_READERS, readers - ENVIRONMENT_READERS


@pytest.mark.parametrize(
    ("group", "environ", "named"),
    [
        (Settings, {"RASA_PORT": "fifty"}, "RASA_PORT"),
        (Settings, {"TRACKER_TTL_SECONDS": "0"}, "TRACKER_TTL_SECONDS"),
        (Settings, {"GOVBOT_ENV": "prod"}, "GOVBOT_ENV"),
        (SandboxSettings, {"SERVICES_SMS_MAX_ATTEMPTS": "-1"}, "SERVICES_SMS_MAX_ATTEMPTS"),
        (SandboxSettings, {"GOVBOT_ENV": "production", "SERVICES_SECRET_KEY": "short"}, "SERVICES_SECRET_KEY"),
        (ServiceClientSettings, {"SERVICES_TIMEOUT": "5s"}, "SERVICES_TIMEOUT"),
        (ChannelSettings, {"CHANNEL_RATE_LIMIT": "20 per minute"}, "CHANNEL_RATE_LIMIT"),
        (ChannelSettings, {"REST_CHANNEL_ENABLED": "perhaps"}, "REST_CHANNEL_ENABLED"),
        (WeChatSettings, {"WECHAT_PASSIVE_TIMEOUT": "soon"}, "WECHAT_PASSIVE_TIMEOUT"),
        (TelegramSettings, {"TELEGRAM_POLL_TIMEOUT": "-5"}, "TELEGRAM_POLL_TIMEOUT"),
        (ConsoleSettings, {"CONSOLE_SESSION_HOURS": "eight"}, "CONSOLE_SESSION_HOURS"),
    ],
)
def test_a_wrong_value_is_refused_naming_the_variable(group, environ, named, tmp_path) -> None:
    with pytest.raises(ConfigurationError, match=named):
        group.from_env({"GOVBOT_VAR_DIR": str(tmp_path), **environ})


def test_values_are_read_typed_and_normalised(tmp_path) -> None:
    environ = {
        "GOVBOT_ENV": " Production ",
        "GOVBOT_VAR_DIR": str(tmp_path),
        "RASA_PORT": "5105",
        "SERVICES_URL": "http://services.internal:9000/",
        "CHANNEL_RATE_LIMIT": "30 / 60",
        "REST_CHANNEL_ENABLED": "yes",
        "WECHAT_API_BASE_URL": "http://fake-wechat/cgi-bin",
        "CONSOLE_COOKIE_SECURE": "false",
        "RASA_API_TOKEN": "x" * 40,
    }
    core = Settings.from_env(environ)
    assert core.is_production and core.rasa_port == 5105
    assert core.conversation_log_url == f"sqlite:///{tmp_path / 'conversation_log.db'}"
    assert ServiceClientSettings.from_env(environ).base_url == "http://services.internal:9000"
    channel = ChannelSettings.from_env(environ)
    assert channel.rate == (30, 60) and channel.rest_enabled is True
    assert WeChatSettings.from_env(environ).api_base_url == "http://fake-wechat/cgi-bin/"
    console = ConsoleSettings.from_env(environ)
    assert console.cookie_secure is False and console.rasa_url == "http://127.0.0.1:5105"
    assert console.database_url == core.conversation_log_url and console.rasa_token == "x" * 40


def test_blank_values_count_as_unset(tmp_path) -> None:
    settings = SandboxSettings.from_env({"SERVICES_PORT": "  ", "SERVICES_HOST": ""})
    assert (settings.port, settings.host) == (8001, "127.0.0.1")


def test_a_changed_copy_is_validated_again() -> None:
    with pytest.raises(ValueError):
        replace(SandboxSettings(), sms_max_attempts=0)


def test_the_channels_still_load_and_say_what_is_missing() -> None:
    """A channel without its secrets loads (and answers 503 naming them) rather than stopping Rasa."""
    assert WeChatSettings.from_env({"WECHAT_TOKEN": "t"}).missing == ("WECHAT_APP_ID", "WECHAT_APP_SECRET")
    assert "TELEGRAM_MODE" in TelegramSettings.from_env({"TELEGRAM_MODE": "Pull"}).problem()
    assert "TELEGRAM_SECRET_TOKEN" in TelegramSettings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc"}).problem()
