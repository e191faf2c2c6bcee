"""The WeChat API credentials: the AppSecret and the access_token must not leak into logs or error output, and one
rejected token must not start a chain of refreshes (each refresh invalidates the token other workers use)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest

from integrations.channels.wechat.api import WeChatApi
from integrations.channels.wechat.settings import WeChatSettings
from tests.channels.fake_wechat import FakeWeChatApi, new_openid
from tests.e2e.stack import ROOT, free_port

pytestmark = pytest.mark.redis

REDIS_URL = "redis://127.0.0.1:6379/12"
SECRET = "wechat-app-secret-0f9e8d7c6b5a4321"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeWeChatApi]:
    server = FakeWeChatApi(app_id="wxsecrets", app_secret=SECRET, port=free_port()).start()
    yield server
    server.stop()


def config_for(fake: FakeWeChatApi, **extra: str) -> WeChatSettings:
    fake.app_id = f"wx{uuid.uuid4().hex[:16]}"  # a new token key in Redis per test
    return WeChatSettings.from_env({
        "WECHAT_TOKEN": "secrets-test-token", "WECHAT_APP_ID": fake.app_id, "WECHAT_APP_SECRET": SECRET,
        "WECHAT_API_BASE_URL": fake.base_url, "REDIS_URL": REDIS_URL, **extra,
    })


def test_debug_logs_hold_neither_the_app_secret_nor_the_access_token(
    fake: FakeWeChatApi, caplog: pytest.LogCaptureFixture
) -> None:
    """With Rasa's --debug, urllib3 logs every request line, and WeChat puts both secrets in the query string."""
    api = WeChatApi.from_config(config_for(fake))
    with caplog.at_level(logging.DEBUG):
        api.send_text(new_openid(), "您好")
    token = api.session.get(api.access_token_key)
    assert "GET /cgi-bin/token" in caplog.text  # the request lines were logged ...
    assert SECRET not in caplog.text and token not in caplog.text  # ... without the secrets


def run_menu_command(base_url: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_") and k != "REDIS_URL"}
    env = {**clean, "PYTHONPATH": str(ROOT), "WECHAT_APP_ID": "wxsecrets", "WECHAT_APP_SECRET": SECRET,
           "WECHAT_API_BASE_URL": base_url}
    return subprocess.run([sys.executable, "-m", "integrations.channels.wechat.commands", "menu"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("where", ["closed port", "wrong path"])
def test_a_failed_token_request_does_not_print_the_app_secret(fake: FakeWeChatApi, where: str) -> None:
    base_url = f"http://127.0.0.1:{free_port()}/cgi-bin/" if where == "closed port" else \
        f"http://127.0.0.1:{fake.port}/not-cgi-bin/"
    done = run_menu_command(base_url)
    assert done.returncode == 1 and "创建菜单失败" in done.stderr
    assert SECRET not in done.stdout + done.stderr


def test_a_late_rejection_does_not_refresh_a_token_another_worker_just_refreshed(fake: FakeWeChatApi) -> None:
    config = config_for(fake)
    first, second = WeChatApi.from_config(config), WeChatApi.from_config(config)  # two Rasa workers
    early, late = new_openid(), new_openid()
    first.send_text(early, "一")  # both workers now share token T1
    fake.invalidate_tokens()  # e.g. refreshed by a tool outside the channel
    fake.send_delay[late] = 0.8  # the second worker's call, made with T1, is answered late
    before = fake.token_requests
    slow = threading.Thread(target=second.send_text, args=(late, "二"))
    slow.start()
    threading.Event().wait(0.2)
    first.send_text(early, "三")  # rejected at once: refreshes to T2 while the slow call is still out
    slow.join(10)
    assert fake.token_requests - before == 1, "T2 was refreshed again when the late rejection of T1 came in"
    assert fake.texts_to(early) == ["一", "三"] and fake.texts_to(late) == ["二"]
