"""Credentials in library log lines: the Telegram bot token (in every Bot API URL) never reaches a handler."""

from __future__ import annotations

import logging

import pytest

from integrations.channels.telegram.settings import redact_token_in_logs

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


def test_the_bot_token_is_cut_out_of_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    previous = logging.getLogRecordFactory()
    try:
        redact_token_in_logs(TOKEN)
        logger = logging.getLogger("httpx")
        with caplog.at_level(logging.INFO, logger="httpx"):
            logger.info("HTTP Request: POST https://api.telegram.org/bot%s/sendMessage \"HTTP/1.1 200 OK\"", TOKEN)
            try:
                raise ConnectionError(f"cannot reach https://api.telegram.org/bot{TOKEN}/getMe")
            except ConnectionError:
                logger.exception("request failed")
        text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
        assert TOKEN not in text and "bot<bot-token>/sendMessage" in text and "bot<bot-token>/getMe" in text
    finally:
        logging.setLogRecordFactory(previous)
