"""Benchmark of the operator console's conversation list (issue #4's numbers), printed, not asserted.

    python -m bench.console [--conversations 100000] [--queries 200] [--no-postgres]

Seeds `--conversations` masked conversations of a realistic mix (tests/console/seed.py: rent subsidy
applications, entry/port queries, job fairs, fallbacks, handoffs, abandoned forms, service errors; about 24
events each, over 90 days, four channels) into a fresh SQLite file and a throw-away PostgreSQL database, builds
the conversation index with `refresh_index` (timed), marks a few percent reviewed and tagged, then requests the
conversation list through the real app (logged-in client: session check, filters, count, page of 50, tags,
template rendering) with `--queries` varied filter sets, half of them with a Chinese full-text query.
Printed: p50 / p95 / max per database, for all queries, filter-only ones and full-text ones. Target: p95 ≤ 300 ms.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
from starlette.testclient import TestClient

from bot.settings import ConsoleSettings
from console import domain, index
from console.app import create_app
from console.db import init_db, make_engine, session_factory
from console.users import create_user
from tests.console import seed
from tests.postgres import postgres_database

PASSWORD = "benchmark password 2026"
SEARCH_TERMS = (
    "租房补贴", "补贴", "入境", "隔离", "核酸检测", "日本", "美国", "香港", "口岸", "罗湖口岸", "招聘会", "双选会",
    "报名成功", "转人工", "投诉", "验证码", "身份证号", "社保卡", "路灯", "系统太难用", "杭州", "申请编号", "zf2026",
    "进度", "承诺", "计算机", "机器人", "谢谢",
)
TAGS = ("意图错误", "需人工回访", "新意图", "实体漏识别")


@dataclass
class Sample:
    kind: str  # "filters" | "fulltext"
    query: str
    seconds: float
    total: int


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def build_queries(count: int, rng: random.Random) -> list[tuple[str, dict[str, str]]]:
    """Varied list requests: single and combined filters, paging, and Chinese full-text queries."""
    today = datetime.now(index.TIMEZONE).date()
    intents = [i for i in domain.intents() if i not in ("show_more",)]

    def some_filters() -> dict[str, str]:
        choices = {
            "channel": lambda: rng.choice(index.CHANNELS),
            "intent": lambda: rng.choice(intents),
            "outcome": lambda: rng.choice(index.FLAGS),
            "max_confidence": lambda: rng.choice(("0.5", "0.6", "0.8")),
            "review": lambda: rng.choice(index.REVIEW_STATUSES),
            "tag": lambda: rng.choice(TAGS),
            "date_from": lambda: (today - timedelta(days=rng.randint(7, 80))).isoformat(),
        }
        names = rng.sample(sorted(choices), rng.choice((1, 1, 2, 2, 3)))
        params = {name: choices[name]() for name in names}
        if "date_from" in params and rng.random() < 0.5:
            start = datetime.fromisoformat(params["date_from"]).date()
            params["date_to"] = (start + timedelta(days=rng.randint(1, 14))).isoformat()
        return params

    queries = []
    for i in range(count):
        if i % 2:
            params = {"q": rng.choice(SEARCH_TERMS)}
            if rng.random() < 0.4:
                params.update(some_filters())
            kind = "fulltext"
        else:
            params = some_filters() if rng.random() < 0.85 else {}
            kind = "filters"
        if rng.random() < 0.25:
            params["page"] = str(rng.randint(2, 20))
        queries.append((kind, params))
    return queries


def mark_reviews(engine: sa.engine.Engine, rng: random.Random) -> None:
    """About 3 % reviewed and 2 % tagged, the same on every database (chosen by id)."""
    from console.index import Conversation
    from console.review import ConversationTag

    with engine.begin() as connection:
        ids = [cid for (cid,) in connection.execute(sa.select(Conversation.id).order_by(Conversation.id))]
        chosen = random.Random(7)
        reviewed = [cid for cid in ids if chosen.random() < 0.03]
        for start in range(0, len(reviewed), 1000):
            connection.execute(
                sa.update(Conversation)
                .where(Conversation.id.in_(reviewed[start : start + 1000]))
                .values(review_status="reviewed", reviewed_by="bench", reviewed_at=time.time())
            )
        tagged = [{"conversation_id": cid, "tag": chosen.choice(TAGS), "created_by": "bench",
                   "created_at": time.time()} for cid in ids if chosen.random() < 0.02]
        if tagged:
            connection.execute(ConversationTag.__table__.insert(), tagged)


def analyze(engine: sa.engine.Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as connection:
            connection.execute(sa.text("ANALYZE"))


def logged_in_client(url: str) -> TestClient:
    settings = replace(ConsoleSettings.from_env(), database_url=url, cookie_secure=False)
    app = create_app(settings, run_jobs=False)
    with app.state.session_factory() as db:
        create_user(db, "bench", PASSWORD, "operator")
        db.commit()
    client = TestClient(app, follow_redirects=False)
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    response = client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.text
    return client


def measure(url: str, queries: list[tuple[str, dict[str, str]]]) -> list[Sample]:
    client = logged_in_client(url)
    samples = []
    with client:
        for _, params in queries[:5]:  # warm-up: caches, templates, connection pool
            client.get("/conversations?" + urlencode(params))
        for kind, params in queries:
            path = "/conversations?" + urlencode(params)
            start = time.perf_counter()
            response = client.get(path)
            elapsed = time.perf_counter() - start
            assert response.status_code == 200, (path, response.status_code)
            total = int(re.search(r"共 (\d+) 个会话", response.text).group(1))
            samples.append(Sample(kind, path, elapsed, total))
    return samples


def report(name: str, samples: list[Sample]) -> None:
    print(f"\n{name}: conversation list through the app ({len(samples)} requests)")
    print(f"  {'queries':<22}{'n':>5}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'median hits':>14}")
    for label, kind in (("all", None), ("filters only", "filters"), ("Chinese full-text", "fulltext")):
        chosen = [s for s in samples if kind is None or s.kind == kind]
        times = [s.seconds * 1000 for s in chosen]
        hits = statistics.median(s.total for s in chosen)
        print(f"  {label:<22}{len(chosen):>5}{percentile(times, 0.5):>10.1f}{percentile(times, 0.95):>10.1f}"
              f"{max(times):>10.1f}{hits:>14.0f}")
    slowest = sorted(samples, key=lambda s: s.seconds, reverse=True)[:3]
    for sample in slowest:
        print(f"  slowest: {sample.seconds * 1000:.0f} ms  {sample.total} hits  {sample.query}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PII_HASH_SECRET", "bench-secret")
    rng = random.Random(2026)
    began = time.perf_counter()
    with contextlib.ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="console-bench-")))
        urls = {"SQLite": f"sqlite:///{folder / 'conversation_log.db'}"}
        if not args.no_postgres:
            urls["PostgreSQL"] = stack.enter_context(postgres_database("govbot_console_bench"))
        engines = {name: make_engine(url) for name, url in urls.items()}
        for engine in engines.values():
            init_db(engine)
        start = time.perf_counter()
        rows = seed.bulk_seed(list(engines.values()), args.conversations)
        print(f"seeded {args.conversations} conversations ({rows} events) into {', '.join(urls)} "
              f"in {time.perf_counter() - start:.0f} s")
        for name, engine in engines.items():
            start = time.perf_counter()
            with session_factory(engine)() as session:
                indexed = index.refresh_index(session)
                conversations = session.query(index.Conversation).count()
            print(f"{name}: indexed {indexed} events into {conversations} conversations "
                  f"in {time.perf_counter() - start:.0f} s")
            mark_reviews(engine, rng)
            analyze(engine)
        queries = build_queries(args.queries, rng)
        for name, url in urls.items():
            report(name, measure(url, queries))
        for engine in engines.values():
            engine.dispose()
    print(f"\ntotal benchmark time {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
