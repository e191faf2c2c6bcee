"""The whole stack for end-to-end tests: services sandbox, action server and Rasa server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.stack import ROOT, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    running = Stack(tmp_path_factory.mktemp("stack"))
    try:
        yield running.start()
    finally:
        running.stop_all()
