"""Several replicas behind the load balancer (`python -m bot cluster`): whichever replica a message lands on, the
citizen's conversation goes on as with one process; nothing is lost or done twice."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.channels.fake_telegram import FakeTelegram, next_update_id, text_update
from tests.channels.fake_wechat import FakeWeChatApi, WeChatPusher, message_xml, new_msg_id, new_openid
from tests.cluster.conftest import Cluster, TcpProxy, wait_for
from tests.e2e.test_conversations import CHEN, SUN, start_rent_application

pytestmark = pytest.mark.e2e


def user_texts(tracker: dict) -> list[str]:
    return [e["text"] for e in tracker["events"] if e["event"] == "user"]


def test_a_conversation_on_alternating_replicas_completes_a_transaction(cluster: Cluster) -> None:
    chat = cluster.chat()
    served = []

    def say(text: str) -> None:
        chat.say(text)
        served.append(chat.served_by)

    start_rent_application(chat)
    served.append(chat.served_by)
    name, id_number, phone = CHEN
    for answer in (name, id_number, phone):
        say(answer)
    say(cluster.sms_code(phone))
    assert "符合租房补贴申请条件" in chat.text, chat.text  # identity and eligibility
    say("确认")
    assert "申请编号：ZF" in chat.text and "已发放" in chat.text, chat.text  # payout
    # Round robin: consecutive turns alternated between the two replicas.
    assert set(served) == {"rasa-1", "rasa-2"}, served
    assert all(a != b for a, b in zip(served, served[1:], strict=False)), served


def test_ten_messages_sent_at_once_are_each_processed_once_in_order(cluster: Cluster) -> None:
    chat = cluster.chat()
    texts = ["韩国入境有什么管控措施", *(f"第{n}条消息：谢谢" for n in range(2, 11))]
    served: list[str | None] = [None] * len(texts)

    def send(index: int) -> None:
        response = httpx.post(f"{cluster.rasa_url}/webhooks/rest/webhook",
                              json={"sender": chat.sender, "message": texts[index]}, timeout=120)
        response.raise_for_status()
        served[index] = response.headers.get("x-served-by")

    # The first turn waits for the back end (paused for 3 s), so the other nine arrive, 100 ms apart, while it runs:
    # all ten are in flight at once, on both replicas.
    sandbox = cluster.pids()["services"]
    os.killpg(sandbox, signal.SIGSTOP)
    resume = threading.Timer(3, os.killpg, (sandbox, signal.SIGCONT))
    resume.start()
    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(texts))]
    try:
        for thread in threads:
            thread.start()
            time.sleep(0.1)
    finally:
        resume.join()
        os.killpg(sandbox, signal.SIGCONT)
    for thread in threads:
        thread.join(150)

    assert set(served) == {"rasa-1", "rasa-2"}, served
    events = chat.tracker()["events"]
    assert user_texts({"events": events}) == texts  # each once, in the order sent
    # One at a time: every message was answered before the next one was taken up.
    kinds = [e["event"] for e in events if e["event"] in ("user", "bot")]
    assert all(kinds[i + 1] == "bot" for i, kind in enumerate(kinds) if kind == "user"), kinds


def test_a_replica_killed_in_the_middle_of_a_form_the_other_continues_it(cluster: Cluster) -> None:
    chat = cluster.chat()
    start_rent_application(chat)
    name, id_number, phone = SUN
    chat.say(name)
    assert "身份证" in chat.text, chat.text
    crashed = "rasa-1" if chat.served_by == "rasa-2" else "rasa-2"  # the replica next in turn
    old_pid = cluster.kill(crashed)

    chat.say(id_number)  # sent to the balancer the moment the replica died
    assert chat.served_by != crashed
    assert "手机号码" in chat.text, chat.text  # the form went on where it was
    chat.say(phone)
    assert "验证码已发送" in chat.text, chat.text
    assert chat.slot("person_name") == name and chat.slot("id_number") == id_number

    # `make cluster` starts it again, and the balancer sends it turns once it is ready.
    number = int(crashed[-1])
    cluster.wait_restarted(crashed, old_pid, f"{cluster.replica_url(number)}/webhooks/webchat/")
    wait_for(lambda: _served_by_both(cluster), 30, "the restarted replica back behind the balancer")


def _served_by_both(cluster: Cluster) -> bool:
    replicas = set()
    for _ in range(4):
        chat = cluster.chat()
        chat.say("你好")
        replicas.add(chat.served_by)
    return replicas == {"rasa-1", "rasa-2"}


def test_rabbitmq_restart_and_postgresql_outage_lose_no_event_and_store_none_twice(
    cluster: Cluster, postgres_proxy: tuple[TcpProxy, str]
) -> None:
    proxy, _ = postgres_proxy
    chats = [cluster.chat() for _ in range(3)]
    stop = threading.Event()
    turns = {chat.sender: 0 for chat in chats}

    def traffic() -> None:
        lines = ["你好", "罗湖口岸现在能过关吗", "最近杭州有什么招聘会", "租房补贴有什么条件", "谢谢"]
        while not stop.is_set():
            for chat in chats:
                chat.say(lines[turns[chat.sender] % len(lines)])
                turns[chat.sender] += 1
            time.sleep(0.2)

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        time.sleep(2)
        rabbitmqctl("stop_app")  # the broker itself goes down: every connection is closed, transient state lost
        time.sleep(3)
        rabbitmqctl("start_app")
        time.sleep(3)
        proxy.cut()  # the log's PostgreSQL unreachable for 10 s
        time.sleep(10)
        proxy.restore()
        time.sleep(3)
    finally:
        rabbitmqctl("start_app")  # whatever happened above, the machine's broker runs again
        stop.set()
        sender.join(60)
    assert all(count >= 10 for count in turns.values()), turns  # the citizens were answered throughout

    for chat in chats:
        expected = sorted((e["event"], e["timestamp"]) for e in chat.tracker()["events"])
        wait_for(lambda chat=chat, n=len(expected): len(cluster.log_rows(chat.conversation_id)) >= n, 90,
                 "every event in the conversation log")
        time.sleep(1)  # a late duplicate would show now
        stored = sorted((row["type_name"], row["timestamp"]) for row in cluster.log_rows(chat.conversation_id))
        assert stored == expected


def rabbitmqctl(command: str) -> None:
    subprocess.run(["rabbitmqctl", command], check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def fake_wechat(cluster: Cluster) -> Iterator[FakeWeChatApi]:
    env = cluster.env
    port = int(env["WECHAT_API_BASE_URL"].split(":")[2].split("/")[0])
    fake = FakeWeChatApi(env["WECHAT_APP_ID"], env["WECHAT_APP_SECRET"], port).start()
    yield fake
    fake.stop()


def test_a_wechat_message_retried_to_the_other_replica_is_answered_once(
    cluster: Cluster, fake_wechat: FakeWeChatApi
) -> None:
    env = cluster.env
    wechat = WeChatPusher(f"{cluster.rasa_url}/webhooks/wechat/", env["WECHAT_TOKEN"], env["WECHAT_APP_ID"],
                          env["WECHAT_ENCODING_AES_KEY"])
    openid = new_openid()
    xml = message_xml(openid, "text", {"Content": "日本入境有什么管控措施"}, msg_id=new_msg_id())
    # The back end answers late, so the turn takes longer than WeChat's 5 s: the first delivery gets "success" and
    # WeChat retries while the first replica is still working on it.
    sandbox = cluster.pids()["services"]
    os.killpg(sandbox, signal.SIGSTOP)
    resume = threading.Timer(6.5, os.killpg, (sandbox, signal.SIGCONT))
    resume.start()
    try:
        first = wechat.post_safe(xml)
        retry = wechat.post_safe(xml)
    finally:
        resume.join()
        os.killpg(sandbox, signal.SIGCONT)
    assert first.text == "success" and retry.text == "success"
    assert first.headers["x-served-by"] != retry.headers["x-served-by"]  # the retry landed on the other replica

    texts = fake_wechat.wait_for_texts(openid, 1, timeout=60)
    time.sleep(2)
    assert fake_wechat.texts_to(openid) == texts and "日本" in texts[0], texts  # one answer, by customer service
    tracker = cluster.api("GET", f"/conversations/wechat:{openid}/tracker").json()
    assert user_texts(tracker) == ["日本入境有什么管控措施"]  # one turn


def test_an_operator_reply_sent_through_one_replica_reaches_the_web_chat_polling_another(cluster: Cluster) -> None:
    """The console's call (RASA_URL is the balancer) runs on one replica; the citizen's page polls the other."""
    browser = str(uuid.uuid4())
    page = f"{cluster.rasa_url}/webhooks/webchat"
    assert httpx.get(f"{page}/").status_code == 200
    assert httpx.post(f"{page}/webhook", json={"sender": browser, "message": "你好"}, timeout=30).json()
    operator = {"event": "bot", "text": "您好，我是人工客服王芳，请问有什么可以帮您？",
                "metadata": {"operator": "wangfang"}}
    sent = httpx.post(f"{cluster.rasa_url}/conversations/web:{browser}/tracker/events", headers=cluster.api_headers,
                      params={"output_channel": "webchat", "execute_side_effects": "true"}, json=[operator], timeout=30)
    assert sent.status_code == 200, sent.text
    polled = httpx.get(f"{page}/updates", params={"sender": browser}, timeout=30)
    assert polled.headers["x-served-by"] != sent.headers["x-served-by"]
    assert polled.json() == [{"text": operator["text"], "from": "operator"}]


@pytest.fixture(scope="module")
def fake_telegram(cluster: Cluster) -> Iterator[FakeTelegram]:
    env = cluster.env
    fake = FakeTelegram(int(env["TELEGRAM_API_BASE_URL"].split(":")[2].split("/")[0]), env["TELEGRAM_BOT_TOKEN"])
    yield fake
    fake.close()


def test_a_telegram_chats_updates_on_two_replicas_are_answered_in_their_order(
    cluster: Cluster, fake_telegram: FakeTelegram
) -> None:
    """Telegram sends one chat's updates over parallel connections: the later one may reach a replica first."""
    reference = cluster.chat()
    reference.say("谢谢")
    thanks = reference.text
    user_id = random.randint(1_000_000_000, 1_999_999_999)
    first, second = next_update_id(), next_update_id()
    headers = {"X-Telegram-Bot-Api-Secret-Token": cluster.env["TELEGRAM_SECRET_TOKEN"]}

    def post(update_id: int, text: str) -> httpx.Response:
        return httpx.post(f"{cluster.rasa_url}/webhooks/telegram/webhook", headers=headers, timeout=10,
                          json=text_update(user_id, text, update_id))

    late = post(second, "谢谢")
    early = post(first, "你好")
    assert late.status_code == early.status_code == 200
    assert late.headers["x-served-by"] != early.headers["x-served-by"]

    sent = [call.params["text"] for call in fake_telegram.wait_for_messages(user_id, 2, timeout=60)]
    assert "您好" in sent[0] and sent[-1] == thanks, sent  # the greeting's answer first, as Telegram numbered them
    tracker = cluster.api("GET", f"/conversations/tg:{user_id}/tracker").json()
    assert user_texts(tracker) == ["你好", "谢谢"]


def test_ctrl_c_stops_every_process_of_the_cluster(cluster: Cluster) -> None:
    """Last in this module: it stops the cluster the other tests used."""
    pids = cluster.pids()
    os.kill(cluster.processes["cluster"].pid, signal.SIGINT)  # what Ctrl-C sends to `make cluster`
    cluster.processes["cluster"].wait(60)
    wait_for(lambda: not any(_alive(pid) for pid in pids.values()), 10, "every process stopped")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{cluster.rasa_url}/webhooks/webchat/", timeout=2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
