"""`make cluster`'s plan: the processes it starts and the HAProxy configuration it writes (checked by HAProxy)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cluster import LOCAL_SERVICES, Layout, haproxy_config, members, shared_environment
from bot.settings import ClusterSettings, Settings


def layout(tmp_path: Path, rasa: int, actions: int) -> Layout:
    cluster = ClusterSettings.from_env({}, rasa_replicas=rasa, action_replicas=actions)
    return Layout(cluster, Settings.from_env({}, var_dir=tmp_path), sandbox_port=8001, console_port=8002)


@pytest.mark.parametrize(("rasa", "actions"), [(1, 1), (2, 2), (4, 3)])
def test_haproxy_accepts_the_configuration(tmp_path: Path, rasa: int, actions: int) -> None:
    haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
    config = tmp_path / "haproxy.cfg"
    config.write_text(haproxy_config(layout(tmp_path, rasa, actions)))
    checked = subprocess.run([haproxy, "-c", "-f", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = config.read_text()
    assert text.count("    server rasa-") == rasa and text.count("    server actions-") == actions


def test_every_process_has_a_port_of_its_own_and_the_replicas_use_the_balancer(tmp_path: Path) -> None:
    plan = layout(tmp_path, 3, 2)
    processes = members(plan)
    assert [m.name for m in processes].count("log-consumer") == 1  # one consumer keeps each conversation in order
    ports = [m.ready_url.split(":")[2].split("/")[0] for m in processes if m.ready_url and m.name != "haproxy"]
    assert len(ports) == len(set(ports)) == 3 + 2 + 2 + 1  # replicas, sandbox, console, notifier
    for replica in (m for m in processes if m.name.startswith("rasa-")):
        assert replica.env["ACTION_ENDPOINT_URL"] == f"http://127.0.0.1:{plan.settings.action_port}/webhook"
        assert replica.env["RASA_HOST"] == "127.0.0.1"  # only the balancer is reachable from outside


def test_the_machines_services_are_used_unless_configured() -> None:
    assert shared_environment({}) == LOCAL_SERVICES
    mine = {"REDIS_URL": "redis://cache.internal:6379/2", "RABBITMQ_URL": " "}
    chosen = shared_environment(mine)
    assert chosen["REDIS_URL"] == mine["REDIS_URL"] and chosen["RABBITMQ_URL"] == LOCAL_SERVICES["RABBITMQ_URL"]
