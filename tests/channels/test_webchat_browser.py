"""The web chat page in headless Chromium against the real stack: what a visitor sees and clicks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

WAIT_SECONDS = 30
SENDER_KEY = "govbot.webchat.sender"


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    # A phone's screen (headless windows cannot be narrower than 500 px): the layout must work there.
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(browser: webdriver.Chrome, channel_stack: Stack) -> webdriver.Chrome:
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.get(f"{channel_stack.rasa_url}/webhooks/webchat/")
    browser.execute_script("localStorage.clear();")
    browser.refresh()  # every test starts as a first-time visitor with a fresh conversation
    WebDriverWait(browser, WAIT_SECONDS).until(ec.element_to_be_clickable((By.ID, "send")))
    return browser


def wait(driver: webdriver.Chrome) -> WebDriverWait:
    return WebDriverWait(driver, WAIT_SECONDS)


def bubbles(driver: webdriver.Chrome, kind: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, f"#log .msg.{kind}:not(.welcome) .bubble")


def type_and_enter(driver: webdriver.Chrome, text: str) -> None:
    box = driver.find_element(By.ID, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def wait_for_bot_text(driver: webdriver.Chrome, part: str, after: int = 0) -> WebElement:
    """The first bot message, among those after the first `after`, whose visible text contains `part`."""

    def found(d: webdriver.Chrome) -> WebElement | bool:
        return next((b for b in bubbles(d, "bot")[after:] if part in b.text), False)

    return wait(driver).until(found, f"no bot message with {part!r}")


def button(driver: webdriver.Chrome, title: str) -> WebElement:
    return wait(driver).until(
        ec.element_to_be_clickable((By.XPATH, f"(//*[@id='log']//button[normalize-space()='{title}'])[last()]"))
    )


def test_an_entry_control_question_typed_and_answered(page: webdriver.Chrome) -> None:
    assert page.title == "政务服务助手"
    assert "租房补贴" in page.find_element(By.ID, "welcome").text
    assert page.find_element(By.ID, "input").get_attribute("placeholder")
    type_and_enter(page, "去日本回来要隔离吗")
    answer = wait_for_bot_text(page, "日本")
    assert [b.text for b in bubbles(page, "user")] == ["去日本回来要隔离吗"]
    lines = answer.text.splitlines()  # the bot's line breaks survive: one measure per line
    assert lines[0].startswith("日本") and any(line.startswith("隔离要求") for line in lines), lines
    assert page.find_element(By.ID, "input").get_attribute("value") == ""
    assert not page.find_element(By.ID, "typing").is_displayed()
    # Nothing wider than the phone's screen.
    assert page.execute_script("return window.innerWidth") == 375
    assert page.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_job_fair_search_buttons_page_and_register(page: webdriver.Chrome) -> None:
    type_and_enter(page, "最近有哪些校园招聘会")
    wait_for_bot_text(page, "场招聘会")
    button(page, "查看更多").click()
    wait(page).until(lambda d: [b.text for b in bubbles(d, "user")] == ["最近有哪些校园招聘会", "查看更多"])
    second_page = wait_for_bot_text(page, "第6-", after=1)
    first_group = page.find_elements(By.CSS_SELECTOR, "#log .msg.bot:not(.welcome) .buttons")[0]
    assert all(not b.is_enabled() for b in first_group.find_elements(By.TAG_NAME, "button"))  # answered once
    register = second_page.find_element(By.XPATH, "../div[@class='buttons']/button[starts-with(., '报名第')]")
    title = register.text
    register.click()
    confirmation = wait_for_bot_text(page, "为您报名", after=2)
    assert bubbles(page, "user")[-1].text == title  # the title is shown, not the /job_fair_register payload
    fair = confirmation.text.split("“")[1].split("”")[0]
    assert fair in second_page.text  # the fair of the clicked line
    wait_for_bot_text(page, "姓名", after=2)


def test_typed_markup_is_shown_as_text(page: webdriver.Chrome) -> None:
    hostile = '<img src=x onerror="document.title=\'hacked\'"><b>加粗</b>'
    type_and_enter(page, hostile)
    wait(page).until(lambda d: len(bubbles(d, "bot")) >= 1)
    assert bubbles(page, "user")[0].text == hostile
    assert not page.find_elements(By.CSS_SELECTOR, "#log img, #log b")
    assert page.title == "政务服务助手"


def test_welcome_shortcut_sends_its_payload(page: webdriver.Chrome) -> None:
    button(page, "出入境政策查询").click()
    wait_for_bot_text(page, "哪个国家或地区")
    assert [b.text for b in bubbles(page, "user")] == ["出入境政策查询"]


def test_the_visitor_keeps_an_id_and_new_conversation_starts_another(page: webdriver.Chrome) -> None:
    first_id = page.execute_script(f"return localStorage.getItem('{SENDER_KEY}')")
    assert first_id and len(first_id) == 36
    page.refresh()
    wait(page).until(ec.element_to_be_clickable((By.ID, "send")))
    assert page.execute_script(f"return localStorage.getItem('{SENDER_KEY}')") == first_id

    type_and_enter(page, "我想申请租房补贴")
    wait_for_bot_text(page, "姓名")
    page.find_element(By.ID, "new-chat").click()
    second_id = page.execute_script(f"return localStorage.getItem('{SENDER_KEY}')")
    assert second_id and second_id != first_id
    assert not bubbles(page, "user") and not bubbles(page, "bot")
    # The new conversation does not continue the old one's form (which would now ask for the ID number).
    type_and_enter(page, "陈晓")
    answer = wait(page).until(lambda d: (bubbles(d, "bot") or [False])[0])
    assert "身份证" not in answer.text and "业务" in answer.text, answer.text


def test_typing_indicator_and_a_polite_line_when_the_server_does_not_answer(page: webdriver.Chrome) -> None:
    page.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/webhooks/webchat/webhook"]})
    type_and_enter(page, "罗湖口岸现在能正常过关吗")
    notice = wait(page).until(ec.visibility_of_element_located((By.CSS_SELECTOR, "#log .msg.notice .bubble")))
    assert notice.text == "网络不稳定，请稍后重试。"
    assert page.find_element(By.ID, "input").get_attribute("value") == "罗湖口岸现在能正常过关吗"  # ready to retry

    page.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    page.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 1500, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    try:
        page.find_element(By.ID, "input").send_keys(Keys.ENTER)
        wait(page).until(ec.visibility_of_element_located((By.ID, "typing")))
        assert not page.find_element(By.ID, "send").is_enabled()
        wait_for_bot_text(page, "罗湖口岸")
        wait(page).until(ec.invisibility_of_element_located((By.ID, "typing")))
    finally:
        page.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
