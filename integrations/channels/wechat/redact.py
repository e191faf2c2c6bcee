"""WeChat puts its credentials in the query string: `secret=` (the AppSecret) on every token request and
`access_token=` on every API call. urllib3 logs each request line at DEBUG (Rasa's --debug), and requests puts the
URL into its error messages, so both are cut out of log records and of error texts shown to people."""

from __future__ import annotations

import re

from bot.log_redaction import redact_in_logs

_CREDENTIAL = re.compile(r"\b((?:secret|access_token)=)[^&\s'\"]+", re.IGNORECASE)
MASK = "<redacted>"


def redact(text: str) -> str:
    return _CREDENTIAL.sub(lambda match: match.group(1) + MASK, text)


def redact_credentials_in_logs() -> None:
    redact_in_logs("wechat-credentials", redact)
