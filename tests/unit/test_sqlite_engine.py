"""Processes opening the same new SQLite file at the same moment (replicas, the console and the Rasa server)."""

from __future__ import annotations

import threading
from pathlib import Path

from bot.sqlite import create_engine


def _open_and_read(url: str, errors: list[Exception]) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    except Exception as error:  # noqa: BLE001 - counted by the test
        errors.append(error)
    finally:
        engine.dispose()


def test_connections_opening_a_new_file_together_all_get_in(tmp_path: Path) -> None:
    failed_rounds = 0
    for round_no in range(60):  # the switch to WAL is a narrow window: many rounds make a regression show
        url = f"sqlite:///{tmp_path}/log-{round_no}.db"
        errors: list[Exception] = []
        threads = [threading.Thread(target=_open_and_read, args=(url, errors)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        failed_rounds += bool(errors)
    assert failed_rounds == 0
