"""`python -m console <command>`: run the console, manage its users.

Commands are listed in COMMANDS (name → help text, argument setup, handler); add new ones there.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.settings import ConsoleSettings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from console.users import User


@dataclass(frozen=True)
class Command:
    help: str
    arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def log_config() -> dict[str, Any]:
    """uvicorn's logging with its access lines formatted like every other line: the masking has already formatted
    each message (and dropped its arguments), which uvicorn's own access formatter reads again and fails on."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"] = dict(config["formatters"]["default"])
    return config


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.log_migrations import SchemaNotReady
    from bot.masking import install_log_masking
    from bot.production import enforce
    from console.app import create_app

    enforce("console")  # production: exits with the list of what is missing (keys, RASA_API_TOKEN, cookies)
    install_log_masking()  # access log lines keep query strings (searches), errors their tracebacks: masked
    settings = ConsoleSettings.from_env()
    try:
        app = create_app(settings)
    except SchemaNotReady as error:  # production before `python -m bot migrate` (bot/log_migrations)
        print(error, file=sys.stderr)
        return 2
    # Behind a reverse proxy the client address (used by the login rate limit) comes from X-Forwarded-For,
    # trusted only from CONSOLE_TRUSTED_PROXIES.
    uvicorn.run(
        app, host=settings.host, port=settings.port, proxy_headers=True, forwarded_allow_ips=settings.trusted_proxies,
        log_config=log_config(),
    )
    return 0


def _read_password() -> str:
    """CONSOLE_PASSWORD, else asked twice on the terminal."""
    from_env = os.environ.get("CONSOLE_PASSWORD")
    if from_env is not None:
        return from_env
    first = getpass.getpass("密码（至少 10 个字符）：")
    if getpass.getpass("再次输入密码：") != first:
        raise SystemExit("两次输入的密码不一致，未做任何修改。")
    return first


def _in_database(change: Callable[[Session], str]) -> int:
    """Run `change(db)` in one committed transaction; print its Chinese message, or the refusal and exit 2."""
    from bot.log_migrations import SchemaNotReady
    from console.db import init_db, make_engine, session_factory, session_scope
    from console.users import UserError

    engine = make_engine(ConsoleSettings.from_env().database_url)
    try:
        init_db(engine)
    except SchemaNotReady as error:  # production before `python -m bot migrate` (bot/log_migrations)
        print(error, file=sys.stderr)
        return 2
    try:
        with session_scope(session_factory(engine)) as db:
            message = change(db)
    except UserError as error:
        print(error, file=sys.stderr)
        return 2
    print(message)
    return 0


def _existing(db: Session, name: str) -> User:
    from console.users import UserError, find_user

    user = find_user(db, name)
    if user is None:
        raise UserError(f"用户 {name} 不存在。")
    return user


def _checked_password() -> str | None:
    from console.users import password_problem

    password = _read_password()
    problem = password_problem(password)
    if problem:
        print(problem, file=sys.stderr)
        return None
    return password


def _create_user(args: argparse.Namespace) -> int:
    from console.users import create_user

    password = _checked_password()
    if password is None:
        return 2

    def change(db: Session) -> str:
        user = create_user(db, args.name, password, args.role)
        return f"已创建用户 {user.username}（{user.role_label}）。"

    return _in_database(change)


def _set_password(args: argparse.Namespace) -> int:
    from console.users import set_password

    password = _checked_password()
    if password is None:
        return 2

    def change(db: Session) -> str:
        user = _existing(db, args.name)
        set_password(db, user, password)
        return f"已为 {user.username} 设置新密码，该用户原有的登录已失效。"

    return _in_database(change)


def _set_disabled(disabled: bool) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from console.users import set_disabled

        def change(db: Session) -> str:
            user = _existing(db, args.name)
            set_disabled(db, user, disabled)
            return f"已停用 {user.username}，其登录已全部失效。" if disabled else f"已启用 {user.username}。"

        return _in_database(change)

    return run


def _purge(args: argparse.Namespace) -> int:
    from bot.settings import Settings
    from bot.tracker_stores import purge_expired_trackers
    from console.retention import purge

    days = args.days if args.days is not None else ConsoleSettings.from_env().retention_days
    done = _in_database(lambda db: str(purge(db, days)))
    if done:
        return done
    # The live trackers (raw: what citizens typed) expire after TRACKER_TTL_SECONDS; Redis drops them itself, the
    # embedded SQLite store is swept here (and hourly by the Rasa server).
    trackers = purge_expired_trackers(Settings.from_env())
    print(f"已删除 {trackers} 个过期的实时会话（tracker）。")
    return 0


def _purge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", type=float, help="保留天数（默认 RETENTION_DAYS，即 180 天）")


def _name_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="用户名")


def _create_arguments(parser: argparse.ArgumentParser) -> None:
    _name_argument(parser)
    parser.add_argument("--role", choices=("operator", "admin"), default="operator", help="角色（默认 operator）")


COMMANDS: dict[str, Command] = {
    "serve": Command("启动运营后台（端口 CONSOLE_PORT，默认 8002）", lambda parser: None, _serve),
    "create-user": Command("创建用户（密码取自 CONSOLE_PASSWORD 或交互输入）", _create_arguments, _create_user),
    "set-password": Command("为已有用户设置新密码", _name_argument, _set_password),
    "disable-user": Command("停用用户并注销其全部登录", _name_argument, _set_disabled(True)),
    "enable-user": Command("重新启用已停用的用户", _name_argument, _set_disabled(False)),
    "purge": Command("按保留期删除旧的会话日志和过期的实时会话（每天由定时任务运行）", _purge_arguments, _purge),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="政务服务助手运营后台")
    commands = parser.add_subparsers(dest="command", required=True, metavar="命令")
    for name, command in COMMANDS.items():
        command.arguments(commands.add_parser(name, help=command.help, description=command.help))
    args = parser.parse_args(argv)
    return COMMANDS[args.command].run(args)


if __name__ == "__main__":
    sys.exit(main())
