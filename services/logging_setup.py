"""Logging with PII masking: access-log lines carry query strings such as ?phone=13800000001."""

from __future__ import annotations

import logging

from services.masking import mask_text


class MaskingFilter(logging.Filter):
    """Replaces ID and mobile numbers in log records before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Mask argument by argument: formatters such as uvicorn's access formatter unpack record.args.
        if isinstance(record.args, tuple):
            record.args = tuple(mask_text(arg) if isinstance(arg, str) else arg for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = mask_text(record.msg)
        return True


def install_masking(logger_names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error", "services")) -> None:
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, MaskingFilter) for existing in logger.filters):
            logger.addFilter(MaskingFilter())
