"""Benchmark of the WeChat webhook (issue #3's numbers), printed, not asserted.

    python -m bench.wechat [--messages 1000] [--users 20] [--retries 0.1]

The whole stack runs with Redis and the WeChat channel in safe (AES) mode; a local fake of WeChat's API takes
the customer-service messages. `--users` citizens each send their share of `--messages` one after another,
signed and encrypted as WeChat does. For a share `--retries` of the messages WeChat's retry is simulated: the
same message (same MsgId) is delivered again while the first delivery is still open, and as WeChat does, only the
answer to the last delivery counts. WeChat's documentation does not say whether a retry carries a new timestamp and
nonce, so half of the retries repeat the first request byte for byte and half are signed and encrypted anew.
Printed:
- the share of messages answered passively within 4.5 s, and webhook response times (p50/p99/max);
- replies lost or duplicated: per message exactly one reply must reach the citizen, either passive or as one
  customer-service message (counted at the fake API), and the Rasa tracker must hold exactly one turn per message.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx
import redis

from bench.run import MESSAGES, percentile
from integrations.channels.senders import sender_id
from tests.channels.env import channel_environment
from tests.channels.fake_wechat import FakeWeChatApi, WeChatPusher, message_xml, new_msg_id, new_openid, reply_fields
from tests.e2e.stack import Stack

REDIS_URL = "redis://127.0.0.1:6379/15"
PASSIVE_LIMIT = 4.5


@dataclass
class Outcome:
    openid: str
    passive: bool  # the counted delivery carried the answer (not "success")
    seconds: float  # response time of the counted delivery
    all_seconds: list[float] = field(default_factory=list)


async def deliver(client: httpx.AsyncClient, pusher: WeChatPusher,
                  request: tuple[dict[str, str], str]) -> tuple[httpx.Response, float]:
    query, envelope = request
    started = time.perf_counter()
    response = await client.post(pusher.webhook_url, params=query, content=envelope.encode(),
                                 headers={"Content-Type": "text/xml"})
    return response, time.perf_counter() - started


def is_passive(response: httpx.Response, pusher: WeChatPusher) -> bool:
    if response.status_code != 200 or response.text.strip() in ("", "success"):
        return False
    return bool(reply_fields(response, pusher.token, pusher.app_id, pusher.aes_key).get("Content"))


async def one_message(client: httpx.AsyncClient, pusher: WeChatPusher, openid: str, text: str,
                      retry: bool) -> Outcome:
    xml = message_xml(openid, "text", {"Content": text}, msg_id=new_msg_id())
    request = pusher.safe_request(xml)
    first = asyncio.create_task(deliver(client, pusher, request))
    if not retry:
        response, seconds = await first
        return Outcome(openid, is_passive(response, pusher), seconds, [seconds])
    await asyncio.sleep(random.uniform(0.0, 0.3))  # WeChat gave up on the first connection: it delivers again
    again = request if random.random() < 0.5 else pusher.safe_request(xml)
    response, seconds = await deliver(client, pusher, again)
    _, first_seconds = await first
    return Outcome(openid, is_passive(response, pusher), seconds, [first_seconds, seconds])


async def citizen(client: httpx.AsyncClient, pusher: WeChatPusher, count: int, retry_share: float,
                  outcomes: list[Outcome]) -> str:
    openid = new_openid()
    for turn in range(count):
        text = MESSAGES[turn % len(MESSAGES)]
        outcomes.append(await one_message(client, pusher, openid, text, random.random() < retry_share))
    return openid


def tracker_turns(stack: Stack, openid: str) -> int:
    tracker = stack.api("GET", f"/conversations/{sender_id('wechat', openid)}/tracker").json()
    return sum(1 for event in tracker.get("events", []) if event["event"] == "user")


async def load(pusher: WeChatPusher, users: int, messages: int, retry_share: float) -> tuple[list[Outcome], float]:
    outcomes: list[Outcome] = []
    per_user = [messages // users + (1 if index < messages % users else 0) for index in range(users)]
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=100)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(citizen(client, pusher, n, retry_share, outcomes) for n in per_user))
        return outcomes, time.perf_counter() - started


def report(stack: Stack, fake: FakeWeChatApi, outcomes: list[Outcome], elapsed: float) -> None:
    sent: dict[str, int] = {}
    passive: dict[str, int] = {}
    for outcome in outcomes:
        sent[outcome.openid] = sent.get(outcome.openid, 0) + 1
        passive[outcome.openid] = passive.get(outcome.openid, 0) + outcome.passive
    deadline = time.monotonic() + 30  # customer-service replies of slow turns arrive after the webhook answered
    while time.monotonic() < deadline:
        if all(passive[o] + len(fake.texts_to(o)) >= n for o, n in sent.items()):
            break
        time.sleep(0.5)
    replies = {o: passive[o] + len(fake.texts_to(o)) for o in sent}
    turns = {o: tracker_turns(stack, o) for o in sent}
    lost = sum(max(0, sent[o] - replies[o]) for o in sent)
    duplicated = sum(max(0, replies[o] - sent[o]) for o in sent)
    turns_wrong = sum(abs(turns[o] - sent[o]) for o in sent)
    in_time = sum(1 for o in outcomes if o.passive and o.seconds <= PASSIVE_LIMIT)
    every = [s for o in outcomes for s in o.all_seconds]
    print(f"{len(outcomes)} messages from {len(sent)} users in {elapsed:.1f} s "
          f"({len(outcomes) / elapsed:.1f} messages/s), {len(every) - len(outcomes)} simulated retries")
    print(f"answered passively within {PASSIVE_LIMIT} s: {in_time / len(outcomes) * 100:.2f} %")
    print(f"webhook response time: p50 {percentile(every, 50) * 1000:.0f} ms, "
          f"p99 {percentile(every, 99) * 1000:.0f} ms, max {max(every) * 1000:.0f} ms")
    print(f"customer-service messages: {sum(len(fake.texts_to(o)) for o in sent)}")
    print(f"replies lost: {lost}, duplicated: {duplicated}; turns run not exactly once: {turns_wrong}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--retries", type=float, default=0.1, help="share of messages delivered twice")
    options = parser.parse_args()

    redis.Redis.from_url(REDIS_URL).flushdb()
    env = channel_environment(REDIS_URL, rate_limit="1000/60")
    fake = FakeWeChatApi(env["WECHAT_APP_ID"], env["WECHAT_APP_SECRET"],
                         urlparse(env["WECHAT_API_BASE_URL"]).port).start()
    stack = Stack(Path(tempfile.mkdtemp(prefix="govbot-bench-wechat-")), extra_env=env)
    try:
        stack.start()
        pusher = WeChatPusher(f"{stack.rasa_url}/webhooks/wechat/", env["WECHAT_TOKEN"], env["WECHAT_APP_ID"],
                              env["WECHAT_ENCODING_AES_KEY"])
        asyncio.run(load(pusher, 4, 20, 0.0))  # warm-up, not counted
        outcomes, elapsed = asyncio.run(load(pusher, options.users, options.messages, options.retries))
        print(f"\n== WeChat webhook, safe mode, Redis, {options.users} concurrent users ==")
        report(stack, fake, outcomes, elapsed)
    finally:
        stack.stop_all()
        fake.stop()


if __name__ == "__main__":
    main()
