"""WeChat puts its credentials in the query string: `secret=` (the AppSecret) on every token request and
`access_token=` on every API call. urllib3 logs each request line at DEBUG (Rasa's --debug), and requests puts the
URL into its error messages, so both are cut out of log records and of error texts shown to people."""

from __future__ import annotations

import logging
import re
from typing import Any

_CREDENTIAL = re.compile(r"\b((?:secret|access_token)=)[^&\s'\"]+", re.IGNORECASE)
MASK = "<redacted>"


def redact(text: str) -> str:
    return _CREDENTIAL.sub(lambda match: match.group(1) + MASK, text)


class CredentialRedactor:
    """Log record factory wrapper: the message (and a traceback) are redacted before any handler sees them."""

    def __init__(self) -> None:
        self.previous = logging.getLogRecordFactory()

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the caller's bug; never fail the log call
            return record
        if _CREDENTIAL.search(message):
            record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            trace = logging.Formatter().formatException(record.exc_info)
            if _CREDENTIAL.search(trace):
                record.exc_text = redact(trace)
        return record


_installed = False


def redact_credentials_in_logs() -> None:
    """Install the redactor once per process (it wraps whatever factory is installed at that moment)."""
    global _installed
    if not _installed:
        logging.setLogRecordFactory(CredentialRedactor())
        _installed = True
