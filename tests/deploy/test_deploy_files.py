"""Offline checks of the deployment files in deploy/ (docs/deploy.md): no image is built and no cluster is reached.

What is checked: every YAML file parses; each Compose service's build context and Dockerfile exist; every
environment variable given to a process is one the product declares (bot/settings.py, endpoints.yml) or one of
Rasa's or the infrastructure images' own; the production checklist (bot/production.py) passes with the secrets
the files provide once their placeholders are filled in, and fails with the placeholders as shipped; no real
secret value is in any file; the Kubernetes Deployments have probes and resources and point at Services,
Secrets and ConfigMaps that exist; each image's command is one that `python -m bot`, `python -m services` or
`python -m console` offers; the load balancer routes the webhooks to the Rasa replicas and serves the console; the
progress notifier is reached by the sandbox alone, which signs with the same secret, and reaches Rasa's API; the
NetworkPolicies let each pod be reached by exactly the pods that call it.
`docker compose config` and `haproxy -c` run when their programs are installed (skipped otherwise).
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKER = DEPLOY / "docker"
COMPOSE_DIR = DEPLOY / "compose"
COMPOSE_FILE = COMPOSE_DIR / "docker-compose.yml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"
HAPROXY_CFG = COMPOSE_DIR / "haproxy.cfg"
K8S = DEPLOY / "k8s"

PLACEHOLDER = "CHANGE_ME"
# One image per process type: its command, and the port of its HTTP endpoint (None: no port).
PROCESSES = {
    "rasa": (["python", "-m", "bot", "serve"], 5005),
    "actions": (["python", "-m", "bot", "actions"], 5055),
    "services": (["python", "-m", "services"], 8001),
    "console": (["python", "-m", "console", "serve"], 8002),
    "log-consumer": (["python", "-m", "bot", "log-consumer"], None),
    "notifier": (["python", "-m", "bot", "notifier"], 8003),
}
# The processes whose start reads the generated NLU assets (config.yml's nlu/generated/, the knowledge base's
# jieba dictionary).
NEEDS_NLU_BUILD = {"rasa", "actions"}
# The processes with a production checklist in bot/production.py (its CHECKS), by the same names as here.
CHECKLIST = ("rasa", "actions", "services", "console", "log-consumer", "notifier")

# Variables that are not bot/settings.py's but are read by a program in the image, with where.
RASA_OWN = {"SANIC_WORKERS": "constants.py", "RASA_TELEMETRY_ENABLED": "telemetry.py"}
RUNTIME = {  # Python, pip and libraries of the image; PYTHONPATH and TF_CPP_MIN_LOG_LEVEL as bot/cli.py sets them
    "PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONPATH", "TF_CPP_MIN_LOG_LEVEL", "MPLCONFIGDIR",
    "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK",
}
# The infrastructure images' own variables (postgres, rabbitmq; redis reads its password on the command line and
# redis-cli reads REDISCLI_AUTH), allowed only on those services.
INFRA_OWN = {
    "POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS",
    "REDIS_PASSWORD", "REDISCLI_AUTH",
}
INFRA_SECRETS = {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD", "RABBITMQ_DEFAULT_PASS", "REDISCLI_AUTH"}
# Variables whose value carries a password (URLs of the managed services).
CREDENTIAL_URLS = {"REDIS_URL", "RABBITMQ_URL", "DATABASE_URL", "SERVICES_DATABASE_URL"}


# ---------------------------------------------------------------------------------------------------- helpers


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in (".yml", ".yaml"))


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text("utf-8"))


def compose_services() -> dict[str, dict[str, Any]]:
    return compose()["services"]


def app_services() -> dict[str, dict[str, Any]]:
    """The services that run one of our images (govbot/<process>)."""
    return {name: s for name, s in compose_services().items() if str(s.get("image", "")).startswith("govbot/")}


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)
    else:
        yield str(value)


def env_example() -> dict[str, str]:
    values = {}
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def k8s_documents() -> list[dict[str, Any]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc and doc["kind"] != "Kustomization"]
    return docs


def k8s_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in k8s_documents() if doc.get("kind") == kind]


def pod_specs() -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in k8s_documents():
        kind, name = doc["kind"], doc["metadata"]["name"]
        if kind in ("Deployment", "Job"):
            yield f"{kind}/{name}", doc["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield f"{kind}/{name}", doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def the_secret() -> dict[str, str]:
    (secret,) = k8s_kind("Secret")
    return secret["stringData"]


def the_configmap() -> dict[str, str]:
    (configmap,) = k8s_kind("ConfigMap")
    return configmap["data"]


def dockerfile(process: str) -> str:
    return (DOCKER / f"{process}.Dockerfile").read_text("utf-8")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in joined.splitlines() if line.strip()]


def final_stage(text: str) -> list[tuple[str, str]]:
    parsed = instructions(text)
    last_from = max(i for i, (name, _) in enumerate(parsed) if name == "FROM")
    return parsed[last_from:]


def dockerfile_env(text: str) -> dict[str, str]:
    values = {}
    for name, arguments in instructions(text):
        if name == "ENV":
            values.update(dict(re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", arguments)))
    return values


def declared_settings() -> set[str]:
    """Every variable bot/settings.py declares: `setting("NAME", ...)` and `field(... metadata={"env": ...})`."""
    source = (ROOT / "bot" / "settings.py").read_text("utf-8")
    names = set(re.findall(r'setting\(\s*"([A-Z][A-Z0-9_]*)"', source))
    names |= set(re.findall(r'"env":\s*"([A-Z][A-Z0-9_]*)"', source))
    assert {"GOVBOT_ENV", "REDIS_URL", "PII_HASH_SECRET", "CONSOLE_PORT"} <= names, "settings.py not understood"
    return names


def endpoint_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)\}", (ROOT / "endpoints.yml").read_text("utf-8")))


def known_variables() -> set[str]:
    return declared_settings() | endpoint_variables() | set(RASA_OWN)


def secret_settings() -> set[str]:
    """The variables bot/settings.py marks secret=True."""
    from bot.settings import GROUPS

    return {item.metadata["env"] for group in GROUPS for item in group.variables() if item.metadata.get("secret")}


def filled(values: dict[str, str]) -> dict[str, str]:
    """The values with every placeholder replaced by a fresh random secret, as a deployer does."""
    return {key: value.replace(PLACEHOLDER, secrets.token_urlsafe(36)) for key, value in values.items()}


_INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?::?([-?])([^}]*))?\}")


def interpolate(value: Any, env_file: dict[str, str]) -> str:
    """Compose's ${NAME}, ${NAME:-default} and ${NAME:?error} with the env file."""

    def one(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if env_file.get(name):
            return env_file[name]
        if kind == "?":
            raise AssertionError(f"{name} is required by the compose file but empty in .env.example")
        return rest if kind == "-" else ""

    return _INTERPOLATION.sub(one, str(value))


def compose_environment(service: str, env_file: dict[str, str]) -> dict[str, str]:
    environment = compose_services()[service].get("environment") or {}
    assert isinstance(environment, dict), f"{service}: environment as a mapping, please"
    return {key: interpolate(value, env_file) for key, value in environment.items()}


def container_environment(container: dict[str, Any], secret: dict[str, str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            values.update(the_configmap())
        if "secretRef" in source:
            values.update(secret)
    for item in container.get("env", []):
        if "value" in item:
            values[item["name"]] = str(item["value"])
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            values[item["name"]] = secret[ref["key"]]
    return values


@pytest.fixture
def process_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """Run the production checklist as a process started with exactly `environment` would."""
    import bot.settings

    monkeypatch.setattr(bot.settings, "load_dotenv", lambda *args, **kwargs: None)  # a developer's .env stays out

    def use(environment: dict[str, str]) -> None:
        for key in list(os.environ):
            monkeypatch.delenv(key)
        for key, value in environment.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("GOVBOT_VAR_DIR", str(tmp_path / "var"))

    return use


def cli_commands() -> set[str]:
    """The commands `python -m bot` offers, from its own argument parser."""
    from bot.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        main(["--help"])
    match = re.search(r"\{([a-z,-]+)\}", out.getvalue())
    assert match, out.getvalue()
    return set(match[1].split(","))


def check_command(command: list[str]) -> None:
    assert command[:2] == ["python", "-m"], command
    module, rest = command[2], command[3:]
    if module == "bot":
        assert rest and rest[0] in cli_commands(), f"`python -m bot {' '.join(rest)}` is not a command of bot/cli.py"
    elif module == "services":
        assert rest == [], command
        assert "def main" in (ROOT / "services" / "__main__.py").read_text("utf-8")
    elif module == "console":
        from console.__main__ import COMMANDS

        assert rest and rest[0] in COMMANDS, f"`python -m console {' '.join(rest)}` is not a console command"
    else:
        raise AssertionError(f"unknown entry point {command}")


# ---------------------------------------------------------------------------------------------------- YAML


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_file_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text("utf-8")) if doc is not None]
    assert documents and all(isinstance(doc, dict) for doc in documents)


def test_the_expected_files_exist() -> None:
    for process in PROCESSES:
        assert (DOCKER / f"{process}.Dockerfile").is_file()
        assert (DOCKER / f"{process}.Dockerfile.dockerignore").is_file()
    for path in (COMPOSE_FILE, ENV_EXAMPLE, HAPROXY_CFG, ROOT / "docs" / "deploy.md"):
        assert path.is_file(), path
    kinds = {doc["kind"] for doc in k8s_documents()}
    assert {"Deployment", "Service", "Ingress", "Secret", "ConfigMap", "PodDisruptionBudget", "Job"} <= kinds


# ---------------------------------------------------------------------------------------------------- Dockerfiles


@pytest.mark.parametrize("process", PROCESSES)
def test_dockerfile(process: str) -> None:
    text = dockerfile(process)
    parsed = instructions(text)
    command, port = PROCESSES[process]
    assert all(args.split()[0] == "python:3.10-slim" for name, args in parsed if name == "FROM")
    assert re.search(r"pip install --no-deps -r \S*requirements\.lock", text), "install as scripts/setup.sh does"
    final = final_stage(text)
    users = [args.strip() for name, args in final if name == "USER"]
    assert users and users[-1] not in ("root", "0"), "the process must not run as root"
    assert f"useradd --system --uid 10001 --gid app --home-dir /home/app --create-home {users[-1]}" in text
    (cmd,) = [json.loads(args) for name, args in final if name == "CMD"]
    assert cmd == command
    check_command(cmd)
    exposed = [int(args) for name, args in final if name == "EXPOSE"]
    healthchecks = [args for name, args in final if name == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    if port is None:
        assert exposed == [] and healthchecks == ["NONE"]
    else:
        assert exposed == [port]
        probe = json.loads(healthchecks[0].split("CMD", 1)[1])
        assert probe[:2] == ["python", "/app/deploy/docker/healthcheck.py"]
        assert probe[2].startswith(f"http://127.0.0.1:{port}/")
    assert ("python -m nlu.build" in text) == (process in NEEDS_NLU_BUILD)


def test_dockerfile_ports_are_the_settings_defaults_and_hosts_are_opened() -> None:
    from bot.settings import ConsoleSettings, NotifierSettings, SandboxSettings, Settings

    defaults = {item.metadata["env"]: item.default
                for group in (Settings, SandboxSettings, ConsoleSettings, NotifierSettings)
                for item in group.variables()}
    for process, variable in (("rasa", "RASA"), ("actions", "ACTION"), ("services", "SERVICES"),
                              ("console", "CONSOLE"), ("notifier", "NOTIFIER")):
        env = dockerfile_env(dockerfile(process))
        assert int(env[f"{variable}_PORT"]) == defaults[f"{variable}_PORT"] == PROCESSES[process][1]
        assert env[f"{variable}_HOST"] == "0.0.0.0", "loopback is the default: a container must listen outside"


def test_dockerfile_environment_is_known() -> None:
    for process in PROCESSES:
        unknown = set(dockerfile_env(dockerfile(process))) - known_variables() - RUNTIME
        assert not unknown, f"{process}.Dockerfile sets variables no program reads: {sorted(unknown)}"


def test_rasa_variables_are_read_by_rasa() -> None:
    spec = importlib.util.find_spec("rasa")
    assert spec and spec.origin
    for name, module in RASA_OWN.items():
        assert name in (Path(spec.origin).parent / module).read_text("utf-8"), f"Rasa no longer reads {name}"


@pytest.mark.parametrize("process", PROCESSES)
def test_dockerignore_keeps_local_state_out(process: str) -> None:
    patterns = {line.strip() for line in (DOCKER / f"{process}.Dockerfile.dockerignore").read_text("utf-8")
                .splitlines() if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "var", ".env", "nlu/generated"} <= patterns
    assert "!deploy/docker/healthcheck.py" in patterns  # the health check script is in every image
    # The trained model: baked into the Rasa image (or mounted at /app/models), in no other image.
    assert ("models" in patterns) == (process != "rasa")
    if process == "rasa":
        assert "/app/models" in dockerfile("rasa")


def test_healthcheck_script_answers_with_its_exit_status() -> None:
    spec = importlib.util.spec_from_file_location("govbot_healthcheck", DOCKER / "healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    main = module.main
    assert main(["http://127.0.0.1:9/status", "--timeout", "0.5"]) == 1
    assert main(["http://127.0.0.1:9/status", "--token-env", "GOVBOT_UNSET_TOKEN_FOR_TEST"]) == 1


# ---------------------------------------------------------------------------------------------------- Compose


def test_compose_runs_every_process_with_its_replicas() -> None:
    services = compose_services()
    assert {"rasa", "actions", "log-consumer", "notifier", "services", "console", "redis", "rabbitmq", "postgres",
            "lb", "migrate"} <= set(services)
    assert services["rasa"]["deploy"]["replicas"] == 2
    assert services["actions"]["deploy"]["replicas"] == 2
    assert services["log-consumer"].get("deploy", {}).get("replicas", 1) == 1  # one consumer keeps the order
    assert "8080:8080" in services["lb"]["ports"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"lb"}, "only the balancer has host ports: the notifier's webhook is for the sandbox alone"
    for name, service in app_services().items():
        process = service["image"].split("/")[1].split(":")[0]
        expected = PROCESSES[process][0]
        assert service.get("command", expected) == expected or name == "migrate"
        check_command(service.get("command", expected))
    assert services["migrate"]["command"] == ["python", "-m", "bot", "migrate"]


def test_compose_build_contexts_and_images_exist() -> None:
    for name, service in compose_services().items():
        image = service["image"]
        if "build" in service:
            context = (COMPOSE_DIR / service["build"]["context"]).resolve()
            assert context == ROOT, f"{name}: build from the repository root"
            dockerfile_path = context / service["build"]["dockerfile"]
            assert dockerfile_path.is_file(), f"{name}: {dockerfile_path} is missing"
            assert image.startswith(f"govbot/{dockerfile_path.name.removesuffix('.Dockerfile')}:")
        else:
            assert not image.startswith("govbot/"), f"{name}: our images are built, never pulled"
            assert re.fullmatch(r"[a-z0-9./-]+:[0-9][\w.-]*", image), f"{name}: pin the image's version ({image})"


def test_compose_depends_on_conditions() -> None:
    services = compose_services()
    healthy = {name for name, s in services.items() if "healthcheck" in s}
    for name, service in app_services().items():
        process = service["image"].split("/")[1].split(":")[0]
        if name != "migrate" and "HEALTHCHECK NONE" not in dockerfile(process):
            healthy.add(name)
    for name, service in services.items():
        depends = service.get("depends_on", {})
        assert isinstance(depends, dict), f"{name}: depends_on with conditions"
        for other, rule in depends.items():
            assert other in services, f"{name} depends on unknown {other}"
            condition = rule["condition"]
            if condition == "service_healthy":
                assert other in healthy, f"{name} waits for {other} to be healthy, which has no health check"
            elif condition == "service_completed_successfully":
                assert services[other].get("restart") == "no", f"{other} is a one-off: restart: \"no\""
            else:
                assert condition == "service_started"
    # The log's schema before anything uses it (bot/log_migrations); the action servers keep "退订" there.
    for name in ("console", "log-consumer", "notifier", "actions"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_variables_are_known_and_in_the_env_file() -> None:
    example = env_example()
    interpolated = {match[0] for value in strings(compose()) for match in _INTERPOLATION.findall(value)}
    assert interpolated <= set(example), f"not in .env.example: {sorted(interpolated - set(example))}"
    for name, service in compose_services().items():
        environment = set(service.get("environment") or {})
        allowed = known_variables() if name in app_services() else INFRA_OWN
        assert environment <= allowed, f"{name}: unknown variables {sorted(environment - allowed)}"


def test_compose_gives_every_secret_from_the_env_file() -> None:
    for name, service in compose_services().items():
        for key, value in (service.get("environment") or {}).items():
            if key in secret_settings() | INFRA_SECRETS:
                assert _INTERPOLATION.fullmatch(str(value)), f"{name}: {key} must come from the env file"
            if key in CREDENTIAL_URLS:
                assert "${" in str(value), f"{name}: {key} carries a password: from the env file"


@pytest.mark.parametrize("service", CHECKLIST)
def test_compose_passes_the_production_checklist_once_filled_in(service: str, process_environment: Any) -> None:
    problems = checklist(service)
    process_environment(compose_environment(service, filled(env_example())))
    assert os.environ["GOVBOT_ENV"] == "production"
    assert problems() == []


@pytest.mark.parametrize("service", CHECKLIST)
def test_compose_with_placeholders_refuses_to_start(service: str, process_environment: Any) -> None:
    problems = checklist(service)
    process_environment(compose_environment(service, env_example()))
    assert problems(), f"{service} would start with the placeholders of .env.example"


def log_consumer_needs() -> set[str]:
    """What `python -m bot log-consumer` requires: its two URLs, and the keys it hashes and seals sender ids with."""
    return {"RABBITMQ_URL", "DATABASE_URL", "PII_HASH_SECRET", "PII_SEAL_KEY"}


def checklist(process: str) -> Any:
    from bot.production import CHECKS, problems

    assert {"rasa", "actions", "services", "console"} <= set(CHECKS)
    if process not in CHECKS:
        pytest.skip(f"bot/production.py has no checklist for {process}")
    return lambda: problems(process)


def test_log_consumer_gets_what_it_needs_and_shares_the_keys() -> None:
    needs = log_consumer_needs()
    example = filled(env_example())
    consumer = compose_environment("log-consumer", example)
    rasa, console = compose_environment("rasa", example), compose_environment("console", example)
    assert needs <= set(consumer)
    assert consumer["RABBITMQ_URL"] == rasa["RABBITMQ_URL"], "the consumer reads what the Rasa servers publish"
    for key in ("PII_HASH_SECRET", "PII_SEAL_KEY"):  # the same hashed and sealed ids wherever the log is read
        assert consumer[key] == rasa[key] == console[key]
    assert consumer["DATABASE_URL"] == console["DATABASE_URL"]
    # The Rasa servers publish and never wait on the log database (issue 14): no DATABASE_URL, so no fallback to
    # an in-process writer either.
    assert "DATABASE_URL" not in rasa


def notifier_needs() -> set[str]:
    """What `python -m bot notifier` requires (docs/notifications.md): the log's database, Rasa's API and its token,
    the keys that open the sealed subscribers and hash them like the log, the webhook's secret, and Redis, where the
    WeChat access token is shared with the Rasa servers (a token of its own would push theirs out)."""
    return {"DATABASE_URL", "RASA_URL", "RASA_API_TOKEN", "PII_HASH_SECRET", "PII_SEAL_KEY", "NOTIFY_WEBHOOK_SECRET",
            "REDIS_URL", "NOTIFIER_HOST", "NOTIFIER_PORT"}


# What the action servers need for progress notifications (actions/notifications.py): the conversation id sealed
# for the back end, and "退订" kept in the log's database under the hashed id, where the notifier looks.
ACTIONS_FOR_NOTIFICATIONS = ("DATABASE_URL", "PII_HASH_SECRET", "PII_SEAL_KEY")
SAME_OFFICIAL_ACCOUNT = ("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET")


def test_compose_notifier_is_told_by_the_sandbox_and_tells_through_rasa() -> None:
    example = filled(env_example())
    notifier = compose_environment("notifier", example)
    sandbox, console = compose_environment("services", example), compose_environment("console", example)
    rasa, actions = compose_environment("rasa", example), compose_environment("actions", example)
    assert notifier_needs() <= set(notifier)
    assert notifier["NOTIFIER_HOST"] == "0.0.0.0" and int(notifier["NOTIFIER_PORT"]) == PROCESSES["notifier"][1]
    # The sandbox posts to it, signed with the one secret both are given (from the env file, never a literal).
    assert sandbox["SERVICES_NOTIFY_URL"] == f"http://notifier:{notifier['NOTIFIER_PORT']}/events"
    assert sandbox["NOTIFY_WEBHOOK_SECRET"] == notifier["NOTIFY_WEBHOOK_SECRET"]
    assert [name for name in compose_services() if "NOTIFY_WEBHOOK_SECRET" in
            (compose_services()[name].get("environment") or {})] == ["notifier", "services"]
    # It tells the citizens through Rasa's API as the console does, and shares the log with the console.
    assert notifier["RASA_URL"] == console["RASA_URL"] and notifier["RASA_API_TOKEN"] == rasa["RASA_API_TOKEN"]
    assert notifier["DATABASE_URL"] == console["DATABASE_URL"] == actions["DATABASE_URL"]
    for key in ("PII_HASH_SECRET", "PII_SEAL_KEY"):  # sealed by the action server, opened and hashed by the notifier
        assert notifier[key] == actions[key] == rasa[key] == console[key]
    assert notifier["REDIS_URL"] == rasa["REDIS_URL"]
    for key in SAME_OFFICIAL_ACCOUNT:
        assert compose_services()["notifier"]["environment"][key] == compose_services()["rasa"]["environment"][key]
    assert set(ACTIONS_FOR_NOTIFICATIONS) <= set(actions)


def test_docs_checklist_names_what_each_process_refuses_to_start_without(process_environment: Any) -> None:
    """docs/deploy.md's checklist is bot/production.py's: every secret a process asks for is named there."""
    from bot.production import CHECKS, problems

    text = (ROOT / "docs" / "deploy.md").read_text("utf-8")
    section = text[text.index("## 6. The production checklist"):text.index("## 7.")]
    process_environment({"GOVBOT_ENV": "production"})
    assert set(CHECKS) == set(PROCESSES), "every process has a checklist and an image"
    for process in CHECKS:
        missing = {m[1] for problem in problems(process) if (m := re.match(r"([A-Z_]+) is not set", problem))}
        assert missing, process
        command = " ".join(PROCESSES[process][0])
        (paragraph,) = [item for item in section.split("\n- ") if f"`{command}`" in item]
        for name in missing:
            assert f"`{name}`" in paragraph, f"docs/deploy.md: {process} needs {name}"


@pytest.mark.skipif(not shutil.which("docker"), reason="docker CLI not installed")
def test_docker_compose_config() -> None:
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker compose plugin is not installed")
    done = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE_FILE), "--env-file", str(ENV_EXAMPLE), "config", "--quiet"],
        capture_output=True, text=True, cwd=COMPOSE_DIR,
    )
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------------------------------- no secrets


def test_env_example_holds_placeholders_only() -> None:
    example = env_example()
    required = {"PII_HASH_SECRET", "PII_SEAL_KEY", "RASA_API_TOKEN", "ACTION_SERVER_TOKEN", "SERVICES_SECRET_KEY",
                "POSTGRES_PASSWORD", "REDIS_PASSWORD", "RABBITMQ_PASSWORD"}
    assert required <= set(example)
    for key, value in example.items():
        if key in secret_settings() | INFRA_SECRETS:
            assert value in (PLACEHOLDER, ""), f".env.example: {key} must be {PLACEHOLDER} or empty"


def test_kubernetes_secret_holds_placeholders_only() -> None:
    for key, value in the_secret().items():
        assert key in known_variables(), f"the Secret holds an unknown variable {key}"
        assert value == "" or PLACEHOLDER in value, f"secret.yaml: {key} must be a placeholder"
    leaked = (secret_settings() | CREDENTIAL_URLS) & set(the_configmap())
    assert not leaked, f"secrets in the ConfigMap: {sorted(leaked)}"


_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{24,}")


def test_no_secret_looking_value_in_any_deploy_file() -> None:
    for path in [*sorted(p for p in DEPLOY.rglob("*") if p.is_file()), ROOT / "docs" / "deploy.md"]:
        for token in _TOKEN.findall(path.read_text("utf-8")):
            looks_random = re.search(r"[a-z]", token) and re.search(r"[A-Z]", token) and re.search(r"\d", token)
            assert not looks_random, f"{path.relative_to(ROOT)}: {token[:6]}… looks like a real secret"


# ---------------------------------------------------------------------------------------------------- Kubernetes


def deployments() -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in k8s_kind("Deployment")}


def pod_labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def test_kubernetes_runs_every_process() -> None:
    found = deployments()
    assert set(found) == set(PROCESSES)
    assert found["rasa"]["spec"]["replicas"] >= 2 and found["actions"]["spec"]["replicas"] >= 2
    consumer = found["log-consumer"]["spec"]
    assert consumer["replicas"] == 1 and consumer["strategy"]["type"] == "Recreate", "never two consumers at once"
    for name, deployment in found.items():
        assert selects(deployment["spec"]["selector"]["matchLabels"], pod_labels(deployment))
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["image"].rsplit("/", 1)[1].split(":")[0] == name
        assert "command" not in container, "the image's CMD is the process"


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_kubernetes_probes_and_resources(name: str) -> None:
    deployment = deployments()[name]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    resources = container["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"]) and "memory" in resources["limits"]
    ports = {port.get("name"): port["containerPort"] for port in container.get("ports", [])}
    port = PROCESSES[name][1]
    if port is None:  # the log consumer: no port, no Service, nothing to probe over HTTP; it exits on failure
        assert not ports and "readinessProbe" not in container
        assert not [s for s in k8s_kind("Service") if selects(s["spec"]["selector"], pod_labels(deployment))]
        return
    assert list(ports.values()) == [port]
    for probe_name in ("readinessProbe", "livenessProbe"):
        probe = container[probe_name]
        if "httpGet" in probe:
            assert probe["httpGet"]["port"] in ports or probe["httpGet"]["port"] == port
        else:
            command = probe["exec"]["command"]
            assert command[1] == "/app/deploy/docker/healthcheck.py" and f"127.0.0.1:{port}/" in command[2]
            if "--token-env" in command:
                token = command[command.index("--token-env") + 1]
                assert token in container_environment(container, the_secret())


def test_kubernetes_rasa_has_room_for_its_model() -> None:
    (container,) = deployments()["rasa"]["spec"]["template"]["spec"]["containers"]
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert memory_bytes(requests["memory"]) >= 1 << 30, "~1 GB RSS per replica"
    assert memory_bytes(limits["memory"]) >= 1.5 * (1 << 30)
    assert "startupProbe" in container, "loading the model takes ~30 s: liveness must wait"


def memory_bytes(quantity: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi|K|M|G)?", str(quantity))
    assert match, quantity
    units = {None: 1, "Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "K": 1e3, "M": 1e6, "G": 1e9}
    return float(match[1]) * units[match[2]]


def test_kubernetes_references_exist() -> None:
    secret, configmap = the_secret(), the_configmap()
    secret_name = k8s_kind("Secret")[0]["metadata"]["name"]
    configmap_name = k8s_kind("ConfigMap")[0]["metadata"]["name"]
    for where, spec in pod_specs():
        for container in spec["containers"]:
            for source in container.get("envFrom", []):
                assert source.get("configMapRef", {}).get("name", configmap_name) == configmap_name, where
                assert source.get("secretRef", {}).get("name", secret_name) == secret_name, where
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == secret_name and ref["key"] in secret, f"{where}: {ref}"
                    assert ref["key"] == item["name"]
                else:
                    assert item["name"] not in secret_settings(), f"{where}: {item['name']} as a literal"
            environment = set(container_environment(container, secret))
            assert environment <= known_variables(), f"{where}: unknown {sorted(environment - known_variables())}"
            check_command(container.get("command") or PROCESSES[container["name"]][0])
    assert set(configmap) <= known_variables()


def test_kubernetes_services_ingress_and_budget() -> None:
    found = deployments()
    services = {doc["metadata"]["name"]: doc for doc in k8s_kind("Service")}
    for name, service in services.items():
        (target,) = [d for d in found.values() if selects(service["spec"]["selector"], pod_labels(d))]
        (container,) = target["spec"]["template"]["spec"]["containers"]
        names = {port["name"] for port in container["ports"]}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in names and port["port"] == PROCESSES[name][1]
    configmap = the_configmap()
    assert configmap["ACTION_ENDPOINT_URL"] == f"http://actions:{services['actions']['spec']['ports'][0]['port']}/webhook"
    assert configmap["RASA_URL"] == "http://rasa:5005" and configmap["SERVICES_URL"] == "http://services:8001"
    backends = {}
    for ingress in k8s_kind("Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] in services
                assert backend["port"]["number"] in [p["port"] for p in services[backend["name"]]["spec"]["ports"]]
                backends.setdefault(backend["name"], []).append(path["path"])
    assert backends["rasa"] == ["/webhooks/"], "only the webhooks are public; Rasa's API never is"
    assert "console" in backends and set(backends) == {"rasa", "console"}
    (budget,) = k8s_kind("PodDisruptionBudget")
    assert selects(budget["spec"]["selector"]["matchLabels"], pod_labels(found["rasa"]))
    assert budget["spec"]["minAvailable"] >= 1 and budget["spec"]["minAvailable"] < found["rasa"]["spec"]["replicas"]


@pytest.mark.parametrize("deployment", CHECKLIST)
def test_kubernetes_passes_the_production_checklist_once_filled_in(deployment: str, process_environment: Any) -> None:
    problems = checklist(deployment)
    (container,) = deployments()[deployment]["spec"]["template"]["spec"]["containers"]
    process_environment(container_environment(container, filled(the_secret())))
    assert os.environ["GOVBOT_ENV"] == "production"
    assert problems() == []
    process_environment(container_environment(container, the_secret()))
    assert problems(), f"{deployment} would start with the Secret's placeholders"


def test_kubernetes_log_consumer_gets_what_it_needs() -> None:
    (container,) = deployments()["log-consumer"]["spec"]["template"]["spec"]["containers"]
    assert log_consumer_needs() <= set(container_environment(container, the_secret()))
    (rasa,) = deployments()["rasa"]["spec"]["template"]["spec"]["containers"]
    rasa_environment = container_environment(rasa, the_secret())
    assert "RABBITMQ_URL" in rasa_environment and "DATABASE_URL" not in rasa_environment


def test_kubernetes_notifier_is_told_by_the_sandbox_and_tells_through_rasa() -> None:
    secret = filled(the_secret())

    def environment(name: str) -> dict[str, str]:
        (container,) = deployments()[name]["spec"]["template"]["spec"]["containers"]
        return container_environment(container, secret)

    notifier, sandbox, actions = environment("notifier"), environment("services"), environment("actions")
    assert notifier_needs() <= set(notifier)
    assert notifier["NOTIFIER_HOST"] == "0.0.0.0" and int(notifier["NOTIFIER_PORT"]) == PROCESSES["notifier"][1]
    service = {doc["metadata"]["name"]: doc for doc in k8s_kind("Service")}["notifier"]
    assert sandbox["SERVICES_NOTIFY_URL"] == f"http://notifier:{service['spec']['ports'][0]['port']}/events"
    assert sandbox["NOTIFY_WEBHOOK_SECRET"] == notifier["NOTIFY_WEBHOOK_SECRET"]
    assert notifier["RASA_URL"] == environment("console")["RASA_URL"]
    assert set(ACTIONS_FOR_NOTIFICATIONS) <= set(actions)
    assert {key: notifier.get(key) for key in SAME_OFFICIAL_ACCOUNT} == {
        key: environment("rasa").get(key) for key in SAME_OFFICIAL_ACCOUNT}
    # One replica; more are safe (claims with leases), so a rollout may overlap old and new pods.
    deployment = deployments()["notifier"]["spec"]
    assert deployment["replicas"] >= 1 and deployment["strategy"]["type"] == "RollingUpdate"


# Who may open a connection to each process's pods: other processes, or the ingress controller's namespace.
INGRESS_FROM = {
    "rasa": {"ingress-nginx", "console", "notifier"},
    "actions": {"rasa"},
    "services": {"actions"},
    "console": {"ingress-nginx"},
    "notifier": {"services"},  # the back ends' signed webhooks only
    "log-consumer": set(),
}


def test_kubernetes_network_policies_let_in_only_the_callers() -> None:
    policies = k8s_kind("NetworkPolicy")
    assert any(p["spec"]["podSelector"] == {} and "ingress" not in p["spec"] for p in policies), "default deny"
    assert set(INGRESS_FROM) == set(PROCESSES)
    found = deployments()
    for name, deployment in found.items():
        allowed: set[str] = set()
        for policy in policies:
            if not selects(policy["spec"]["podSelector"].get("matchLabels", {}), pod_labels(deployment)):
                continue
            for rule in policy["spec"].get("ingress", []):
                assert [port["port"] for port in rule["ports"]] == [PROCESSES[name][1]], f"{name}: its port only"
                for source in rule["from"]:
                    if "namespaceSelector" in source:
                        allowed.add(source["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"])
                    else:
                        (caller,) = [other for other, d in found.items()
                                     if selects(source["podSelector"]["matchLabels"], pod_labels(d))]
                        allowed.add(caller)
        assert allowed == INGRESS_FROM[name], f"{name} is reachable from {sorted(allowed)}"


def test_kustomization_lists_the_manifests() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text("utf-8"))
    listed = set(kustomization["resources"])
    manifests = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed <= manifests
    assert manifests - listed == {"migrate-job.yaml"}, "the migration runs apart, before each rollout"
    images = {image["name"] for image in kustomization["images"]}
    used = {c["image"].split(":")[0] for _, spec in pod_specs() for c in spec["containers"]}
    assert used <= images


def test_kubernetes_migration_job_runs_before_the_rollout() -> None:
    (job,) = k8s_kind("Job")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "bot", "migrate"]
    assert "DATABASE_URL" in container_environment(container, the_secret())


# ---------------------------------------------------------------------------------------------------- HAProxy


def haproxy_sections() -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {}
    current = ""
    for raw in HAPROXY_CFG.read_text("utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        if not line[0].isspace():
            current = " ".join(line.split())
            sections[current] = []
        else:
            sections[current].append(" ".join(line.split()))
    return sections


def backend_targets(lines: list[str]) -> set[str]:
    return {line.split()[-1] if line.startswith("server ") else line.split()[3]
            for line in lines if line.startswith(("server ", "server-template "))}


def test_haproxy_routes_the_webhooks_to_rasa_and_serves_the_console() -> None:
    sections = haproxy_sections()
    services = compose_services()
    public = sections["frontend public"]
    assert "bind :8080" in public
    assert "acl webhooks path_beg /webhooks/" in public and "use_backend rasa if webhooks" in public
    assert any(line.startswith("http-request deny") and "unless webhooks" in line for line in public)
    assert backend_targets(sections["backend rasa"]) == {f"rasa:{PROCESSES['rasa'][1]}"}
    assert backend_targets(sections["backend console"]) == {f"console:{PROCESSES['console'][1]}"}
    assert backend_targets(sections["backend actions"]) == {f"actions:{PROCESSES['actions'][1]}"}
    assert "bind :8082" in sections["frontend console"] and "127.0.0.1:8082:8082" in services["lb"]["ports"]
    # The Rasa servers reach the action servers, and the console Rasa's API, through the balancer.
    example = filled(env_example())
    frontends = {name.split()[1]: lines for name, lines in sections.items() if name.startswith("frontend ")}
    binds = {name: int(line.split(":")[-1]) for name, lines in frontends.items() for line in lines
             if line.startswith("bind ")}
    assert compose_environment("rasa", example)["ACTION_ENDPOINT_URL"] == f"http://lb:{binds['actions']}/webhook"
    assert compose_environment("console", example)["RASA_URL"] == f"http://lb:{binds['rasa_api']}"
    assert compose_environment("notifier", example)["RASA_URL"] == f"http://lb:{binds['rasa_api']}"
    assert "default_backend actions" in frontends["actions"] and "default_backend rasa" in frontends["rasa_api"]
    # The console believes X-Forwarded-For from the balancer only.
    address = services["lb"]["networks"]["govbot"]["ipv4_address"]
    assert compose_environment("console", example)["CONSOLE_TRUSTED_PROXIES"] == address
    for backend in ("backend rasa", "backend actions", "backend console"):
        assert any(line.startswith("option httpchk") for line in sections[backend]), f"{backend}: health checks"


@pytest.mark.skipif(not shutil.which("haproxy"), reason="haproxy not installed")
def test_haproxy_accepts_its_configuration() -> None:
    done = subprocess.run(["haproxy", "-c", "-f", str(HAPROXY_CFG)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
