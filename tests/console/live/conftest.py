"""Console tests against a live stack (sandbox, action server, Rasa server), one per module: the console reads that
stack's conversation log, calls its Rasa API and opens the ids its Rasa server sealed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from bot.settings import ConsoleSettings
from tests.e2e.stack import ROOT, Stack

SEAL_KEY = "console-e2e-seal-key"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PII_SEAL_KEY", SEAL_KEY)  # the console must open what the Rasa server sealed
        running = Stack(tmp_path_factory.mktemp("console-stack"), extra_env={"PII_SEAL_KEY": SEAL_KEY})
        try:
            yield running.start()
        finally:
            running.stop_all()


@pytest.fixture
def console_db_url(stack: Stack) -> str:
    return f"sqlite:///{stack.var_dir / 'conversation_log.db'}"


@pytest.fixture
def console_settings(console_settings: ConsoleSettings, stack: Stack) -> ConsoleSettings:
    return replace(console_settings, rasa_url=stack.rasa_url, rasa_token=stack.api_token)
