"""`python -m integrations.channels.telegram.commands set|commands|delete|info`: manage the bot's webhook and commands.

  set       setWebhook (TELEGRAM_WEBHOOK_URL or --url, with TELEGRAM_SECRET_TOKEN) and setMyCommands
  commands  setMyCommands only (polling mode needs no webhook)
  delete    deleteWebhook (needed before polling; --drop-pending discards updates Telegram still holds)
  info      getWebhookInfo: the URL Telegram calls, pending updates, the last delivery error

Settings come from the environment, as for the channel (see docs/channels/telegram.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from urllib.parse import urlsplit

from telegram import Bot, BotCommand
from telegram.error import TelegramError

from integrations.channels.telegram.settings import WEBHOOK_PATH, TelegramSettings, make_bot
from integrations.channels.telegram.updates import ALLOWED_UPDATES, COMMAND_DESCRIPTIONS

TELEGRAM_WEBHOOK_PORTS = {None, 443, 80, 88, 8443}  # the only ports Telegram delivers webhooks to


def webhook_url_problem(url: str) -> str | None:
    if not url:
        return "no webhook URL: set TELEGRAM_WEBHOOK_URL or pass --url"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return f"Telegram only calls https:// URLs, got {url!r}"
    if parts.port not in TELEGRAM_WEBHOOK_PORTS:
        return f"Telegram only calls ports 443, 80, 88 or 8443, got {parts.port}"
    return None


async def set_commands(bot: Bot) -> None:
    commands = [BotCommand(name, description) for name, description in COMMAND_DESCRIPTIONS.items()]
    await bot.set_my_commands(commands)
    print(f"commands set: {', '.join('/' + c.command for c in commands)}")


async def set_webhook(bot: Bot, config: TelegramSettings, url: str, drop_pending: bool) -> None:
    await bot.set_webhook(
        url,
        secret_token=config.secret_token,
        allowed_updates=ALLOWED_UPDATES,
        drop_pending_updates=drop_pending,
    )
    print(f"webhook set: {url} (secret token from TELEGRAM_SECRET_TOKEN, updates: {', '.join(ALLOWED_UPDATES)})")
    if not urlsplit(url).path.endswith(WEBHOOK_PATH):
        print(f"warning: the Rasa route is {WEBHOOK_PATH}; check that your proxy forwards {url} there")


async def show_info(bot: Bot) -> None:
    info = await bot.get_webhook_info()
    print(f"url: {info.url or '(none: polling or not set)'}")
    print(f"pending updates: {info.pending_update_count}")
    if info.last_error_message:
        print(f"last error: {info.last_error_message} at {info.last_error_date}")


async def run(args: argparse.Namespace, config: TelegramSettings) -> None:
    async with make_bot(config) as bot:  # initialize (getMe, checks the token) and shutdown
        if args.action == "set":
            await set_webhook(bot, config, args.url or config.webhook_url, args.drop_pending)
            await set_commands(bot)
        elif args.action == "commands":
            await set_commands(bot)
        elif args.action == "delete":
            await bot.delete_webhook(drop_pending_updates=args.drop_pending)
            print("webhook deleted: start the server with TELEGRAM_MODE=polling, or `set` it again")
        else:
            await show_info(bot)


def check(args: argparse.Namespace, config: TelegramSettings) -> str | None:
    problem = config.problem()
    if args.action == "set":
        if not config.secret_token:
            return "TELEGRAM_SECRET_TOKEN is not set; the webhook must carry a secret token"
        return problem or webhook_url_problem(args.url or config.webhook_url)
    # The other actions need only the bot token (they also serve polling setups, which have no secret).
    return problem if problem and "TELEGRAM_SECRET_TOKEN" not in problem else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m integrations.channels.telegram.commands", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["set", "commands", "delete", "info"])
    parser.add_argument("--url", help="public https URL of /webhooks/telegram/webhook (default TELEGRAM_WEBHOOK_URL)")
    parser.add_argument("--drop-pending", action="store_true", help="discard updates Telegram has not delivered")
    args = parser.parse_args(argv)
    config = TelegramSettings.from_env()
    problem = check(args, config)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        asyncio.run(run(args, config))
    except TelegramError as error:
        print(f"error: Bot API call failed: {str(error).replace(config.token, '<bot-token>')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
