"""Messages outside a turn (an operator's takeover reply) reach the citizen through their own channel.

Web chat, REST and Telegram run in the real stack: the console's Rasa client appends a bot event with
`execute_side_effects`, Rasa picks the channel's output channel, and the message lands in the page's outbox, the
REST outbox or the fake Bot API. WeChat's output channel runs in-process against the local fake of its API (the
stack's WeChat fake belongs to tests/channels/test_wechat_channel.py).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from console.rasa_client import RasaClient, RasaError
from integrations.channels.common import DeliveryFailed
from integrations.channels.telegram.inbound import SECRET_HEADER
from integrations.channels.wechat import WeChatInput
from integrations.channels.wechat.output import NOT_DELIVERED_TEXT
from integrations.channels.wechat.settings import WeChatSettings
from tests.channels.fake_telegram import FakeTelegram, fake_telegram_for, text_update
from tests.channels.fake_wechat import FakeWeChatApi, new_openid
from tests.e2e.stack import Stack, free_port

OPERATOR_TEXT = "您好，我是工作人员王芳。您的补贴申请已转给审核科，预计3个工作日内答复。"


@pytest.fixture(scope="session")
def fake_telegram(channel_env: dict[str, str]) -> FakeTelegram:
    return fake_telegram_for(channel_env["TELEGRAM_API_BASE_URL"], channel_env["TELEGRAM_BOT_TOKEN"])


@pytest.fixture(scope="session")
def stack(fake_telegram: FakeTelegram, channel_stack: Stack) -> Stack:
    return channel_stack  # the fake Bot API is up before the Rasa server starts and calls getMe


@pytest.fixture
def rasa(stack: Stack) -> RasaClient:
    return RasaClient(stack.rasa_url, stack.api_token)


# --- web chat --------------------------------------------------------------------------------------------


@pytest.mark.e2e
async def test_web_chat_page_receives_the_operator_reply(stack: Stack, rasa: RasaClient) -> None:
    browser = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=f"{stack.rasa_url}/webhooks/webchat", timeout=30) as page:
        answer = await page.post("/webhook", json={"sender": browser, "message": "你好"})
        assert answer.status_code == 200 and answer.json()
        assert (await page.get("/updates", params={"sender": browser})).json() == []

        await rasa.send(f"web:{browser}", OPERATOR_TEXT, "wangfang", channel="webchat")
        await rasa.send(f"web:{browser}", "本次人工服务已结束。", "wangfang", {"handback": True}, channel="webchat")
        updates = (await page.get("/updates", params={"sender": browser})).json()
        assert updates == [
            {"text": OPERATOR_TEXT, "from": "operator"},
            {"text": "本次人工服务已结束。", "from": "assistant"},
        ]
        assert (await page.get("/updates", params={"sender": browser})).json() == []  # shown once

        other = await page.get("/updates", params={"sender": str(uuid.uuid4())})
        assert other.json() == []  # another browser sees nothing of it
        refused = await page.get("/updates", params={"sender": "短"})
        assert refused.status_code == 400 and "会话标识无效" in refused.json()["error"]


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.e2e
async def test_the_open_page_shows_the_operator_reply_labelled(
    stack: Stack, rasa: RasaClient, browser: webdriver.Chrome
) -> None:
    browser.get(f"{stack.rasa_url}/webhooks/webchat/")
    browser.execute_script("localStorage.clear();")
    browser.refresh()
    wait = WebDriverWait(browser, 30)
    box = wait.until(ec.element_to_be_clickable((By.ID, "input")))
    box.send_keys("你好", Keys.ENTER)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log .msg.bot:not(.welcome)")) >= 1)
    browser_id = browser.execute_script("return localStorage.getItem('govbot.webchat.sender');")

    await rasa.send(f"web:{browser_id}", OPERATOR_TEXT, "wangfang", channel="webchat")
    reply = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .msg.operator"))[0]  # polled within ~3 s
    assert reply.find_element(By.CSS_SELECTOR, ".sender").text == "工作人员"
    assert reply.find_element(By.CSS_SELECTOR, ".bubble").text == OPERATOR_TEXT


# --- REST ------------------------------------------------------------------------------------------------


@pytest.mark.e2e
async def test_rest_outbox_holds_the_operator_reply(stack: Stack, rasa: RasaClient) -> None:
    sender = f"rest-{uuid.uuid4().hex[:12]}"
    async with httpx.AsyncClient(base_url=f"{stack.rasa_url}/webhooks/rest", timeout=30) as rest:
        answer = await rest.post("/webhook", json={"sender": sender, "message": "你好"})
        assert answer.status_code == 200 and answer.json()[0]["recipient_id"] == sender  # Rasa's REST as before
        await rasa.send(f"rest:{sender}", OPERATOR_TEXT, "wangfang")  # output_channel=latest: the REST channel
        (message,) = (await rest.get("/outbox", params={"sender": sender})).json()
        assert message["text"] == OPERATOR_TEXT and message["from"] == "operator"
        assert message["recipient_id"] == sender
        assert (await rest.get("/outbox", params={"sender": sender})).json() == []
        missing = await rest.get("/outbox")
        assert missing.status_code == 400 and "sender" in missing.json()["error"]
    tracker = stack.api("GET", f"/conversations/rest:{sender}/tracker").json()
    stored = [e for e in tracker["events"] if e["event"] == "bot" and e["text"] == OPERATOR_TEXT]
    assert stored and stored[0]["metadata"]["operator"] == "wangfang"


# --- Telegram --------------------------------------------------------------------------------------------


def _telegram_user(stack: Stack, fake: FakeTelegram, secret: str) -> int:
    """A Telegram user who has talked to the assistant once (their latest channel is telegram)."""
    user_id = random.randint(5_000_000_000, 5_999_999_999)
    response = httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=text_update(user_id, "你好"),
                          headers={SECRET_HEADER: secret}, timeout=10)
    assert response.status_code == 200
    fake.wait_for_messages(user_id, 1)  # the assistant's greeting
    return user_id


@pytest.mark.e2e
async def test_telegram_chat_receives_the_operator_reply(
    stack: Stack, fake_telegram: FakeTelegram, rasa: RasaClient, channel_env: dict[str, str]
) -> None:
    user_id = _telegram_user(stack, fake_telegram, channel_env["TELEGRAM_SECRET_TOKEN"])
    before = len(fake_telegram.sent_texts(user_id))
    await rasa.send(f"tg:{user_id}", OPERATOR_TEXT, "wangfang")
    assert fake_telegram.sent_texts(user_id)[before:] == [OPERATOR_TEXT]

    fake_telegram.blocked_chats.add(user_id)
    with pytest.raises(RasaError, match="已屏蔽机器人"):
        await rasa.send(f"tg:{user_id}", "这条发不出去", "wangfang")
    tracker = stack.api("GET", f"/conversations/tg:{user_id}/tracker").json()
    texts = [e.get("text") for e in tracker["events"] if e["event"] == "bot"]
    assert OPERATOR_TEXT in texts and "这条发不出去" not in texts  # an undelivered reply is not recorded as sent


# --- WeChat (in-process) ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_wechat() -> Iterator[FakeWeChatApi]:
    server = FakeWeChatApi(app_id="wxoutputtest0001", app_secret="output-test-secret", port=free_port()).start()
    yield server
    server.stop()


def wechat_channel(fake: FakeWeChatApi) -> WeChatInput:
    return WeChatInput(WeChatSettings.from_env({
        "WECHAT_TOKEN": "output-test-token", "WECHAT_APP_ID": fake.app_id, "WECHAT_APP_SECRET": fake.app_secret,
        "WECHAT_API_BASE_URL": fake.base_url,
    }))


async def test_wechat_reply_goes_out_as_customer_service_messages(fake_wechat: FakeWeChatApi) -> None:
    output = wechat_channel(fake_wechat).get_output_channel()
    openid = new_openid()
    await output.send_response(f"wechat:{openid}", {"text": OPERATOR_TEXT, "operator": "wangfang"})
    assert fake_wechat.texts_to(openid) == [OPERATOR_TEXT]

    line = "请携带身份证原件、租赁合同和社保缴纳证明到政务服务中心二楼窗口办理。"
    long_reply = "\n".join(f"{i}. {line}" for i in range(60))
    await output.send_response(f"wechat:{openid}", {"text": long_reply, "operator": "wangfang"})
    parts = fake_wechat.texts_to(openid)[1:]
    assert len(parts) > 1 and all(len(p.encode()) <= 2048 for p in parts)  # WeChat's limit per message
    assert "\n".join(parts).replace("\n\n", "\n").startswith("0. 请携带身份证原件")


async def test_wechat_reply_outside_the_48_hour_window_fails_loudly(fake_wechat: FakeWeChatApi) -> None:
    output = wechat_channel(fake_wechat).get_output_channel()
    openid = new_openid()
    fake_wechat.fail_next(openid, 45015)
    with pytest.raises(DeliveryFailed) as failure:
        await output.send_response(f"wechat:{openid}", {"text": OPERATOR_TEXT, "operator": "wangfang"})
    assert str(failure.value) == NOT_DELIVERED_TEXT and "48小时" in NOT_DELIVERED_TEXT
    assert fake_wechat.texts_to(openid) == []


async def test_an_unconfigured_channel_refuses_instead_of_dropping() -> None:
    output = WeChatInput(WeChatSettings.from_env({})).get_output_channel()
    with pytest.raises(DeliveryFailed, match="微信公众号渠道未配置"):
        await output.send_response(f"wechat:{new_openid()}", {"text": OPERATOR_TEXT})
