"""Hole 1 (console side): the console sent the Rasa API token as a `?token=` query parameter, which every access log
keeps. It now sends `Authorization: Bearer …` with the token the Rasa server itself uses (bot.secret_store), and
`python -m console serve` refuses to start in production while the checklist is open.

Also: Rasa's error texts shown to operators, and the console's own log lines, carry no raw personal data.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import console.__main__ as console_main
from bot.secret_store import RASA_API_TOKEN, shared_secret
from bot.settings import ConsoleSettings, Settings
from console.rasa_client import RasaClient, RasaError

TOKEN = "t" * 40
PHONE = "13800000001"


class RecordingRasa:
    """Stands in for the Rasa HTTP API: remembers every request, answers with a tracker."""

    def __init__(self, status: int = 200, body: dict | None = None) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status
        self.body = body if body is not None else {"events": [], "latest_input_channel": "wechat"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)

    def client(self, token: str | None = TOKEN) -> RasaClient:
        return RasaClient("http://rasa.test", token, transport=httpx.MockTransport(self))


def test_the_token_travels_in_the_authorization_header_never_in_the_url() -> None:
    rasa = RecordingRasa()
    client = rasa.client()
    asyncio.run(client.tracker("wechat:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    asyncio.run(client.pause("wechat:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"))
    asyncio.run(client.send("tg:123456789", "您好", "wangfang", channel="telegram"))
    assert len(rasa.requests) == 3
    for request in rasa.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert "token" not in request.url.params and TOKEN not in str(request.url)
    # The namespaced conversation id is what Rasa's /conversations/<id>/ API expects, as it is: Rasa's server does
    # not percent-decode path parameters, so a quoted ":" (wechat%3A…) would address another, empty conversation.
    assert rasa.requests[0].url.raw_path.decode() == "/conversations/wechat:oUpF8uMuAJO_M2pxb1Q9zNjWeS6o/tracker"
    assert rasa.requests[2].url.params["output_channel"] == "telegram"


@pytest.mark.parametrize("sender", ["rest:a b", "rest:a/../b", "rest:a?b=1", "rest:市民", "rest:a%3Ab", "rest:a#b"])
def test_an_id_the_api_cannot_address_is_refused_before_any_request(sender: str) -> None:
    rasa = RecordingRasa()
    with pytest.raises(RasaError, match="无法使用的字符"):
        asyncio.run(rasa.client().send(sender, "您好", "wangfang", channel="rest"))
    assert rasa.requests == []


def test_the_console_uses_the_token_the_rasa_server_uses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("RASA_API_TOKEN", raising=False)
    generated = shared_secret(RASA_API_TOKEN, Settings.from_env())  # what `make run` leaves for the Rasa server
    assert ConsoleSettings.from_env().rasa_token == generated
    monkeypatch.setenv("RASA_API_TOKEN", TOKEN)
    assert ConsoleSettings.from_env().rasa_token == TOKEN


def test_rasa_error_texts_shown_to_operators_are_masked() -> None:
    failing = RecordingRasa(500, {"message": f"DeliveryFailed: Error: 无法发送给手机 {PHONE} 的用户"})
    with pytest.raises(RasaError) as raised:
        asyncio.run(failing.client().send("rest:citizen-1", "您好", "wangfang", channel="rest"))
    assert PHONE not in str(raised.value) and "138****0001" in str(raised.value)


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """`uvicorn.run` replaced: records what would have been served instead of serving."""
    import uvicorn

    served: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.append(options))
    return served


@pytest.fixture
def plain_logging() -> Iterator[None]:
    """`serve` changes process-wide logging (masking): undo it so other tests see plain logging."""
    import bot.masking

    factory, handlers = logging.getLogRecordFactory(), list(logging.getLogger().handlers)
    filters = {handler: list(handler.filters) for handler in handlers}
    yield
    logging.setLogRecordFactory(factory)
    bot.masking._installed = False
    for handler, kept in filters.items():
        handler.filters[:] = kept


def test_serve_refuses_production_while_the_checklist_is_open(
    no_server: list[dict], plain_logging: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'log.db'}")
    monkeypatch.setenv("GOVBOT_ENV", "production")
    for name in ("RASA_API_TOKEN", "PII_HASH_SECRET", "PII_SEAL_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CONSOLE_COOKIE_SECURE", "false")
    with pytest.raises(SystemExit) as exited:
        console_main.main(["serve"])
    assert exited.value.code == 2 and no_server == []
    problems = capsys.readouterr().err
    assert "RASA_API_TOKEN" in problems and "PII_SEAL_KEY" in problems and "CONSOLE_COOKIE_SECURE" in problems


def test_serve_masks_every_log_line_of_the_process(
    no_server: list[dict], plain_logging: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's access log keeps query strings (a search for a phone number), errors keep their exceptions."""
    monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'log.db'}")
    monkeypatch.delenv("GOVBOT_ENV", raising=False)
    assert console_main.main(["serve"]) == 0 and len(no_server) == 1
    record = logging.getLogger("uvicorn.access").makeRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/1.1" %d',
        ("127.0.0.1:5000", "GET", f"/conversations?q={PHONE}", 200), None,
    )
    line = logging.Formatter().format(record)
    assert PHONE not in line and "138****0001" in line

