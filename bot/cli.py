"""The application shell: one entry point for the things developers and deployers do.

python -m bot build     generate NLU assets from the gazetteers
python -m bot train     build, then train (Rasa skips training when nothing changed)
python -m bot migrate   bring the conversation log's database (and the console's tables in it) to the newest schema
python -m bot run       migrate, train if needed, then start Rasa, actions, the services sandbox, the console and
                        the notifier
python -m bot cluster   the same with replicas behind HAProxy on Redis, RabbitMQ and PostgreSQL (bot/cluster.py)
python -m bot serve     the Rasa server alone (the Procfile's `rasa` process)
python -m bot actions   the action server alone (the Procfile's `actions` process)
python -m bot log-consumer   events from RabbitMQ (RABBITMQ_URL) masked into the conversation log (DATABASE_URL)
python -m bot notifier  progress notifications: the back ends' state changes to the citizens' channels (bot/notifier)
python -m bot shell     talk to the assistant in the terminal
python -m bot evaluate  NLU scores on the held-out file
python -m bot settings-table   write the README's configuration table from bot/settings.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bot.production import enforce
from bot.secret_store import ACTION_SERVER_TOKEN, RASA_API_TOKEN, secret_path, shared_secret
from bot.settings import (
    ROOT,
    TABLE_END,
    TABLE_START,
    ConsoleSettings,
    NotifierSettings,
    SandboxSettings,
    Settings,
    variables_table,
)

RASA_DATA = ["nlu/data", "nlu/generated/lookups.yml", "stories"]


def rasa(*args: str) -> list[str]:
    return [sys.executable, "-m", "rasa", *args]


def rasa_server(*args: str) -> list[str]:
    """Rasa's CLI with the API guard and our performance fixes (bot/rasa_server.py)."""
    return [sys.executable, "-m", "bot.rasa_server", *args]


def environment(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ACTION_ENDPOINT_URL", f"http://127.0.0.1:{settings.action_port}/webhook")
    # endpoints.yml sends it to the action server; generated under var/secrets/ in development
    env.setdefault(ACTION_SERVER_TOKEN, shared_secret(ACTION_SERVER_TOKEN, settings))
    env.setdefault("ACTION_PORT", str(settings.action_port))
    env.setdefault("SERVICES_URL", f"http://127.0.0.1:{sandbox_port()}")
    # The sandbox posts its state changes to the notifier started beside it (Procfile, make cluster).
    env.setdefault("SERVICES_NOTIFY_URL", f"http://127.0.0.1:{NotifierSettings.from_env().port}/events")
    env.setdefault("PYTHONPATH", str(ROOT))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Start-up and memory of a Rasa replica, measured with bench/startup.py (medians of 2-3 starts each):
    # as the images: Rasa's telemetry unpacks the whole model archive once more at start (-0.5 s CPU, ready ~1 s sooner)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    # glibc gives threads up to 8 malloc arenas per core; 2: -5 MB RSS after a load here, -12 MB with 16-thread pools
    env.setdefault("MALLOC_ARENA_MAX", "2")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def sandbox_port() -> int:
    """The sandbox's port alone (its other settings, such as its production secret, are its own business)."""
    return SandboxSettings.from_env({"SERVICES_PORT": os.environ.get("SERVICES_PORT", "")}).port


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
    # No --auth-token (Rasa reads it from the query string) and no CORS: bot/api_guard.py asks every route but the
    # webhooks for the token in a header, and the web chat page is served from this same origin.
    args = rasa_server(
        "run",
        "--enable-api",
        "--interface",
        settings.rasa_host,
        "--model",
        "models",
        "--endpoints",
        "endpoints.yml",
        "--credentials",
        "credentials.yml",
        "--port",
        str(settings.rasa_port),
    )
    os.execvpe(args[0], args, environment(settings))


def actions() -> None:
    from bot.action_server import main as action_server

    action_server()


def migrate(settings: Settings) -> None:
    """Deployers run it once per release, before starting the Rasa replicas and the console (bot/log_migrations)."""
    from bot.log_migrations import SchemaNotReady, migrate_database

    try:
        print(migrate_database(settings.conversation_log_url), flush=True)
    except SchemaNotReady as error:
        raise SystemExit(str(error)) from error


def run(settings: Settings) -> None:
    migrate(settings)  # before anything starts: the broker and the console find the schema they need
    train()
    print(
        "\n政务服务助手 is starting:\n"
        f"  web chat         http://127.0.0.1:{settings.rasa_port}/webhooks/webchat/   <- open this in a browser\n"
        f"  REST channel     http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook\n"
        f"  WeChat webhook   http://127.0.0.1:{settings.rasa_port}/webhooks/wechat/   (WECHAT_* settings)\n"
        f"  Telegram webhook http://127.0.0.1:{settings.rasa_port}/webhooks/telegram/webhook   (TELEGRAM_* settings)\n"
        f"  services sandbox http://127.0.0.1:{sandbox_port()}/docs\n"
        f"  action server    http://127.0.0.1:{settings.action_port}/health\n"
        f"  operator console http://127.0.0.1:{ConsoleSettings.from_env().port}/   "
        "(first: python -m console create-user NAME --role admin)\n"
        f"  notifier         http://127.0.0.1:{NotifierSettings.from_env().port}/health   (progress notifications)\n"
        f"  storage          {'Redis ' + settings.redis_url if settings.redis_url else 'SQLite under var/'}\n"
        f"  Rasa HTTP API    header Authorization: Bearer <token>; token in {api_token_source(settings)}\n"
        "Press Ctrl-C to stop everything.\n",
        flush=True,
    )
    args = [sys.executable, "-m", "honcho", "start", "-f", "Procfile"]
    os.execvpe(args[0], args, environment(settings))


def api_token_source(settings: Settings) -> str:
    if os.environ.get(RASA_API_TOKEN):
        return "env RASA_API_TOKEN"
    shared_secret(RASA_API_TOKEN, settings)  # generated now, so that the hint points at an existing file
    return str(secret_path(RASA_API_TOKEN, settings))


def shell(settings: Settings) -> None:
    args = rasa_server(
        "shell", "--model", "models", "--endpoints", "endpoints.yml", "--interface", "127.0.0.1",
    )
    os.execvpe(args[0], args, environment(settings))


def write_settings_table(readme: Path = ROOT / "README.md") -> None:
    """Replace the README's configuration table (between its markers) with the one bot/settings.py declares."""
    text = readme.read_text("utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    readme.write_text(text[:start] + variables_table() + text[end:], "utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bot", description="政务服务助手")
    commands = ["build", "train", "migrate", "run", "cluster", "serve", "actions", "log-consumer", "notifier",
                "shell", "evaluate", "settings-table"]
    parser.add_argument("command", choices=commands)
    parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    parser.add_argument("--no-train", action="store_true", help="cluster: serve the model in models/ as it is")
    options = parser.parse_args(argv)
    os.chdir(ROOT)
    if options.command == "cluster":
        from bot.cluster import run as cluster

        cluster(train=not options.no_train)
        return
    if options.command in ("run", "serve"):
        settings = enforce("rasa")
    elif options.command == "log-consumer":
        settings = enforce("log-consumer")
    elif options.command == "notifier":
        settings = enforce("notifier")
    else:
        settings = Settings.from_env()
    if options.command == "build":
        build()
    elif options.command == "train":
        train(options.force)
    elif options.command == "migrate":
        migrate(settings)
    elif options.command == "run":
        run(settings)
    elif options.command == "serve":
        serve(settings)
    elif options.command == "actions":
        actions()
    elif options.command == "log-consumer":
        from bot.log_consumer import main as log_consumer

        log_consumer(settings)
    elif options.command == "notifier":
        from bot.notifier import main as notifier

        notifier()
    elif options.command == "shell":
        shell(settings)
    elif options.command == "settings-table":
        write_settings_table()
    else:
        from scripts.evaluate_nlu import main as evaluate

        evaluate([])
