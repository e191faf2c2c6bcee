"""Benchmark: does one hostile client slow everybody else down? Figures printed, not asserted.

    python -m bench.security [--duration 20] [--attackers 4]

Starts the stack as `make run` does, then measures the turn latency of ordinary citizens (20 users, one turn per
second each, through REST) twice: idle, and while attackers send 100,000-character messages back to back. The
issue's target: the p95 under attack within 2x the idle p95. Also prints how fast the huge messages are refused.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from bench.run import closed_loop, paced_users, percentile
from tests.e2e.stack import Stack

HUGE = "长" * 100_000
HEADERS = {"Content-Type": "application/json"}


async def attack(url: str, attackers: int, stop: asyncio.Event) -> list[float]:
    """Each attacker sends the huge message as soon as the previous one is answered, until `stop`."""
    refusals: list[float] = []

    async def attacker(client: httpx.AsyncClient) -> None:
        # Encoded once: the client's own CPU time must not be what slows the server down on a 2-core machine.
        body = json.dumps({"sender": f"attacker-{uuid.uuid4().hex[:8]}", "message": HUGE}).encode()
        while not stop.is_set():
            started = time.perf_counter()
            with contextlib.suppress(httpx.TransportError):  # the server may close before the upload ends
                await client.post(url, content=body, headers=HEADERS)
            refusals.append(time.perf_counter() - started)

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(attacker(client) for _ in range(attackers)))
    return refusals


async def under_attack(url: str, users: int, duration: float, attackers: int) -> tuple[list[float], list[float]]:
    stop = asyncio.Event()
    attacking = asyncio.create_task(attack(url, attackers, stop))
    await asyncio.sleep(0.5)
    latencies = await paced_users(url, users, duration)
    stop.set()
    return latencies, await attacking


def describe(name: str, latencies: list[float]) -> str:
    return (f"{name}: {len(latencies)} turns, p50 {percentile(latencies, 50) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--attackers", type=int, default=1, help="clients sending huge messages back to back")
    options = parser.parse_args()

    stack = Stack(Path(tempfile.mkdtemp(prefix="govbot-bench-security-")))
    try:
        stack.start()
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        asyncio.run(closed_loop(url, 4, 5))  # warm up
        idle = asyncio.run(paced_users(url, options.users, options.duration))
        attacked, refusals = asyncio.run(under_attack(url, options.users, options.duration, options.attackers))
        print(f"== {options.users} citizens x 1 turn/s, {options.duration:.0f} s per phase ==")
        print(describe("idle", idle))
        print(describe(f"while {options.attackers} attackers send 100,000-character messages", attacked))
        print(describe("the 100,000-character messages (refused)", refusals))
        ratio = percentile(attacked, 95) / percentile(idle, 95)
        print(f"p95 under attack / idle p95: {ratio:.2f} (target: at most 2)")
    finally:
        stack.stop_all()


if __name__ == "__main__":
    main()
