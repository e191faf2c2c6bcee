"""The console in a real headless Chromium: log in, filter by intent, open a conversation, tag it (the tag then
shows in the list), and see the dashboard's charts.

Runs `python -m console serve` as a subprocess on a free port with a seeded SQLite log, exactly as an operator
would start it (http, so CONSOLE_COOKIE_SECURE=false). Debian's chromium and chromedriver from /usr/bin; no
Selenium Manager downloads. Only explicit waits (WebDriverWait), no sleeps.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from console.db import init_db, make_engine, session_factory
from console.index import refresh_index
from tests.console import seed

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]
USERNAME = "browser-operator"
PASSWORD = "browser-test-password-2026"
INTENT = "request_human"
TAG = "浏览器回归"
RATING_COMMENT = "材料清单写得不清楚，来回补了两次"
WAIT = 20

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()), reason="Debian chromium/chromedriver missing"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def seeded_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[seed.Conversation]]:
    """A log with every scenario yesterday and a realistic mix over the last 20 days, already indexed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'conversation_log.db'}"
    now = time.time()
    conversations = seed.one_of_each(start=now - seed.DAY) + seed.random_conversations(40, seed=9, days=20, end=now)
    # 好差评: one bad rating long past its follow-up deadline, one fresh, one good
    rng = random.Random(11)
    conversations += [seed.job_fair_rated(rng, now - 40 * seed.DAY, "wechat", "非常不满意", RATING_COMMENT),
                      seed.job_fair_rated(rng, now - 3600, "rest", "不满意"),
                      seed.job_fair_rated(rng, now - 1800, "telegram", "非常满意")]
    engine = make_engine(url)
    init_db(engine)
    seed.write_conversations(engine, conversations)
    with session_factory(engine)() as session:
        refresh_index(session)
        session.commit()
    engine.dispose()
    return url, conversations


@pytest.fixture(scope="module")
def console_server(seeded_log: tuple[str, list[seed.Conversation]], tmp_path_factory) -> Iterator[str]:
    url, _ = seeded_log
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": url,
        "CONSOLE_PORT": str(port),
        "CONSOLE_HOST": "127.0.0.1",
        "CONSOLE_COOKIE_SECURE": "false",
        "CONSOLE_PASSWORD": PASSWORD,
    }
    created = subprocess.run(
        [sys.executable, "-m", "console", "create-user", USERNAME, "--role", "operator"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert created.returncode == 0, created.stderr
    log = (tmp_path_factory.mktemp("browser-server") / "console.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "console", "serve"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            WebDriverWait(server, 90, poll_frequency=0.2).until(lambda s: s.poll() is not None or _answers(base))
        except TimeoutException:
            pytest.fail("the console did not answer within 90 s:\n" + Path(log.name).read_text(encoding="utf-8"))
        assert server.poll() is None, Path(log.name).read_text(encoding="utf-8")
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/login", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1000", "--lang=zh-CN", "--no-first-run"):
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # to see CSP violations
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as error:  # e.g. chromium and chromedriver of different versions
        pytest.fail(f"headless Chromium did not start: {error.msg}")
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(driver: webdriver.Chrome) -> WebDriverWait:
    return WebDriverWait(driver, WAIT)


def _path_is(path: str):
    return lambda driver: urlparse(driver.current_url).path == path


def _expected_with_intent(conversations: list[seed.Conversation], intent: str) -> int:
    return sum(
        any(e["event"] == "user" and e["parse_data"]["intent"]["name"] == intent for e in c.events)
        for c in conversations
    )


def test_operator_reviews_and_tags_a_conversation_then_sees_the_dashboard(
    console_server: str, browser: webdriver.Chrome, seeded_log: tuple[str, list[seed.Conversation]], tmp_path
) -> None:
    _, conversations = seeded_log
    driver, base = browser, console_server
    try:
        # 1. Any page sends an anonymous visitor to the login form, which leads back there afterwards.
        driver.get(f"{base}/conversations")
        _wait(driver).until(_path_is("/login"))
        assert parse_qs(urlparse(driver.current_url).query)["next"] == ["/conversations"]
        driver.find_element(By.NAME, "username").send_keys(USERNAME)
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        _wait(driver).until(_path_is("/conversations"))
        cookie = driver.get_cookie("govbot_console")
        assert cookie is not None and cookie["httpOnly"]

        # 2. Filter by intent: exactly the seeded conversations with a request_human message.
        want = _expected_with_intent(conversations, INTENT)
        assert want >= 1
        Select(driver.find_element(By.NAME, "intent")).select_by_value(INTENT)
        driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        _wait(driver).until(lambda d: parse_qs(urlparse(d.current_url).query).get("intent") == [INTENT])
        count = _wait(driver).until(EC.visibility_of_element_located((By.ID, "result-count"))).text
        assert f"共 {want} 个会话" in count
        rows = driver.find_elements(By.CSS_SELECTOR, "table.conversations tbody tr")
        assert len(rows) == min(want, 50)
        assert all(INTENT in row.find_element(By.CSS_SELECTOR, "td.intents").text for row in rows)

        # 3. Open the first one.
        conversation_id = rows[0].get_attribute("data-conversation")
        rows[0].find_element(By.LINK_TEXT, "查看").click()
        _wait(driver).until(_path_is(f"/conversations/{conversation_id}"))
        assert INTENT in driver.find_element(By.TAG_NAME, "main").text

        # 4. Tag it; the tag shows on the page and then in the (filtered) list.
        tag_form = driver.find_element(By.CSS_SELECTOR, f"form[action='/conversations/{conversation_id}/tags']")
        tag_form.find_element(By.NAME, "tag").send_keys(TAG)
        tag_form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _wait(driver).until(
            lambda d: any(TAG in t.text for t in d.find_elements(By.CSS_SELECTOR, ".tags .tag"))
        )
        driver.get(f"{base}/conversations?intent={INTENT}")
        row = _wait(driver).until(
            EC.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-conversation='{conversation_id}']"))
        )
        assert TAG in [t.text for t in row.find_elements(By.CSS_SELECTOR, ".tag")]
        tag_box = driver.find_element(By.NAME, "tag")
        tag_box.clear()
        tag_box.send_keys(TAG)
        Select(driver.find_element(By.NAME, "intent")).select_by_value("")
        driver.find_element(By.CSS_SELECTOR, "form.filters button[type=submit]").click()
        _wait(driver).until(lambda d: TAG in (parse_qs(urlparse(d.current_url).query).get("tag") or [""])[0])
        tagged = driver.find_elements(By.CSS_SELECTOR, "table.conversations tbody tr")
        assert [r.get_attribute("data-conversation") for r in tagged] == [conversation_id]

        # 5. The dashboard, through the navigation: server-rendered SVG charts with data.
        driver.find_element(By.LINK_TEXT, "仪表盘").click()
        _wait(driver).until(_path_is("/dashboard"))
        charts = _wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg.chart") or None)
        assert len(charts) == 7
        per_day = driver.find_element(By.CSS_SELECTOR, "svg.per-day")
        days_with_data = [b for b in per_day.find_elements(By.CSS_SELECTOR, "rect.bar") if b.size["height"] > 0]
        assert len(days_with_data) >= 10
        assert per_day.size["width"] > 300 and per_day.size["height"] > 100  # laid out, not collapsed
        assert driver.find_elements(By.CSS_SELECTOR, "svg.intents rect.bar")
        assert driver.find_elements(By.CSS_SELECTOR, "svg.transactions rect.bar")
        assert driver.find_elements(By.CSS_SELECTOR, "svg.latency rect.bar")
        assert "暂无数据" not in driver.find_element(By.TAG_NAME, "main").text
        # the page's own stylesheet loaded under the CSP (the tiles are a grid)
        assert driver.find_element(By.CSS_SELECTOR, ".tiles").value_of_css_property("display") == "grid"
        csp_errors = [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]
        assert csp_errors == []
    except BaseException:
        driver.save_screenshot(str(tmp_path / "failure.png"))  # kept in pytest's tmp folder for a look
        raise


def test_operator_answers_an_overdue_bad_rating(console_server: str, browser: webdriver.Chrome, tmp_path) -> None:
    driver, base = browser, console_server
    try:
        driver.get(f"{base}/login?next=/ratings")
        if urlparse(driver.current_url).path == "/login":
            driver.find_element(By.NAME, "username").send_keys(USERNAME)
            driver.find_element(By.NAME, "password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        driver.get(f"{base}/dashboard")
        satisfaction = _wait(driver).until(EC.visibility_of_element_located((By.ID, "satisfaction")))
        # the default range (30 days) leaves out the old one: 1 of the 2 recent ratings is 好评
        assert "招聘会报名" in satisfaction.text and "50.0%" in satisfaction.text
        satisfaction.find_element(By.ID, "overdue-followups").click()  # "差评回访已超期 1"
        _wait(driver).until(_path_is("/ratings"))
        rows = driver.find_elements(By.CSS_SELECTOR, "#ratings tbody tr")
        assert len(rows) == 1 and "overdue" in rows[0].get_attribute("class") and RATING_COMMENT in rows[0].text
        driver.save_screenshot(str(tmp_path / "ratings.png"))
        rows[0].find_element(By.LINK_TEXT, "回访").click()
        form = _wait(driver).until(EC.visibility_of_element_located((By.ID, "followup-form")))
        form.find_element(By.NAME, "findings").send_keys("窗口材料清单已重写并公示。")
        form.find_element(By.NAME, "reply").send_keys("您好，材料清单已重新整理，感谢您的意见。")
        form.find_element(By.NAME, "answered_elsewhere").click()  # WeChat's 48 hours are long gone: by telephone
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        done = _wait(driver).until(EC.visibility_of_element_located((By.ID, "followup-done")))
        assert "窗口材料清单已重写并公示。" in done.text
        assert driver.find_element(By.ID, "followup-status").text == "已回访"
        driver.save_screenshot(str(tmp_path / "rating_done.png"))
    except BaseException:
        driver.save_screenshot(str(tmp_path / "failure.png"))
        raise
