"""Benchmark: a Rasa server replica's start-up time and memory, and where they go (the scale-out issue).

    python -m bench.startup [--runs 2] [--variant NAME:VAR=VALUE,...|-FIX,...] [--load-seconds 10]
                            [--profile] [--py-spy /tmp/pyspy/bin/py-spy] [--ladder]

The services sandbox and the action server are started once (tests/e2e/stack.py); then the Rasa server
(`python -m bot serve`, as the Procfile and the images start it) is started `--runs` times per variant, the
variants interleaved (A B A B ...: the load of other processes on the machine changes over minutes). Each start
prints:
- seconds from start to ready (GET /status with the API token returns a model_file, polled every 0.1 s),
- RSS when ready and after a short load (bench/run.py's closed loop: 4 users for 5 s, then 20 users for
  --load-seconds), with the anonymous (heap) part, the threads and the CPU seconds used,
- a fingerprint of the behaviour: the REST answers to a fixed conversation and the intents, confidences and
  entities /model/parse gives for sample messages; the variants are checked to give identical ones.
The summary gives the median and the range (min-max) per variant.

A variant is a name, then `:`, then comma-separated items: `VAR=VALUE` is given to the Rasa server's
environment (bot/cli.py `environment()` only sets defaults, so a variant can override them; an empty value,
`MALLOC_ARENA_MAX=`, means glibc's own default, which ignores it), `-FIX` starts it
without one of bot/rasa_server.py's start-up fixes (`-diet`: Rasa's own DIET loading with a training step,
`-jax`: TensorFlow imports jax, `-pools`: TensorFlow's thread pools as large as the machine's cores), through
`python -m bench.startup serve-without FIX,...`, which is `python -m bot serve` with those fixes undone.
Examples:

    python -m bench.startup --runs 3 --variant "now:" \
        --variant "before:-diet,-jax,-pools,RASA_TELEMETRY_ENABLED=true,MALLOC_ARENA_MAX="
    python -m bench.startup --variant "now:" --variant "arena2:MALLOC_ARENA_MAX=2"

--profile starts the server once more with timing hooks (a sitecustomize on PYTHONPATH: the phases of the start
and each graph component's loading, wall-clock) and `python -X importtime` (seconds of import per top-level
package), and with py-spy (--py-spy; attached once the server process is exec'd, sampling the main thread,
idle time included) for the functions where the start spends its time. The server's memory is then broken down
by mapping (/proc/PID/smaps: the anonymous heap and each shared library). --ladder measures, in a fresh Python
process per variant, the RSS after importing TensorFlow, after importing the Rasa server's modules and after
loading the model (tracemalloc cannot see TensorFlow's native allocations; /proc/self/status can).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXES = ("diet", "jax", "pools")  # bot/rasa_server.py's start-up fixes a variant can undo
# Messages for /model/parse: the intents and entities of the pipeline (regexes, gazetteer, DIET, gate, fallback).
PARSE_SAMPLES = [
    "你好",
    "租房补贴有什么条件",
    "我想申请租房补贴",
    "去日本现在要隔离吗",
    "罗湖口岸现在能过关吗",
    "最近杭州有什么招聘会",
    "上海有没有招硕士的岗位",
    "查一下案号(2020)浙0106民初1234号",
    "我的身份证号是110101199003071234",
    "帮我查下浙A12345过户进度",
    "健康码变黄了怎么办",
    "今天天气怎么样",
    "谢谢",
    "你是机器人吗",
]


# ---------------------------------------------------------------------------------------------- measurement


@dataclass
class Variant:
    name: str
    env: dict[str, str] = field(default_factory=dict)
    without: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> Variant:
        name, _, items = spec.partition(":")
        variant = cls(name or "default")
        for item in filter(None, (i.strip() for i in items.split(","))):
            if item.startswith("-"):
                if item[1:] not in FIXES:
                    raise SystemExit(f"unknown fix {item[1:]!r}: one of {', '.join(FIXES)}")
                variant.without.append(item[1:])
            else:
                key, _, value = item.partition("=")
                variant.env[key] = value
        return variant

    def command(self) -> list[str]:
        if self.without:
            return [sys.executable, "-m", "bench.startup", "serve-without", ",".join(self.without)]
        return [sys.executable, "-m", "bot", "serve"]


def status_value(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def rollup_mb(pid: int) -> dict[str, float]:
    """/proc/PID/smaps_rollup in MB: Rss, its anonymous part (heap, TensorFlow's tensors) and Pss."""
    values = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            values[key] = int(rest.split()[0]) / 1024
    return {"rss": values.get("Rss", 0.0), "anon": values.get("Anonymous", 0.0), "pss": values.get("Pss", 0.0)}


def smaps_top(pid: int, top: int = 12) -> list[tuple[str, float]]:
    """RSS per mapping (file name, or [anon]/[heap]/[stack]) in MB, largest first."""
    sizes: Counter[str] = Counter()
    name = "[anon]"
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split(maxsplit=5)
        if len(head) >= 5 and re.fullmatch(r"[0-9a-f]+-[0-9a-f]+", head[0]):
            name = Path(head[5]).name if len(head) == 6 and head[5].startswith("/") else (
                head[5] if len(head) == 6 else "[anon]")
        elif line.startswith("Rss:"):
            sizes[name] += int(line.split()[1]) / 1024
    return sizes.most_common(top)


def fingerprint(stack, sender: str) -> dict:
    """What the behaviour checks compare: REST answers to a fixed conversation, and /model/parse results."""
    import httpx

    from bench.run import MESSAGES

    answers = []
    for text in MESSAGES:
        response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                              timeout=60)
        response.raise_for_status()
        answers.append([{k: m.get(k) for k in ("text", "buttons", "custom") if m.get(k)} for m in response.json()])
    parses = []
    for text in PARSE_SAMPLES:
        parsed = stack.api("POST", "/model/parse", json={"text": text}).json()
        parses.append({
            "text": text,
            "intent": parsed["intent"],
            "ranking": parsed.get("intent_ranking"),
            "entities": [{k: e.get(k) for k in ("entity", "value", "start", "end", "extractor", "confidence_entity")}
                         for e in parsed["entities"]],
        })
    return {"answers": answers, "parses": parses}


def start_replica(stack, variant: Variant, log_name: str = "rasa", wrap: dict[str, str] | None = None):
    """Start the Rasa server of `variant` on the stack's port; returns the process and its start time."""
    stack.extra_env = {**variant.env, **(wrap or {})}
    log = open(stack.var_dir / f"{log_name}.log", "ab")  # noqa: SIM115 - closed with the process
    started = time.perf_counter()
    process = subprocess.Popen(variant.command(), cwd=ROOT, env=stack.env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    stack.processes["rasa"] = process
    return process, started


def wait_ready(stack, process, started: float, timeout: float = 300) -> float:
    import httpx

    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the Rasa server exited with {process.returncode}; see {stack.var_dir}/rasa.log")
        try:
            if stack._rasa_ready():
                return time.perf_counter() - started
        except (httpx.HTTPError, OSError, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError("the Rasa server was not ready")


def measure(stack, variant: Variant, load_seconds: float, run: int) -> dict:
    import asyncio

    from bench.run import closed_loop, cpu_seconds

    process, started = start_replica(stack, variant)
    try:
        ready = wait_ready(stack, process, started)
        pid = process.pid
        result = {
            "variant": variant.name, "run": run, "ready_s": ready, "rss_ready_mb": status_value(pid, "VmRSS") / 1024,
            "cpu_ready_s": cpu_seconds(pid), "threads_ready": status_value(pid, "Threads"),
        }
        result["fingerprint"] = fingerprint(stack, re.sub(r"[^\w.:@-]", "-", f"startup-{variant.name}-{run}"))
        url = f"{stack.rasa_url}/webhooks/rest/webhook"
        asyncio.run(closed_loop(url, 4, 5))  # as bench/run.py warms up
        rate, latencies = asyncio.run(closed_loop(url, 20, load_seconds))
        rollup = rollup_mb(pid)
        result.update(
            rss_load_mb=rollup["rss"], anon_load_mb=rollup["anon"], threads_load=status_value(pid, "Threads"),
            turns_per_s=rate, p50_ms=statistics.median(latencies) * 1000,
        )
        return result
    finally:
        stack.stop("rasa")


def summarise(results: list[dict], keys: list[tuple[str, str, str]]) -> None:
    by_variant: dict[str, list[dict]] = defaultdict(list)
    for result in results:
        by_variant[result["variant"]].append(result)
    print("\n== summary: median [min-max] over the runs ==", flush=True)
    for name, runs in by_variant.items():
        parts = []
        for key, label, fmt in keys:
            values = [r[key] for r in runs]
            parts.append(f"{label} {statistics.median(values):{fmt}} [{min(values):{fmt}}-{max(values):{fmt}}]")
        print(f"{name:>10} ({len(runs)} runs): " + ", ".join(parts), flush=True)
    reference = results[0]["fingerprint"]
    for result in results[1:]:
        same = result["fingerprint"] == reference
        if not same:
            for part in ("answers", "parses"):
                for i, (a, b) in enumerate(zip(reference[part], result["fingerprint"][part], strict=True)):
                    if a != b:
                        print(f"DIFFERENT {part}[{i}] in {result['variant']} run {result['run']}:\n  {a}\n  {b}")
    identical = all(r["fingerprint"] == reference for r in results)
    print(f"answers and NLU (intents, confidences, entities of {len(PARSE_SAMPLES)} messages) identical across all "
          f"starts: {identical}", flush=True)


# ---------------------------------------------------------------------------------------------- profile

SITECUSTOMIZE = r'''
# Written by bench/startup.py --profile: time stamps of the Rasa server's start-up phases (wall-clock).
import importlib.machinery, json, os, sys, time

_out = open(os.environ["STARTUP_TRACE"], "a", encoding="utf-8")


def _mark(event, **data):
    _out.write(json.dumps({"t": time.time(), "pid": os.getpid(), "event": event, **data}) + "\n")
    _out.flush()


def _timed(owner, attribute, label, name_of=None):
    original = getattr(owner, attribute)
    if getattr(original, "_timed", False):
        return
    import functools, inspect

    if inspect.iscoroutinefunction(original):
        @functools.wraps(original)
        async def wrapper(*args, **kwargs):
            start = time.time()
            try:
                return await original(*args, **kwargs)
            finally:
                _mark(label, start=start, name=name_of(args) if name_of else None)
    else:
        @functools.wraps(original)
        def wrapper(*args, **kwargs):
            start = time.time()
            try:
                return original(*args, **kwargs)
            finally:
                _mark(label, start=start, name=name_of(args) if name_of else None)
    wrapper._timed = True
    setattr(owner, attribute, wrapper)


def _graph(module):
    _timed(module.GraphNode, "_load_component", "component", lambda a: a[0]._component_class.__name__)


def _agent(module):
    _timed(module, "load_agent", "load_agent")


def _storage(module):
    cls = module.LocalModelStorage
    _timed(cls, "from_model_archive", "unpack the model archive")
    _timed(cls, "metadata_from_archive", "read the archive's metadata")


def _telemetry(module):
    _timed(module, "track_server_start", "telemetry: track_server_start")


def _rasa_main(module):
    _timed(module, "main", "rasa CLI main")
    _mark("imports done, rasa CLI starts")


def _domain(module):
    _timed(module.Domain, "from_path", "domain from YAML")


_AFTER = {"rasa.engine.graph": _graph, "rasa.core.agent": _agent, "rasa.telemetry": _telemetry,
          "rasa.engine.storage.local_model_storage": _storage, "rasa.__main__": _rasa_main,
          "rasa.shared.core.domain": _domain}
_AROUND = {"tensorflow": "import tensorflow", "spacy": "import spacy", "jieba": "import jieba",
           "matplotlib": "import matplotlib", "jax": "import jax", "sanic": "import sanic", "sklearn": "import sklearn"}


class _Hooks:
    def find_spec(self, name, path, target=None):
        if name not in _AFTER and name not in _AROUND:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_hook(module):
            start = time.time()
            exec_module(module)
            if name in _AROUND:
                _mark(_AROUND[name], start=start)
            if name in _AFTER:
                _AFTER[name](module)
        spec.loader.exec_module = exec_and_hook
        return spec


sys.meta_path.insert(0, _Hooks())
_mark("interpreter started")
'''


def profile(stack, variant: Variant, py_spy: str | None, work: Path) -> None:
    """One start with timing hooks and -X importtime, then (with py-spy) one sampled start; both printed."""
    hooks = work / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(SITECUSTOMIZE, "utf-8")
    trace = work / "trace.jsonl"
    trace.unlink(missing_ok=True)
    log = stack.var_dir / "rasa-profile.log"
    log.unlink(missing_ok=True)
    wrap = {"PYTHONPATH": f"{hooks}{os.pathsep}{ROOT}", "STARTUP_TRACE": str(trace), "PYTHONPROFILEIMPORTTIME": "1"}
    process, started = start_replica(stack, variant, "rasa-profile", wrap)
    started_wall = time.time() - (time.perf_counter() - started)
    try:
        ready = wait_ready(stack, process, started)
        ready_wall = started_wall + ready
        pid = process.pid
        mappings = smaps_top(pid)
        rollup = rollup_mb(pid)
    finally:
        stack.stop("rasa")
    print(f"\n== profile of one start ({variant.name}; hooks and -X importtime slow it down a little) ==")
    print(f"start to ready: {ready:.1f} s")
    report_phases(trace, started_wall, ready_wall)
    report_imports(log)
    print(f"\nmemory when ready: RSS {rollup['rss']:.0f} MB, of which anonymous {rollup['anon']:.0f} MB; "
          "largest mappings (RSS MB):")
    for name, size in mappings:
        print(f"  {size:8.1f}  {name}")
    if py_spy:
        sampled(stack, variant, py_spy, work)


def report_phases(trace: Path, started: float, ready: float) -> None:
    events = [json.loads(line) for line in trace.read_text("utf-8").splitlines()]
    print("timeline (seconds since the start; durations in brackets):")
    starts = [e for e in events if e["event"] == "interpreter started"]
    for i, e in enumerate(starts):
        label = "python -m bot serve starts" if i == 0 else "exec'd: python -m bot.rasa_server starts"
        print(f"  {e['t'] - started:6.2f}  {label}")
    components: list[tuple[str, float]] = []
    for e in sorted(events, key=lambda e: e.get("start", e["t"])):
        if e["event"] == "interpreter started":
            continue
        duration = e["t"] - e["start"] if "start" in e else None
        if e["event"] == "component":
            components.append((e["name"], duration or 0.0))
            continue
        when = e.get("start", e["t"]) - started
        print(f"  {when:6.2f}  {e['event']}" + (f"  [{duration:.2f} s]" if duration is not None else ""))
    print(f"  {ready - started:6.2f}  ready (/status answers with the model)")
    if components:
        print("graph components, load time (s), slowest first:")
        for name, seconds in sorted(components, key=lambda c: -c[1])[:10]:
            print(f"  {seconds:6.2f}  {name}")
        print(f"  {sum(s for _, s in components):6.2f}  all {len(components)} components")


def report_imports(log: Path, top: int = 14) -> None:
    """Sum of the self time of every import per top-level package (the server process only)."""
    lines = log.read_text("utf-8", errors="replace").splitlines()
    # The log holds `bot serve`'s imports, then (after the exec) the server's: from the last sitecustomize on.
    starts = [i for i, line in enumerate(lines) if re.search(r"\|\s+sitecustomize$", line)]
    lines = lines[starts[-1] if starts else 0:]
    per_package: Counter[str] = Counter()
    for line in lines:
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            per_package[match.group(4).split(".")[0]] += int(match.group(1)) / 1e6
    total = sum(per_package.values())
    print(f"imports of the server process: {total:.1f} s in all (-X importtime self times); by top-level package:")
    for name, seconds in per_package.most_common(top):
        print(f"  {seconds:6.2f}  {name}")


INTERESTING = re.compile(
    r"^(fit|run_inference|load_weights|_load_for_prediction|load|create|extractall|metadata_from_archive|"
    r"from_model_archive|track_server_start|from_path|freeze_loaded_objects|initialize|load_userdict|"
    r"_load_component|load_agent|main|serve_application|configure_app|create_http_input_channels|"
    r"_extract_archive_to_directory|is_domain_file|read_yaml|load_model|func_graph_from_py_func) \("
)


def sampled(stack, variant: Variant, py_spy: str, work: Path) -> None:
    """A start sampled by py-spy (attached after `bot serve` execs the server: its own ~0.1 s are not sampled)."""
    import signal

    output = work / "py-spy.txt"
    output.unlink(missing_ok=True)
    process, started = start_replica(stack, variant, "rasa-py-spy")
    spy = None
    try:
        command = Path(f"/proc/{process.pid}/cmdline")
        while not re.search(rb"bot\.rasa_server|rasa-server-without", command.read_bytes()):
            time.sleep(0.002)
        spy = subprocess.Popen([py_spy, "record", "--pid", str(process.pid), "--idle", "--threads", "--rate", "50",
                                "--format", "raw", "--output", str(output)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ready = wait_ready(stack, process, started)
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
    finally:
        if spy and spy.poll() is None:
            spy.kill()
        stack.stop("rasa")
    inclusive: Counter[str] = Counter()
    total = 0
    for line in output.read_text("utf-8", errors="replace").splitlines():
        stack_text, _, count = line.rpartition(" ")
        frames = stack_text.split(";")
        if "MainThread" not in frames[0]:
            continue
        total += int(count)
        seen = set()
        for frame in frames[1:]:
            key = re.sub(r":\d+\)$", ")", frame)
            if key not in seen:
                seen.add(key)
                inclusive[key] += int(count)
    print(f"\n== py-spy, main thread, one start ({variant.name}; ready after {ready:.1f} s, "
          f"{total / 50:.1f} s sampled) ==")
    imports = total - inclusive["main (bot/rasa_server.py)"]  # before its main(): imports (and py-spy attaching)
    print(f"  {imports / 50:6.2f}  imports before bot/rasa_server.py's main() runs (TensorFlow, Rasa, Sanic, ...)")
    print("inclusive seconds of the functions the start goes through:")
    shown = 0
    for key, count in inclusive.most_common():
        if INTERESTING.match(key) and count / 50 >= 0.2:
            print(f"  {count / 50:6.2f}  {key}")
            shown += 1
        if shown >= 25:
            break


# ---------------------------------------------------------------------------------------------- memory ladder

LADDER = r'''
import asyncio, sys, time
from pathlib import Path


def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


def step(label, started):
    print(f"{rss():8.0f} MB  {time.perf_counter() - started:5.1f} s  {label}", flush=True)


without = set(filter(None, sys.argv[1].split(",")))
started = time.perf_counter()
step("python", started)
from bench.startup import before_imports
before_imports(without)
import numpy  # noqa
step("+ numpy", started)
import tensorflow  # noqa
step("+ tensorflow", started)
import bot.rasa_server as server
import rasa.__main__  # noqa
step("+ the Rasa server's modules (bot.rasa_server, rasa.__main__)", started)
server.apply_fixes()
if "diet" in without:
    server.RasaModel.load = classmethod(server._original_model_load)
if "pools" not in without:
    server.one_thread_per_pool()
from rasa.utils.tensorflow.environment import setup_tf_environment
setup_tf_environment()  # as Rasa's CLI does: its TF_*_PARALLELISM_THREADS variables
from rasa.core.agent import Agent
agent = Agent.load(str(sorted(Path("models").glob("*.tar.gz"))[-1]))
step("+ the model loaded (Agent.load)", started)
for text in ["你好", "租房补贴有什么条件", "最近杭州有什么招聘会"] * 10:
    asyncio.run(agent.parse_message(text))
step("+ 30 messages parsed", started)
'''


def ladder(variant: Variant, stack) -> None:
    from bot.cli import environment
    from bot.settings import Settings

    stack.extra_env = dict(variant.env)
    env = {**environment_of(environment, Settings, stack.env), **variant.env}
    print(f"\n== memory ladder, fresh process ({variant.name}) ==", flush=True)
    done = subprocess.run([sys.executable, "-c", LADDER, ",".join(variant.without)], cwd=ROOT, env=env, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    print("\n".join(line for line in done.stdout.splitlines() if re.match(r"\s*\d+ MB ", line)), flush=True)


def environment_of(environment, settings_class, env: dict[str, str]) -> dict[str, str]:
    """bot/cli.py's environment() as `bot serve` computes it in `env`."""
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        return environment(settings_class.from_env(env))
    finally:
        os.environ.clear()
        os.environ.update(saved)


# ---------------------------------------------------------------------------------------------- entry points


def serve_without(fixes: set[str]) -> None:
    """`python -m bot serve` (same settings, same environment, same exec) with some start-up fixes undone."""
    import bot.cli

    def rasa_server(*args: str) -> list[str]:
        return [sys.executable, "-m", "bench.startup", "rasa-server-without", ",".join(sorted(fixes)), *args]

    bot.cli.rasa_server = rasa_server
    bot.cli.main(["serve"])


def before_imports(fixes: set[str]) -> None:
    """What bot/rasa_server.py does before its imports when it is the main module (keep_jax_out()), unless
    undone: repeated here, as importing bot.rasa_server imports TensorFlow."""
    if "jax" not in fixes:
        sys.modules.setdefault("jax", None)


def rasa_server_without(fixes: set[str], args: list[str]) -> None:
    """What `python -m bot.rasa_server ARGS` does, with the start-up fixes in `fixes` undone."""
    before_imports(fixes)
    import bot.rasa_server as server

    if "diet" in fixes:
        apply_fixes = server.apply_fixes

        def without_diet() -> None:
            apply_fixes()
            server.RasaModel.load = classmethod(server._original_model_load)

        server.apply_fixes = without_diet
    if "pools" in fixes:
        server.one_thread_per_pool = lambda: None
    sys.argv = [sys.argv[0], *args]
    server.main()


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "serve-without":
        serve_without(set(sys.argv[2].split(",")))
        return
    if len(sys.argv) > 2 and sys.argv[1] == "rasa-server-without":
        rasa_server_without(set(sys.argv[2].split(",")), sys.argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="starts per variant (at least 2 for a spread)")
    parser.add_argument("--variant", action="append", default=[], help="NAME:VAR=VALUE,-FIX,... (see above)")
    parser.add_argument("--load-seconds", type=float, default=10.0, help="closed loop of 20 users after the warm-up")
    parser.add_argument("--profile", action="store_true", help="also profile one start of the first variant")
    parser.add_argument("--profile-only", action="store_true", help="only the profile (and the ladder)")
    parser.add_argument("--py-spy", help="path of a py-spy binary (not a requirement: pip install --target ...)")
    parser.add_argument("--ladder", action="store_true", help="the memory ladder of each variant")
    options = parser.parse_args()
    variants = [Variant.parse(v) for v in options.variant] or [Variant("current")]

    from tests.e2e.stack import Stack

    work = Path(tempfile.mkdtemp(prefix="govbot-startup-"))
    stack = Stack(work / "var")
    stack.var_dir.mkdir(parents=True, exist_ok=True)
    print(f"logs in {stack.var_dir}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs", flush=True)
    try:
        stack.start_services()
        stack.start_actions()
        results = []
        if not options.profile_only:
            for run in range(options.runs):
                for variant in variants:
                    result = measure(stack, variant, options.load_seconds, run)
                    results.append(result)
                    print(f"{variant.name:>10} run {run + 1}: ready after {result['ready_s']:5.1f} s "
                          f"(CPU {result['cpu_ready_s']:4.1f} s, {result['threads_ready']} threads), "
                          f"RSS {result['rss_ready_mb']:5.0f} MB when ready, {result['rss_load_mb']:5.0f} MB after "
                          f"the load (anonymous {result['anon_load_mb']:4.0f} MB, {result['threads_load']} threads; "
                          f"{result['turns_per_s']:4.1f} turns/s, p50 {result['p50_ms']:4.0f} ms); "
                          f"load average {os.getloadavg()[0]:.1f}", flush=True)
            summarise(results, [("ready_s", "ready s", ".1f"), ("cpu_ready_s", "CPU s", ".1f"),
                                ("rss_ready_mb", "RSS ready MB", ".0f"), ("rss_load_mb", "RSS after load MB", ".0f"),
                                ("anon_load_mb", "anon MB", ".0f"), ("turns_per_s", "turns/s", ".1f")])
        if options.profile or options.profile_only:
            profile(stack, variants[0], options.py_spy, work)
        if options.ladder:
            for variant in variants:
                ladder(variant, stack)
    finally:
        stack.stop_all()


if __name__ == "__main__":
    main()
