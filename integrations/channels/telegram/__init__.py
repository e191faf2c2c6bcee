"""Telegram channel (python-telegram-bot); credentials.yml names it `integrations.channels.telegram.TelegramInput`.

The package shares its name with python-telegram-bot's `telegram`: every import is absolute, so `import telegram`
here, as anywhere, is the library, and this package is only ever `integrations.channels.telegram`."""

from integrations.channels.telegram.inbound import TelegramInput

__all__ = ["TelegramInput"]
