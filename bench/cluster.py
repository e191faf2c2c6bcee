"""Benchmark of `make cluster`: the figures of the scale-out issue, printed (not asserted).

    python -m bench.cluster [--duration 20]

For 1 and for 2 Rasa replicas behind HAProxy (2 action servers, the log consumer, on the local Redis, RabbitMQ and
PostgreSQL), through the balancer's REST channel:
- time from start to ready of each Rasa replica (they start together, sharing the machine's cores);
- turn latency p50/p95 at 20 users each sending one turn per second, and the maximum turns/s (closed loop);
- CPU ms per turn of each Rasa replica, and its memory (RSS) after the load;
- events lost or duplicated between the tracker store (Redis) and the conversation log (PostgreSQL, through
  RabbitMQ and the log consumer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from pathlib import Path

import redis
import sqlalchemy as sa

from bench.run import closed_loop, cpu_seconds, paced_users, percentile, rss_mb
from bot.cluster import answers
from bot.masking import hash_sender_id
from tests.cluster.conftest import RABBITMQ_URL, Cluster
from tests.postgres import postgres_database

REDIS_URL = "redis://127.0.0.1:6379/12"


def start(cluster: Cluster) -> dict[str, float]:
    """Start the cluster; seconds from start until each Rasa replica answered."""
    started = time.monotonic()
    cluster.spawn()
    ready: dict[str, float] = {}
    while not cluster.ready():
        for number in range(1, cluster.replicas + 1):
            name = f"rasa-{number}"
            if name not in ready and answers(f"{cluster.replica_url(number)}/webhooks/webchat/"):
                ready[name] = time.monotonic() - started
        if time.monotonic() - started > 600 or cluster.processes["cluster"].poll() is not None:
            raise SystemExit(f"the cluster did not start; see {cluster.var_dir / 'cluster.log'}")
        time.sleep(0.2)
    return ready


def expected_events() -> dict[str, int]:
    """Events per (hashed) conversation in the Redis tracker store."""
    client = redis.Redis.from_url(REDIS_URL)
    counts = {}
    for key in client.scan_iter("govbot:tracker:*"):
        sender = key.decode().removeprefix("govbot:tracker:")
        counts[hash_sender_id(sender)] = len(json.loads(client.get(key))["events"])
    return counts


def stored_events(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, count(*) FROM conversation_events GROUP BY sender_id")
            ).all()
    finally:
        engine.dispose()
    return {sender: count for sender, count in rows}


def compare_log(database_url: str, patience: float = 30) -> tuple[int, int, int]:
    """(events in the trackers, lost, duplicated) once the log consumer has caught up (or stopped moving)."""
    expected = expected_events()
    total, last, still = sum(expected.values()), -1, time.monotonic()
    while True:
        stored = stored_events(database_url)
        if sum(stored.values()) >= total or time.monotonic() - still > patience:
            break
        if sum(stored.values()) != last:
            last, still = sum(stored.values()), time.monotonic()
        time.sleep(0.5)
    lost = sum(max(0, n - stored.get(sender, 0)) for sender, n in expected.items())
    duplicated = sum(max(0, n - expected.get(sender, 0)) for sender, n in stored.items())
    return total, lost, duplicated


def run(replicas: int, duration: float) -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()
    suffix = uuid.uuid4().hex[:8]
    with postgres_database("govbot_bench") as database_url:
        env = {
            "REDIS_URL": REDIS_URL,
            "DATABASE_URL": database_url,
            "RABBITMQ_URL": RABBITMQ_URL,
            "RABBITMQ_QUEUE": f"govbot_bench_{suffix}",
            "RABBITMQ_EXCHANGE": f"govbot-bench-{suffix}",
            "CHANNEL_RATE_LIMIT": "100000/60",
        }
        cluster = Cluster(Path(tempfile.mkdtemp(prefix="govbot-cluster-bench-")), extra_env=env, replicas=replicas)
        try:
            ready = start(cluster)
            print(f"\n== {replicas} Rasa replica(s) behind HAProxy ==", flush=True)
            print("time from start to ready: " + ", ".join(f"{n} {s:.1f} s" for n, s in sorted(ready.items())))
            measure(cluster, duration)
            total, lost, duplicated = compare_log(database_url)
            print(f"conversation log: {total} events in the trackers, {lost} lost, {duplicated} duplicated",
                  flush=True)
        finally:
            cluster.stop_all()
            redis.Redis.from_url(REDIS_URL).flushdb()


def measure(cluster: Cluster, duration: float) -> None:
    url = f"{cluster.rasa_url}/webhooks/rest/webhook"
    asyncio.run(closed_loop(url, 4, 5))  # warm up caches and connections
    latencies = asyncio.run(paced_users(url, 20, duration))
    print(f"20 users x 1 turn/s for {duration:.0f} s: {len(latencies)} turns, "
          f"p50 {percentile(latencies, 50) * 1000:.0f} ms, p95 {percentile(latencies, 95) * 1000:.0f} ms", flush=True)
    replicas = {name: pid for name, pid in cluster.pids().items() if name.startswith("rasa-")}
    best = 0.0
    for concurrency in (10, 20, 40):
        before = {name: cpu_seconds(pid) for name, pid in replicas.items()}
        rate, lat = asyncio.run(closed_loop(url, concurrency, duration / 2))
        best = max(best, rate)
        # Round robin: each replica took about len(lat) / replicas of the turns.
        cpu = {name: (cpu_seconds(pid) - before[name]) / (len(lat) / len(replicas)) for name, pid in replicas.items()}
        print(f"closed loop, {concurrency:>2} users: {rate:.1f} turns/s, p95 {percentile(lat, 95) * 1000:.0f} ms, "
              "CPU per turn " + ", ".join(f"{n} {c * 1000:.1f} ms" for n, c in sorted(cpu.items())), flush=True)
    print(f"maximum turns/s through the balancer: {best:.1f}")
    print("memory (RSS) after the load: " + ", ".join(f"{n} {rss_mb(p):.0f} MB" for n, p in sorted(replicas.items())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per load phase")
    parser.add_argument("--replicas", type=int, nargs="*", default=[1, 2], help="Rasa replica counts to measure")
    options = parser.parse_args()
    for replicas in options.replicas:
        run(replicas, options.duration)


if __name__ == "__main__":
    main()
