"""Processes opening the same new SQLite file at the same moment (replicas, the console and the Rasa server)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from bot.sqlite import create_engine
from services.db import create_db_engine

# The conversation log's engine and the sandbox's: both open files several processes may create at once.
ENGINES = pytest.mark.parametrize("make_engine", [create_engine, create_db_engine], ids=["bot", "sandbox"])


def _open_and_read(make_engine: Callable[[str], Engine], url: str, errors: list[Exception]) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    except Exception as error:  # noqa: BLE001 - counted by the test
        errors.append(error)
    finally:
        engine.dispose()


@ENGINES
def test_connections_opening_a_new_file_together_all_get_in(make_engine: Callable, tmp_path: Path) -> None:
    failed_rounds = 0
    for round_no in range(60):  # the switch to WAL is a narrow window: many rounds make a regression show
        url = f"sqlite:///{tmp_path}/log-{round_no}.db"
        errors: list[Exception] = []
        threads = [threading.Thread(target=_open_and_read, args=(make_engine, url, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        failed_rounds += bool(errors)
    assert failed_rounds == 0
