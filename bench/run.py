"""Benchmark: the numbers the core issue asks for, printed (not asserted).

    python -m bench.run [--duration 30] [--with-training]

- NLU on the held-out file: intent macro-F1, entity F1 (scripts/evaluate_nlu.py);
- full training time (only with --with-training: it retrains from scratch, several minutes);
- Rasa server: time from start to ready, memory (RSS) after the load;
- through REST with the whole stack: turn latency p50/p95/p99 at 20 users each sending one
  turn per second, and the maximum sustained turns/s of one Rasa server process (closed loop,
  rising concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from tests.e2e.stack import ROOT, Stack

TURNS_PER_CONVERSATION = 10  # then the simulated citizen starts a new conversation (a new sender id)
# A realistic mix: chit-chat, policy questions, service lookups (these call the sandbox).
MESSAGES = [
    "你好",
    "租房补贴有什么条件",
    "去日本现在要隔离吗",
    "罗湖口岸现在能过关吗",
    "最近杭州有什么招聘会",
    "上海有没有招硕士的岗位",
    "谢谢",
    "你是机器人吗",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        status = Path(f"/proc/{p}/status")
        if status.exists():
            for line in status.read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by one process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sender_for(user: str, turn: int) -> str:
    return f"bench-{user}-{turn // TURNS_PER_CONVERSATION}"


async def one_turn(client: httpx.AsyncClient, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    response = await client.post(url, json={"sender": sender, "message": text})
    response.raise_for_status()
    return time.perf_counter() - started


async def paced_users(url: str, users: int, duration: float) -> list[float]:
    """Each user sends one turn per second (open loop), for `duration` seconds."""
    latencies: list[float] = []

    async def user(index: int, client: httpx.AsyncClient) -> None:
        user_id = uuid.uuid4().hex[:8]
        await asyncio.sleep(index / users)  # spread the users over the second
        end = time.perf_counter() + duration
        turn = 0
        while time.perf_counter() < end:
            tick = time.perf_counter()
            text = MESSAGES[(index + turn) % len(MESSAGES)]
            latencies.append(await one_turn(client, url, sender_for(user_id, turn), text))
            turn += 1
            await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - tick)))

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as client:
        await asyncio.gather(*(user(i, client) for i in range(users)))
    return latencies


async def closed_loop(url: str, concurrency: int, duration: float) -> tuple[float, list[float]]:
    """`concurrency` users sending as fast as answers come back; returns turns/s and latencies."""
    latencies: list[float] = []

    async def user(index: int, client: httpx.AsyncClient) -> None:
        user_id = f"max-{uuid.uuid4().hex[:8]}"
        end = time.perf_counter() + duration
        turn = 0
        while time.perf_counter() < end:
            text = MESSAGES[(index + turn) % len(MESSAGES)]
            latencies.append(await one_turn(client, url, sender_for(user_id, turn), text))
            turn += 1

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as client:
        started = time.perf_counter()
        await asyncio.gather(*(user(i, client) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, latencies


def training_time() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bot", "train", "--force"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=30.0, help="seconds per load phase")
    parser.add_argument("--with-training", action="store_true", help="also time a full training run")
    parser.add_argument("--redis", action="store_true", help="Redis tracker and lock stores (REDIS_URL db 12)")
    options = parser.parse_args()

    if options.with_training:
        print(f"full training time: {training_time():.0f} s", flush=True)

    from scripts.evaluate_nlu import main as evaluate

    print("== NLU on the held-out file ==", flush=True)
    evaluate([])

    extra_env = {"REDIS_URL": "redis://127.0.0.1:6379/12"} if options.redis else {}
    stack = Stack(Path(tempfile.mkdtemp(prefix="govbot-bench-")), extra_env=extra_env)
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    try:
        stack.start_services()
        stack.start_actions()
        started = time.perf_counter()
        stack.start_rasa()
        column = "Redis tracker/lock stores" if options.redis else "embedded defaults (SQLite, in-memory locks)"
        ready = time.perf_counter() - started
        print(f"\n== Rasa server, {column} ==\ntime from start to ready: {ready:.1f} s", flush=True)
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        asyncio.run(closed_loop(url, 4, 5))  # warm up caches and connections

        latencies = asyncio.run(paced_users(url, 20, options.duration))
        print(f"20 users x 1 turn/s for {options.duration:.0f} s: {len(latencies)} turns, "
              f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms, "
              f"p99 {percentile(latencies, 99) * 1000:.0f} ms", flush=True)

        best = 0.0
        rasa_pid = stack.processes["rasa"].pid
        for concurrency in (5, 10, 20, 40):
            cpu_before = cpu_seconds(rasa_pid)
            rate, lat = asyncio.run(closed_loop(url, concurrency, options.duration / 2))
            cpu_per_turn = (cpu_seconds(rasa_pid) - cpu_before) / len(lat)
            best = max(best, rate)
            print(f"closed loop, {concurrency:>2} users: {rate:.1f} turns/s, "
                  f"p95 {percentile(lat, 95) * 1000:.0f} ms, mean {statistics.mean(lat) * 1000:.0f} ms, "
                  f"Rasa server CPU {cpu_per_turn * 1000:.1f} ms/turn", flush=True)
        print(f"maximum sustained throughput of one Rasa server process: {best:.1f} turns/s")
        print(f"Rasa server memory (RSS) after the load: {rss_mb(stack.processes['rasa'].pid):.0f} MB")
    finally:
        stack.stop_all()


if __name__ == "__main__":
    main()
