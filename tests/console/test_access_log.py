"""The console's access log: every request is one readable line, masked (it keeps query strings: searches)."""

from __future__ import annotations

import logging
import logging.config

import pytest

from bot.masking import install_log_masking
from console.__main__ import log_config


def test_an_access_line_is_written_masked_without_a_logging_error(capsys: pytest.CaptureFixture[str]) -> None:
    logging.config.dictConfig(log_config())
    install_log_masking()
    # What uvicorn logs for each request (uvicorn/protocols/http/httptools_impl.py).
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:47048", "GET", "/conversations?q=13800000001", "1.1", 200
    )
    captured = capsys.readouterr()
    assert "Logging error" not in captured.err, captured.err
    assert '"GET /conversations?q=' in captured.out and '" 200' in captured.out, captured.out
    assert "13800000001" not in captured.out
