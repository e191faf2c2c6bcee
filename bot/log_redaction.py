"""Credentials that libraries write into log lines (a bot token in every Bot API URL, WeChat's `secret=` and
`access_token=` query parameters) are cut out of each record, message and traceback, before any handler sees it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

Redact = Callable[[str], str]
_installed: set[str] = set()


class RedactingRecordFactory:
    """Log record factory wrapper around whatever factory was installed before it."""

    def __init__(self, redact: Redact) -> None:
        self.redact = redact
        self.previous = logging.getLogRecordFactory()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; never fail the log call
            return record
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:  # another factory (the PII masking) may have formatted it
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return record


def redact_in_logs(key: str, redact: Redact) -> None:
    """Install `redact` for every log record of this process, once per `key` (e.g. one per bot token)."""
    if key not in _installed:
        logging.setLogRecordFactory(RedactingRecordFactory(redact))
        _installed.add(key)
