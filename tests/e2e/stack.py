"""Start the real processes (services sandbox, action server, Rasa server, notifier) for end-to-end tests.

Each process is an ordinary entry point, started on its own ports with its own `var/`
directory, so tests never touch a developer's running assistant or data.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check, timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}; see its log in the var directory")
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s")


@dataclass
class Stack:
    var_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    services_port: int = field(default_factory=free_port)
    action_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    notifier_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            TF_CPP_MIN_LOG_LEVEL="2",
            GOVBOT_VAR_DIR=str(self.var_dir),
            SERVICES_PORT=str(self.services_port),
            SERVICES_URL=self.services_url,
            SERVICES_DATABASE_URL=f"sqlite:///{self.var_dir / 'services.db'}",
            ACTION_PORT=str(self.action_port),
            ACTION_ENDPOINT_URL=f"http://127.0.0.1:{self.action_port}/webhook",
            RASA_PORT=str(self.rasa_port),
            DATABASE_URL=f"sqlite:///{self.var_dir / 'conversation_log.db'}",
            # Progress notifications: the sandbox posts to this stack's notifier, which delivers through its Rasa.
            NOTIFIER_PORT=str(self.notifier_port),
            SERVICES_NOTIFY_URL=f"{self.notifier_url}/events",
            RASA_URL=self.rasa_url,
        )
        env.pop("REDIS_URL", None)
        env.update(self.extra_env)
        return env

    @property
    def services_url(self) -> str:
        return f"http://127.0.0.1:{self.services_port}"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def notifier_url(self) -> str:
        return f"http://127.0.0.1:{self.notifier_port}"

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        log = open(self.var_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes[name] = subprocess.Popen(
            args, cwd=ROOT, env={**self.env, **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_services(self) -> None:
        self._spawn("services", [sys.executable, "-m", "services"])
        wait_until(lambda: httpx.get(f"{self.services_url}/health").status_code == 200, 60, "services",
                   self.processes["services"])

    def start_actions(self) -> None:
        self._spawn("actions", [sys.executable, "-m", "bot", "actions"])
        url = f"http://127.0.0.1:{self.action_port}/health"
        wait_until(lambda: httpx.get(url).status_code == 200, 90, "action server", self.processes["actions"])

    def start_rasa(self) -> None:
        self._spawn("rasa", [sys.executable, "-m", "bot", "serve"])
        wait_until(self._rasa_ready, 180, "Rasa server", self.processes["rasa"])

    def start_notifier(self, **env: str) -> None:
        """The notifier (bot/notifier), with `env` changed for this start only (e.g. another WeChat template)."""
        self._spawn("notifier", [sys.executable, "-m", "bot", "notifier"], env)
        wait_until(lambda: httpx.get(f"{self.notifier_url}/health").status_code == 200, 60, "notifier",
                   self.processes["notifier"])

    def _rasa_ready(self) -> bool:
        status = httpx.get(f"{self.rasa_url}/status", headers=self.api_headers)
        return status.status_code == 200 and bool(status.json().get("model_file"))

    @property
    def api_token(self) -> str:
        """The Rasa API token, as `make run` leaves it: from the environment, or generated under var/secrets/."""
        if "RASA_API_TOKEN" in self.env:
            return self.env["RASA_API_TOKEN"]
        path = self.var_dir / "secrets" / "rasa_api_token"
        return path.read_text("ascii").strip() if path.exists() else ""

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_token}"}

    def api(self, method: str, path: str, **kwargs) -> httpx.Response:
        """A call to Rasa's HTTP API with the token (as the console makes them)."""
        return httpx.request(method, f"{self.rasa_url}{path}", headers=self.api_headers, timeout=30, **kwargs)

    def start(self) -> Stack:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.start_services()
        self.start_actions()
        self.start_rasa()
        self.start_notifier()
        return self

    def stop(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    def chat(self, sender: str | None = None) -> Chat:
        return Chat(self, sender or f"test-{uuid.uuid4().hex[:12]}")

    def sms_code(self, phone: str) -> str:
        outbox = httpx.get(f"{self.services_url}/dev/sms-outbox", params={"phone": phone}).json()
        return re.search(r"\d{6}", outbox[0]["text"]).group()


@dataclass
class Chat:
    """One citizen talking to the assistant through Rasa's REST channel."""

    stack: Stack
    sender: str
    last: list[dict] = field(default_factory=list)
    served_by: str | None = None  # the replica that answered, when a load balancer names it (bot/cluster.py)

    def say(self, text: str) -> list[dict]:
        response = httpx.post(
            f"{self.stack.rasa_url}/webhooks/rest/webhook",
            json={"sender": self.sender, "message": text},
            timeout=30,
        )
        response.raise_for_status()
        self.last = response.json()
        self.served_by = response.headers.get("x-served-by")
        return self.last

    @property
    def text(self) -> str:
        """All reply texts of the last turn, joined."""
        return "\n".join(m.get("text", "") for m in self.last if m.get("text"))

    @property
    def buttons(self) -> list[dict]:
        return [b for m in self.last for b in m.get("buttons") or []]

    def trigger(self, intent: str, entities: dict[str, str]) -> list[dict]:
        """An intent with entities, as a button of an earlier answer would send it (a typed payload is not trusted),
        through Rasa's authenticated API."""
        response = self.stack.api("POST", f"/conversations/{self.conversation_id}/trigger_intent",
                                  json={"name": intent, "entities": entities})
        response.raise_for_status()
        self.last = response.json()["messages"]
        return self.last

    def outbox(self) -> list[dict]:
        """Messages delivered outside a turn (an operator's reply, a notification), as the REST client fetches them."""
        response = httpx.get(f"{self.stack.rasa_url}/webhooks/rest/outbox", params={"sender": self.sender}, timeout=10)
        response.raise_for_status()
        return response.json()

    def click(self, title_part: str) -> list[dict]:
        button = next(b for b in self.buttons if title_part in b["title"])
        return self.say(button["payload"])

    @property
    def conversation_id(self) -> str:
        """The REST channel keeps its clients in their own namespace (integrations/channels/senders.py)."""
        return f"rest:{self.sender}"

    def tracker(self) -> dict:
        return self.stack.api("GET", f"/conversations/{self.conversation_id}/tracker").json()

    def slot(self, name: str):
        return self.tracker()["slots"].get(name)


def verify(chat: Chat, stack: Stack, person: tuple[str, str, str]) -> None:
    """Answer the identity questions: name, ID number, mobile, then the SMS code from the sandbox's outbox."""
    name, id_number, phone = person
    chat.say(name)
    assert "身份证" in chat.text, chat.text
    chat.say(id_number)
    assert "手机号码" in chat.text, chat.text
    chat.say(phone)
    assert "验证码已发送" in chat.text, chat.text
    chat.say(stack.sms_code(phone))
    assert "身份验证成功" in chat.text, chat.text

