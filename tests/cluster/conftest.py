"""One cluster for the replica tests: `python -m bot cluster` itself (2 Rasa servers, 2 action servers, the log
consumer, the sandbox, the console and HAProxy), on the local Redis, RabbitMQ and PostgreSQL, in its own Redis
database, RabbitMQ queue and exchange, PostgreSQL database, ports and var directory.

The conversation log's PostgreSQL is reached through a proxy the tests can cut (the machine's server keeps running
for everything else), as a network outage or a database restart looks to the cluster.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
import redis
import sqlalchemy as sa

from bot.masking import hash_sender_id
from tests.conftest import UNLIMITED_SMS
from tests.e2e.stack import ROOT, Stack, free_port, wait_until
from tests.postgres import postgres_or_skip

pytestmark = pytest.mark.e2e

REDIS_URL = "redis://127.0.0.1:6379/10"
RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/"
READY_LINE = "集群已就绪"


def free_port_run(count: int) -> int:
    """A port p such that p .. p+count-1 are all free (the replicas listen just above the base port)."""
    while True:
        base = free_port()
        if base + count < 65536 and all(_free(base + i) for i in range(count)):
            return base


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


class TcpProxy:
    """127.0.0.1:<port> -> 127.0.0.1:<target>; `cut()` refuses new connections and drops open ones until `restore()`."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self._open: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        assert self._listener is not None
        self._listener.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


@dataclass
class Cluster(Stack):
    """A Stack whose Rasa URL is the load balancer; the replicas listen on rasa_port+1, rasa_port+2."""

    replicas: int = 2
    cluster_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=lambda: free_port_run(3))
    action_port: int = field(default_factory=lambda: free_port_run(3))
    console_port: int = field(default_factory=free_port)
    log_database_url: str = ""  # the conversation log's database, directly (not through the proxy the tests cut)

    @property
    def env(self) -> dict[str, str]:
        env = super().env
        env.pop("ACTION_ENDPOINT_URL")  # the cluster points the replicas at its balanced action servers
        env.update(CLUSTER_PORT=str(self.cluster_port), CONSOLE_PORT=str(self.console_port),
                   CLUSTER_RASA_REPLICAS=str(self.replicas), CLUSTER_ACTION_REPLICAS="2")
        return env

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.cluster_port}"

    def replica_url(self, number: int) -> str:
        return f"http://127.0.0.1:{self.rasa_port + number}"

    def spawn(self) -> None:
        """`python -m bot cluster` on the model in models/, without waiting for it."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("cluster", [sys.executable, "-m", "bot", "cluster", "--no-train"])

    def start(self) -> Cluster:
        self.spawn()
        wait_until(lambda: READY_LINE in self.output(), 360, "the cluster", self.processes["cluster"])
        return self

    def ready(self) -> bool:
        return (self.var_dir / "cluster.log").exists() and READY_LINE in self.output()

    def output(self) -> str:
        return (self.var_dir / "cluster.log").read_text("utf-8", errors="replace")

    def pids(self) -> dict[str, int]:
        return json.loads((self.var_dir / "cluster" / "pids.json").read_text())

    def kill(self, name: str) -> int:
        """SIGKILL one process of the cluster, as a crash would; its pid."""
        pid = self.pids()[name]
        os.killpg(pid, signal.SIGKILL)
        return pid

    def wait_restarted(self, name: str, old_pid: int, ready_url: str, timeout: float = 240) -> None:
        wait_until(lambda: self.pids()[name] != old_pid and httpx.get(ready_url, timeout=2).status_code == 200,
                   timeout, f"{name} restarted")

    def log_rows(self, conversation_id: str) -> list[dict]:
        engine = sa.create_engine(self.log_database_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    sa.text("SELECT type_name, timestamp, data FROM conversation_events WHERE sender_id = :s "
                            "ORDER BY timestamp, id"), {"s": hash_sender_id(conversation_id)}
                ).mappings().all()
        finally:
            engine.dispose()
        return [dict(row) for row in rows]


@pytest.fixture(scope="package")
def postgres_proxy() -> Iterator[tuple[TcpProxy, str]]:
    with postgres_or_skip("govbot_cluster") as url:
        proxy = TcpProxy(5432).start()
        try:
            yield proxy, url
        finally:
            proxy.cut()


@pytest.fixture(scope="package")
def cluster(tmp_path_factory: pytest.TempPathFactory, postgres_proxy: tuple[TcpProxy, str]) -> Iterator[Cluster]:
    from tests.channels.env import channel_environment

    if not list((ROOT / "models").glob("*.tar.gz")):
        pytest.fail("no trained model in models/: run `make test` (it trains first) or `make train`")
    proxy, database_url = postgres_proxy
    suffix = uuid.uuid4().hex[:8]
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = {
        **channel_environment(REDIS_URL, rate_limit="1000/60"),
        **UNLIMITED_SMS,
        "DATABASE_URL": database_url.replace(":5432/", f":{proxy.port}/"),
        "RABBITMQ_URL": RABBITMQ_URL,
        "RABBITMQ_QUEUE": f"govbot_cluster_test_{suffix}",
        "RABBITMQ_EXCHANGE": f"govbot-cluster-test-{suffix}",
    }
    running = Cluster(tmp_path_factory.mktemp("cluster"), extra_env=env, log_database_url=database_url)
    try:
        yield running.start()
    finally:
        running.stop_all()
        client.flushdb()
        _delete_queue(env["RABBITMQ_QUEUE"], env["RABBITMQ_EXCHANGE"])


def _delete_queue(queue: str, exchange: str) -> None:
    import asyncio

    import aio_pika

    async def delete() -> None:
        connection = await aio_pika.connect(RABBITMQ_URL)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue)
            await channel.exchange_delete(exchange)

    with contextlib.suppress(Exception):  # clean-up only
        asyncio.run(delete())


def wait_for(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.3)
