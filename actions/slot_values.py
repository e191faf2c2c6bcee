"""A service's typed answer (frozen dataclasses with dates and amounts) kept in a slot, which holds JSON only."""

from __future__ import annotations

from dataclasses import asdict, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """A dataclass (or what it holds) as slot-safe JSON values: dates as YYYY-MM-DD, amounts as decimal strings."""
    if is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
