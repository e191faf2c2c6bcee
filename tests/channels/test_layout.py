"""Every channel is a package of the same shape, named in credentials.yml, loaded the way Rasa loads it."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import telegram
from rasa.core.channels.channel import InputChannel
from rasa.core.run import create_http_input_channels

from tests.e2e.stack import ROOT

CHANNELS = {  # credentials.yml entry → the channel's name (its URL is /webhooks/<name>/)
    "integrations.channels.rest.RestInput": "rest",
    "integrations.channels.webchat.WebChatInput": "webchat",
    "integrations.channels.telegram.TelegramInput": "telegram",
    "integrations.channels.wechat.WeChatInput": "wechat",
}
COMMAND_LINES = {"wechat": ["menu"], "telegram": ["set", "commands", "delete", "info"]}


def test_credentials_name_each_channel_package_and_rasa_loads_them() -> None:
    channels = create_http_input_channels(None, str(ROOT / "credentials.yml"))
    loaded = {f"{type(c).__module__.rsplit('.', 1)[0]}.{type(c).__name__}": c.name() for c in channels}
    assert loaded == CHANNELS
    assert all(isinstance(c, InputChannel) for c in channels)


@pytest.mark.parametrize("name", CHANNELS.values())
def test_each_channel_package_has_the_same_parts(name: str) -> None:
    package = importlib.import_module(f"integrations.channels.{name}")
    parts = {path.stem for path in Path(package.__file__).parent.glob("*.py")}
    assert {"__init__", "settings", "inbound", "output"} <= parts
    assert ("commands" in parts) == (name in COMMAND_LINES)
    assert package.__all__ == [next(k for k, v in CHANNELS.items() if v == name).rsplit(".", 1)[1]]


def test_data_files_live_in_their_channel_package() -> None:
    from integrations.channels.webchat.settings import STATIC_DIR
    from integrations.channels.wechat.menu import MENU_FILE

    assert STATIC_DIR == ROOT / "integrations/channels/webchat/static" and (STATIC_DIR / "index.html").is_file()
    assert MENU_FILE == ROOT / "integrations/channels/wechat/menu.yml" and MENU_FILE.is_file()


def test_the_telegram_package_does_not_shadow_python_telegram_bot() -> None:
    from integrations.channels.telegram import settings

    assert "site-packages" in telegram.__file__
    assert settings.Bot is telegram.Bot and telegram.Bot.__module__.startswith("telegram.")


@pytest.mark.parametrize("channel", COMMAND_LINES)
def test_each_command_line_runs_as_a_module_and_lists_its_commands(channel: str) -> None:
    module = f"integrations.channels.{channel}.commands"
    done = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"python -m {module}" in done.stdout
    assert all(command in done.stdout for command in COMMAND_LINES[channel])
