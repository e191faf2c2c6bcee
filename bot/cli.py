"""The application shell: one entry point for the things developers and deployers do.

python -m bot build     generate NLU assets from the gazetteers
python -m bot train     build, then train (Rasa skips training when nothing changed)
python -m bot run       train if needed, then start Rasa, actions and the services sandbox
python -m bot serve     the Rasa server alone (the Procfile's `rasa` process)
python -m bot shell     talk to the assistant in the terminal
python -m bot evaluate  NLU scores on the held-out file
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import ROOT, Settings

RASA_DATA = ["nlu/data", "nlu/generated/lookups.yml", "stories"]


def rasa(*args: str) -> list[str]:
    return [sys.executable, "-m", "rasa", *args]


def rasa_server(*args: str) -> list[str]:
    """Rasa's CLI with our performance fix (bot/rasa_server.py)."""
    return [sys.executable, "-m", "bot.rasa_server", *args]


def environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{settings.action_port}/webhook")
    env.setdefault("ACTION_PORT", str(settings.action_port))
    env.setdefault("SERVICES_URL", settings.services_url)
    env.setdefault("SERVICES_PORT", str(settings.services_port))
    env.setdefault("PYTHONPATH", str(ROOT))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def build() -> None:
    from nlu.build import build as build_assets

    build_assets()


def train(force: bool = False) -> None:
    build()
    args = ["train", "--domain", "domain", "--config", "config.yml", "--out", "models", "--data", *RASA_DATA]
    if force:
        args.append("--force")
    subprocess.run(rasa(*args), cwd=ROOT, check=True, env=environment(Settings.from_env()))


def serve(settings: Settings) -> None:
    args = rasa_server(
        "run",
        "--enable-api",
        "--cors",
        "*",
        "--model",
        "models",
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        "credentials.yml",
        "--port",
        str(settings.rasa_port),
    )
    if os.environ.get("RASA_API_TOKEN"):  # protect Rasa's HTTP API (trackers hold raw personal data)
        args += ["--auth-token", os.environ["RASA_API_TOKEN"]]
    os.execvpe(args[0], args, environment(settings))


def run(settings: Settings) -> None:
    train()
    print(
        "\n政务服务助手 is starting:\n"
        f"  web chat         http://127.0.0.1:{settings.rasa_port}/webhooks/webchat/   <- open this in a browser\n"
        f"  REST channel     http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook\n"
        f"  WeChat webhook   http://127.0.0.1:{settings.rasa_port}/webhooks/wechat/   (WECHAT_* settings)\n"
        f"  Telegram webhook http://127.0.0.1:{settings.rasa_port}/webhooks/telegram/webhook   (TELEGRAM_* settings)\n"
        f"  services sandbox http://127.0.0.1:{settings.services_port}/docs\n"
        f"  action server    http://127.0.0.1:{settings.action_port}/health\n"
        f"  operator console http://127.0.0.1:{os.environ.get('CONSOLE_PORT', '8002')}/   "
        "(first: python -m console create-user NAME --role admin)\n"
        f"  storage          {'Redis ' + settings.redis_url if settings.redis_url else 'SQLite under var/'}\n"
        "Press Ctrl-C to stop everything.\n",
        flush=True,
    )
    args = [sys.executable, "-m", "honcho", "start", "-f", "Procfile"]
    os.execvpe(args[0], args, environment(settings))


def shell(settings: Settings) -> None:
    args = rasa("shell", "--model", "models", "--endpoints", "endpoints.yml")
    os.execvpe(args[0], args, environment(settings))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="政务服务助手")
    parser.add_argument("command", choices=["build", "train", "run", "serve", "shell", "evaluate"])
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    options = parser.parse_args(argv)
    os.chdir(ROOT)
    settings = Settings.from_env()
    if options.command == "build":
        build()
    elif options.command == "train":
        train(options.force)
    elif options.command == "run":
        run(settings)
    elif options.command == "serve":
        serve(settings)
    elif options.command == "shell":
        shell(settings)
    else:
        from scripts.evaluate_nlu import main as evaluate

        evaluate([])
