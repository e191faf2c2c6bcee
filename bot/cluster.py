"""`make cluster` (`python -m bot cluster`): the scaled-out deployment, on this machine.

CLUSTER_RASA_REPLICAS Rasa servers and CLUSTER_ACTION_REPLICAS action servers behind HAProxy, sharing the Redis tracker
and lock stores; events go through RabbitMQ to one log consumer, which writes the masked conversation log to
PostgreSQL; the sandbox, the console and the notifier as with `make run`. REDIS_URL, RABBITMQ_URL and DATABASE_URL
are taken from the environment, or point at this machine's servers (LOCAL_SERVICES).

    HAProxy  CLUSTER_PORT (8080)  -> Rasa replicas  RASA_PORT+1 ...    every channel and the token-guarded Rasa API
             ACTION_PORT (5055)   -> action servers ACTION_PORT+1 ...  for the Rasa replicas only (loopback)

Replicas hold no conversation state, so the balancer plain round-robins; it names the replica that answered in an
`X-Served-By` header. A process that dies is started again (as an orchestrator would), HAProxy's health checks take a
dead replica out and put it back when ready; Ctrl-C stops everything. The processes' ids are kept in
`<var>/cluster/pids.json` for tests and `python -m bench.cluster`.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx

from bot.production import enforce
from bot.settings import ROOT, ClusterSettings, ConsoleSettings, NotifierSettings, Settings

LOCAL_SERVICES = {
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/govbot",
}
RESTART_PAUSE_MAX = 30.0  # seconds between restarts of a process that keeps dying
STOP_GRACE = 20.0  # seconds a process gets to stop (the Rasa server flushes its events) before it is killed


@dataclass(frozen=True)
class Member:
    """One process of the cluster: `name` (e.g. rasa-1), how to start it, and the URL that answers when it is ready."""

    name: str
    argv: list[str]
    env: Mapping[str, str] = field(default_factory=dict)
    ready_url: str | None = None


@dataclass(frozen=True)
class Layout:
    cluster: ClusterSettings
    settings: Settings
    sandbox_port: int
    console_port: int
    notifier_port: int = 8003

    @property
    def rasa_ports(self) -> list[int]:
        return [self.settings.rasa_port + i for i in range(1, self.cluster.rasa_replicas + 1)]

    @property
    def action_ports(self) -> list[int]:
        return [self.settings.action_port + i for i in range(1, self.cluster.action_replicas + 1)]

    @property
    def balancer_url(self) -> str:
        return f"http://127.0.0.1:{self.cluster.port}"


def shared_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The cluster's services: the environment's, else this machine's."""
    env = dict(base)
    for name, local in LOCAL_SERVICES.items():
        if not env.get(name, "").strip():
            env[name] = local
    return env


def members(layout: Layout, python: str = sys.executable) -> list[Member]:
    host = layout.settings.rasa_host
    balancer_env = {
        "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{layout.settings.action_port}/webhook",
        "RASA_URL": layout.balancer_url,
    }
    processes = [
        Member("services", [python, "-m", "services"], ready_url=f"http://127.0.0.1:{layout.sandbox_port}/health"),
        Member("log-consumer", [python, "-m", "bot", "log-consumer"]),
        Member("console", [python, "-m", "console", "serve"], balancer_env,
               ready_url=f"http://127.0.0.1:{layout.console_port}/login"),
        # One notifier, through the balancer like the console: its claims (bot/notifier/store.py) would let more run.
        Member("notifier", [python, "-m", "bot", "notifier"], balancer_env,
               ready_url=f"http://127.0.0.1:{layout.notifier_port}/health"),
    ]
    for number, port in enumerate(layout.action_ports, 1):
        processes.append(Member(f"actions-{number}", [python, "-m", "bot", "actions"], {"ACTION_PORT": str(port)},
                                ready_url=f"http://127.0.0.1:{port}/health"))
    for number, port in enumerate(layout.rasa_ports, 1):
        processes.append(Member(f"rasa-{number}", [python, "-m", "bot", "serve"],
                                {**balancer_env, "RASA_PORT": str(port), "RASA_HOST": "127.0.0.1"},
                                ready_url=f"http://127.0.0.1:{port}/webhooks/webchat/"))
    processes.append(Member("haproxy", [haproxy_binary(), "-db", "-f", str(config_path(layout.settings))],
                            ready_url=f"http://{host}:{layout.cluster.port}/webhooks/webchat/"))
    return processes


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)
    if not found:
        raise SystemExit("没有找到 HAProxy。请先安装：sudo apt-get install -y haproxy\n"
                         "HAProxy was not found: install Debian's package (make cluster does it when run as root).")
    return found


def config_path(settings: Settings) -> Path:
    return settings.var_dir / "cluster" / "haproxy.cfg"


def haproxy_config(layout: Layout) -> str:
    """Round robin without stickiness. A request that cannot reach a replica (killed, restarting), or that a replica
    closed without a word (it died with the request in its queue), is sent to another one; health checks every second
    take a dead replica out within about two. Sending again is safe: each conversation's turns wait for its lock, a
    WeChat or Telegram message is claimed once by its id, and the back ends' transactions carry idempotency keys."""
    rasa = "\n".join(f"    server rasa-{n} 127.0.0.1:{port} check" for n, port in enumerate(layout.rasa_ports, 1))
    actions = "\n".join(
        f"    server actions-{n} 127.0.0.1:{port} check" for n, port in enumerate(layout.action_ports, 1)
    )
    return f"""# Written by `python -m bot cluster` (bot/cluster.py); changes are overwritten at the next start.
global
    maxconn 4000  # file descriptors: about twice this; a default shell allows 20,000

defaults
    mode http
    option forwardfor
    retries 3
    retry-on conn-failure empty-response junk-response
    option http-buffer-request
    option redispatch 1
    timeout connect 2s
    timeout client 65s
    timeout server 65s
    timeout http-request 10s
    default-server inter 1s fall 2 rise 2

frontend public
    bind {layout.settings.rasa_host}:{layout.cluster.port}
    default_backend rasa

frontend actions
    bind 127.0.0.1:{layout.settings.action_port}
    default_backend actions

backend rasa
    balance roundrobin
    option httpchk GET /webhooks/webchat/
    http-response set-header X-Served-By %[srv_name]
{rasa}

backend actions
    balance roundrobin
    option httpchk GET /health
{actions}
"""


class Supervisor:
    """Start every member, prefix its output with its name, start again what dies, stop all on SIGINT/SIGTERM."""

    def __init__(self, members: list[Member], env: Mapping[str, str], pid_file: Path) -> None:
        self.members = members
        self.env = env
        self.pid_file = pid_file
        self.processes: dict[str, subprocess.Popen] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self, member: Member) -> None:
        process = subprocess.Popen(
            member.argv, cwd=ROOT, env={**self.env, **member.env}, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True,
        )
        with self._lock:
            self.processes[member.name] = process
            self.pid_file.write_text(json.dumps({n: p.pid for n, p in self.processes.items()}, indent=1))
        threading.Thread(target=self._relay, args=(member.name, process), daemon=True).start()

    def _relay(self, name: str, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, b""):
            sys.stdout.write(f"{name:>13} | {line.decode('utf-8', 'replace')}")
            sys.stdout.flush()

    def watch(self) -> None:
        """Until stopped: a member that exited is started again, after a pause that grows while it keeps dying."""
        pauses = {member.name: 1.0 for member in self.members}
        while not self.stopping.wait(0.5):
            for member in self.members:
                process = self.processes[member.name]
                if process.poll() is None:
                    continue
                say(f"{member.name} exited with {process.returncode}; starting it again in {pauses[member.name]:.0f} s")
                if self.stopping.wait(pauses[member.name]):
                    return
                pauses[member.name] = min(pauses[member.name] * 2, RESTART_PAUSE_MAX)
                self.start(member)

    def stop_all(self) -> None:
        self.stopping.set()
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in self.processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.pid_file.unlink(missing_ok=True)


def say(text: str) -> None:
    print(f"{'cluster':>13} | {text}", flush=True)


def wait_ready(members: list[Member], supervisor: Supervisor, started: float) -> None:
    """Say when every member answers (the Rasa replicas load their model for a while)."""
    waiting = [m for m in members if m.ready_url]
    while waiting and not supervisor.stopping.is_set():
        waiting = [m for m in waiting if not answers(m.ready_url)]
        time.sleep(1)
    if not supervisor.stopping.is_set():
        say(f"集群已就绪 / ready after {time.monotonic() - started:.0f} s")


def answers(url: str | None) -> bool:
    """The URL answers, with anything but a server error (a replica still loading refuses connections)."""
    try:
        return url is not None and httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


def banner(layout: Layout, env: Mapping[str, str]) -> str:
    rasa = ", ".join(f"127.0.0.1:{p}" for p in layout.rasa_ports)
    actions = ", ".join(f"127.0.0.1:{p}" for p in layout.action_ports)
    url = f"http://{layout.settings.rasa_host}:{layout.cluster.port}"
    return (
        "\n政务服务助手 cluster is starting (HAProxy in front of every replica):\n"
        f"  web chat         {url}/webhooks/webchat/   <- open this in a browser\n"
        f"  REST channel     {url}/webhooks/rest/webhook\n"
        f"  WeChat webhook   {url}/webhooks/wechat/   (WECHAT_* settings)\n"
        f"  Telegram webhook {url}/webhooks/telegram/webhook   (TELEGRAM_* settings)\n"
        f"  Rasa HTTP API    {url}   (header Authorization: Bearer <token>, as with make run)\n"
        f"  Rasa replicas    {rasa}\n"
        f"  action servers   {actions}, balanced on 127.0.0.1:{layout.settings.action_port}\n"
        f"  services sandbox http://127.0.0.1:{layout.sandbox_port}/docs\n"
        f"  operator console http://127.0.0.1:{layout.console_port}/   "
        "(first: python -m console create-user NAME --role admin)\n"
        f"  notifier         http://127.0.0.1:{layout.notifier_port}/health   (progress notifications)\n"
        f"  storage          Redis {_without_password(env['REDIS_URL'])}, RabbitMQ "
        f"{_without_password(env['RABBITMQ_URL'])}, log {_without_password(env['DATABASE_URL'])}\n"
        "Press Ctrl-C to stop everything.\n"
    )


def _without_password(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password is None:
        return url
    return urlunparse(parsed._replace(netloc=parsed.netloc.replace(f":{parsed.password}@", ":***@")))


def run(train: bool = True) -> None:
    """`python -m bot cluster [--no-train]`."""
    from bot import cli

    os.environ.update(shared_environment(os.environ))
    settings = enforce("rasa")
    layout = Layout(ClusterSettings.from_env(), settings, cli.sandbox_port(), ConsoleSettings.from_env().port,
                    NotifierSettings.from_env().port)
    cli.migrate(settings)  # creates the PostgreSQL database on first start
    if train:
        cli.train()
    config_path(settings).parent.mkdir(parents=True, exist_ok=True)
    config_path(settings).write_text(haproxy_config(layout), "utf-8")
    env = cli.environment(settings)
    cluster = members(layout)
    print(banner(layout, env), flush=True)
    supervisor = Supervisor(cluster, env, settings.var_dir / "cluster" / "pids.json")
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: supervisor.stopping.set())
    started = time.monotonic()
    for member in cluster:
        supervisor.start(member)
    threading.Thread(target=wait_ready, args=(cluster, supervisor, started), daemon=True).start()
    try:
        supervisor.watch()
    finally:
        say("stopping every process")
        supervisor.stop_all()

