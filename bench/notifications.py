"""Progress notifications: latency from a state change in the back end to the message in the citizen's outbox.

    python -m bench.notifications [--events 100] [--burst 10] [--redis]

The whole stack runs as `make run` starts it (sandbox, action server, Rasa, notifier; `--redis` puts the tracker,
lock stores and channel state on Redis). Citizens' REST conversations watch 陈晓's rent subsidy application,
subscribed through the sandbox's API as the assistant does when a transaction completes. Then, timed from just
before the back end's state change (the development route that confirms a payout) to the moment the notification
is in the conversation's REST outbox (polled every 10 ms):

- one at a time: one conversation, `--events` payouts in a row;
- bursts: `--burst` conversations watching, each payout tells all of them at once; until `--events` notifications.

Printed: p50, p95 and max per mode, and notifications lost or duplicated (both must be 0). The path measured:
sandbox commit → dispatcher (woken by the commit) → signed POST → notifier (stored once) → worker → Rasa
trigger_intent → action server → REST output channel → outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from bench.run import percentile
from bot.sealing import seal
from tests.conftest import UNLIMITED_SMS
from tests.e2e.stack import Stack

CHEN = ("陈晓", "330106199503140023", "13800000001")
POLL_SECONDS = 0.01
TIMEOUT = 30.0


def verified_headers(stack: Stack, chat_user: str) -> dict[str, str]:
    name, id_number, phone = CHEN
    sent = httpx.post(f"{stack.services_url}/api/v1/identity/sms-codes",
                      json={"name": name, "id_number": id_number, "phone": phone, "chat_user": chat_user}).json()
    token = httpx.post(f"{stack.services_url}/api/v1/identity/verifications",
                       json={"verification_id": sent["verification_id"], "code": stack.sms_code(phone)}).json()
    return {"Authorization": f"Bearer {token['token']}", "X-Chat-User": chat_user}


def application(stack: Stack) -> str:
    headers = verified_headers(stack, "rest:bench-applicant")
    response = httpx.post(f"{stack.services_url}/api/v1/rent-subsidy/applications", json={"commitment": True},
                          headers={**headers, "Idempotency-Key": "bench-application"})
    return response.json()["application_no"]


def watch(stack: Stack, client_id: str, number: str) -> None:
    chat_user = f"rest:{client_id}"
    response = httpx.post(f"{stack.services_url}/api/v1/notifications/subscriptions",
                          headers=verified_headers(stack, chat_user),
                          json={"service": "rent_subsidy", "reference": number, "subscriber": seal(chat_user)})
    response.raise_for_status()


async def arrival(http: httpx.AsyncClient, stack: Stack, client_id: str, started: float) -> tuple[float, int]:
    """Seconds from `started` until the client's outbox holds the notification, and how many it held."""
    deadline = started + TIMEOUT
    while time.perf_counter() < deadline:
        waiting = (await http.get(f"{stack.rasa_url}/webhooks/rest/outbox", params={"sender": client_id})).json()
        told = [m for m in waiting if "【办理进度提醒】" in (m.get("text") or "")]
        if told:
            return time.perf_counter() - started, len(told)
        await asyncio.sleep(POLL_SECONDS)
    return float("nan"), 0


async def round_of(stack: Stack, number: str, clients: list[str]) -> list[tuple[float, int]]:
    async with httpx.AsyncClient(timeout=10) as http:
        started = time.perf_counter()
        paid = await http.post(f"{stack.services_url}/dev/rent-subsidy/applications/{number}/payout")
        paid.raise_for_status()
        found = await asyncio.gather(*(arrival(http, stack, client, started) for client in clients))
        await asyncio.sleep(0.3)  # a duplicate would come right behind
        extra = await asyncio.gather(*(http.get(f"{stack.rasa_url}/webhooks/rest/outbox",
                                                params={"sender": client}) for client in clients))
    return [(seconds, count + len(late.json())) for (seconds, count), late in zip(found, extra, strict=True)]


def report(label: str, results: list[tuple[float, int]]) -> None:
    latencies = [seconds * 1000 for seconds, count in results if count]
    lost = sum(1 for _, count in results if count == 0)
    duplicated = sum(count - 1 for _, count in results if count > 1)
    print(f"{label}: {len(results)} notifications, p50 {statistics.median(latencies):.0f} ms, "
          f"p95 {percentile(latencies, 95):.0f} ms, max {max(latencies):.0f} ms; lost {lost}, duplicated "
          f"{duplicated}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100, help="notifications per mode (at least 100 for a p95)")
    parser.add_argument("--burst", type=int, default=10, help="conversations told at once in the burst mode")
    parser.add_argument("--redis", action="store_true", help="Redis stores and channel state (db 13)")
    options = parser.parse_args()
    extra_env = dict(UNLIMITED_SMS)
    if options.redis:
        extra_env["REDIS_URL"] = "redis://127.0.0.1:6379/13"
    stack = Stack(Path(tempfile.mkdtemp(prefix="govbot-bench-notify-")), extra_env=extra_env)
    try:
        stack.start()
        number = application(stack)
        single = "bench-one"
        watch(stack, single, number)
        asyncio.run(round_of(stack, number, [single]))  # warm up every process on the path
        one_at_a_time = [asyncio.run(round_of(stack, number, [single]))[0] for _ in range(options.events)]
        print(f"\n== Progress notifications: state change -> REST outbox "
              f"({'Redis' if options.redis else 'embedded defaults'}) ==", flush=True)
        report("one at a time", one_at_a_time)

        clients = [f"bench-burst-{n}" for n in range(options.burst)]
        for client in clients:
            watch(stack, client, number)
        bursts: list[tuple[float, int]] = []
        while len(bursts) < options.events:
            bursts += [result for result in asyncio.run(round_of(stack, number, [single, *clients]))[1:]]
        report(f"bursts of {options.burst}", bursts)
    finally:
        stack.stop_all()


if __name__ == "__main__":
    main()
