"""Dashboard figures on seeded logs (each one checked against numbers computed from the seed's raw events), its
SVG charts, the page and its JSON, the date-range filter, and an empty database."""

from __future__ import annotations

import math
import random
import re
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from bot.conversation_log import ConversationEvent
from console import charts, dashboard
from console.dashboard import DateRange, compute
from console.db import init_db, make_engine, session_factory
from console.index import TIMEZONE, refresh_index
from console.routes.dashboard import build_charts
from console.search import local_day_start
from tests.console import seed
from tests.console.conftest import login_as
from tests.postgres import postgres_or_skip

SVG = "{http://www.w3.org/2000/svg}"
D0 = date(2026, 3, 2)  # the seeded range: D0 … D0 + 9 (Asia/Shanghai days)
RANGE = DateRange(D0, D0 + timedelta(days=9))


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    dashboard.clear_cache()
    yield
    dashboard.clear_cache()


def _same_sender(first: seed.Conversation, second: seed.Conversation) -> seed.Conversation:
    """`second` as a later session of `first`'s sender."""
    second.sender = first.sender
    for event in second.events:
        event["sender_id"] = first.sender
    return second


def seeded_conversations() -> list[seed.Conversation]:
    """Every scenario on D0, a realistic mix over the range, edge cases at local midnights and outside the range."""
    rng = random.Random(11)
    t0 = local_day_start(D0)
    out = seed.one_of_each(start=t0 + 9 * 3600, seed=5)
    out += seed.random_conversations(60, seed=3, days=9.5, end=t0 + 9.6 * seed.DAY)
    day5 = local_day_start(D0 + timedelta(days=5))
    out.append(seed.handoff(rng, day5 - 2))  # starts at 23:59:58 on D0+4 (local), its messages fall on D0+5
    out.append(seed.fallback(rng, day5 + 1))  # 00:00:01 on D0+5
    first = seed.small_talk(rng, day5 + 3600)
    out += [first, _same_sender(first, seed.rent_subsidy_completed(rng, day5 + 7200))]  # two sessions, one sender
    out.append(seed.service_error(rng, t0 - 600))  # the day before the range
    out.append(seed.job_fair_registered(rng, RANGE.until + 60))  # the day after
    out.append(seed.handoff(rng, t0 - 30 * seed.DAY))
    return out


def _write(url: str, conversations: list[seed.Conversation]) -> None:
    engine = make_engine(url)
    init_db(engine)
    seed.write_conversations(engine, conversations)
    with session_factory(engine)() as session:
        refresh_index(session)
        session.commit()
    engine.dispose()


# ----------------------------------------------------------------------------------------------------
# Expected figures, straight from the raw events


def _local_date(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, TIMEZONE).date()


def _in(timestamp: float, date_range: DateRange) -> bool:
    return date_range.since <= timestamp < date_range.until


def _actions(c: seed.Conversation) -> set[str]:
    return {e["name"] for e in c.events if e["event"] == "action"}


def _user_events(c: seed.Conversation) -> list[dict[str, Any]]:
    return [e for e in c.events if e["event"] == "user"]


def expected(conversations: list[seed.Conversation], date_range: DateRange) -> dict[str, Any]:
    started = [c for c in conversations if _in(c.events[0]["timestamp"], date_range)]
    per_day = Counter(_local_date(c.events[0]["timestamp"]) for c in started)
    handoffs = sum("action_request_human" in _actions(c) for c in started)
    fallbacks = sum(
        "action_default_fallback" in _actions(c) or any(e["parse_data"]["intent"]["name"] == "nlu_fallback"
                                                        for e in _user_events(c))
        for c in started
    )
    messages = [e for c in conversations for e in _user_events(c) if _in(e["timestamp"], date_range)]
    intents = Counter(e["parse_data"]["intent"]["name"] for e in messages)
    results: dict[str, Counter] = {}
    for c in conversations:
        for e in c.events:
            if e["event"] == "slot" and e["name"] == "transaction_result" and _in(e["timestamp"], date_range):
                results.setdefault(e["value"]["service"], Counter())[e["value"]["status"]] += 1
    latencies = sorted(_turn_latencies(conversations, date_range))
    n = len(latencies)
    return {
        "conversations": len(started),
        "per_day": [(d, per_day.get(d, 0)) for d in date_range.days()],
        "handoffs": handoffs,
        "fallbacks": fallbacks,
        "user_messages": len(messages),
        "top_intents": sorted(intents.items(), key=lambda item: (-item[1], item[0]))[: dashboard.TOP_INTENTS],
        "transactions": {s: (c["completed"], c["rejected"], c["error"]) for s, c in results.items()},
        "latency_turns": n,
        "percentiles": {p: latencies[math.ceil(n * p / 100) - 1] for p in (50, 90, 99)} if n else {},
    }


def _turn_latencies(conversations: list[seed.Conversation], date_range: DateRange) -> list[float]:
    """For each user message in the range: its sender's last bot reply before the sender's next message."""
    by_sender: dict[str, list[dict[str, Any]]] = {}
    for c in conversations:
        by_sender.setdefault(c.sender, []).extend(c.events)
    out = []
    for events in by_sender.values():
        asked, last_reply = None, None
        for e in [*events, {"event": "user", "timestamp": None}]:  # a sentinel closes the last turn
            if e["event"] == "user":
                if asked is not None and last_reply is not None and _in(asked, date_range):
                    out.append(last_reply - asked)
                asked, last_reply = e["timestamp"], None
            elif e["event"] == "bot" and asked is not None:
                last_reply = e["timestamp"]
    return out


def assert_figures(figures: dashboard.Figures, want: dict[str, Any]) -> None:
    assert figures.conversations == want["conversations"]
    assert figures.per_day == want["per_day"]
    assert figures.handoffs == want["handoffs"]
    assert figures.fallbacks == want["fallbacks"]
    assert figures.containment_rate == pytest.approx((want["conversations"] - want["handoffs"]) / want["conversations"])
    assert figures.handoff_rate == pytest.approx(want["handoffs"] / want["conversations"])
    assert figures.fallback_rate == pytest.approx(want["fallbacks"] / want["conversations"])
    assert figures.user_messages == want["user_messages"]
    assert figures.top_intents == want["top_intents"]
    got = {r.service: (r.completed, r.rejected, r.error) for r in figures.transactions}
    assert got == want["transactions"]
    assert figures.latency is not None
    assert figures.latency.turns == want["latency_turns"]
    for p, value in want["percentiles"].items():
        assert figures.latency.percentiles[p] == pytest.approx(value, abs=1e-6)


# ----------------------------------------------------------------------------------------------------
# Figures


@pytest.fixture(scope="module")
def seeded() -> list[seed.Conversation]:
    return seeded_conversations()


def test_every_figure_is_exact_on_seeded_logs(tmp_path, seeded: list[seed.Conversation]) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _write(url, seeded)
    want = expected(seeded, RANGE)
    # the seed really exercises what is counted
    assert want["handoffs"] >= 2 and want["fallbacks"] >= 2 and want["latency_turns"] > 100
    assert {"completed", "error"} <= {s for t in want["transactions"].values() for s, n in
                                      zip(("completed", "rejected", "error"), t, strict=True) if n}
    engine = make_engine(url)
    with session_factory(engine)() as session:
        assert_figures(compute(session, RANGE), want)
    engine.dispose()


def test_a_malformed_log_row_does_not_break_the_figures(tmp_path, seeded: list[seed.Conversation]) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _write(url, seeded)
    engine = make_engine(url)
    broken = {"sender_id": "u_x", "type_name": "slot", "timestamp": RANGE.since + 60,
              "data": '{"name": "transaction_result", '}  # cut off
    with engine.begin() as connection:
        connection.execute(ConversationEvent.__table__.insert(), [broken])
    with session_factory(engine)() as session:
        assert_figures(compute(session, RANGE), expected(seeded, RANGE))
    engine.dispose()


def test_days_are_asia_shanghai_days_and_the_range_is_inclusive(tmp_path, seeded: list[seed.Conversation]) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _write(url, seeded)
    engine = make_engine(url)
    one_day = DateRange(D0 + timedelta(days=5), D0 + timedelta(days=5))
    with session_factory(engine)() as session:
        figures = compute(session, one_day)
        before = compute(session, DateRange(D0 + timedelta(days=4), D0 + timedelta(days=4)))
    engine.dispose()
    assert_figures(figures, expected(seeded, one_day))
    # 00:00:01 local on D0+5 counts on D0+5 (16:00:01 UTC the day before); 23:59:58 on D0+4 stays on D0+4
    assert figures.per_day == [(D0 + timedelta(days=5), expected(seeded, one_day)["conversations"])]
    assert before.per_day[0][1] == expected(seeded, DateRange(before.range.start, before.range.end))["conversations"]
    assert figures.fallbacks >= 1 and before.handoffs >= 1


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_or_skip("govbot_dashboard_test") as url:
        yield url


@pytest.mark.postgres
def test_the_same_figures_on_postgresql(postgres_url: str, seeded: list[seed.Conversation]) -> None:
    _write(postgres_url, seeded)
    engine = make_engine(postgres_url)
    with session_factory(engine)() as session:
        assert_figures(compute(session, RANGE), expected(seeded, RANGE))
        one_day = DateRange(D0 + timedelta(days=5), D0 + timedelta(days=5))
        assert_figures(compute(session, one_day), expected(seeded, one_day))
    engine.dispose()


def test_date_range_parameters() -> None:
    now = local_day_start(date(2026, 5, 20)) + 3600
    default, errors = DateRange.from_params({}, now=now)
    assert (default.start, default.end, errors) == (date(2026, 4, 21), date(2026, 5, 20), [])
    swapped, errors = DateRange.from_params({"date_from": "2026-05-10", "date_to": "2026-05-01"}, now=now)
    assert (swapped.start, swapped.end) == (date(2026, 5, 1), date(2026, 5, 10)) and "互换" in errors[0]
    bad, errors = DateRange.from_params({"date_from": "5月1日", "date_to": "<script>"}, now=now)
    assert bad == default and len(errors) == 2 and "年-月-日" in errors[0]
    long, errors = DateRange.from_params({"date_from": "2020-01-01", "date_to": "2026-05-20"}, now=now)
    assert len(long.days()) == dashboard.MAX_DAYS and long.end == date(2026, 5, 20) and "366" in errors[0]


def test_figures_are_cached_then_refreshed_in_the_background(tmp_path, seeded: list[seed.Conversation]) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    _write(url, seeded[:3])
    engine = make_engine(url)
    factory = session_factory(engine)
    with factory() as session:
        first = dashboard.cached_figures(session, RANGE, factory)
        seed.write_conversations(engine, seeded[3:6])
        refresh_index(session)
        session.commit()
        assert dashboard.cached_figures(session, RANGE, factory) is first  # within CACHE_SECONDS: no queries
        # stale: the old figures at once, new ones computed by a background thread
        assert dashboard.cached_figures(session, RANGE, factory, max_age=0) is first
        deadline = time.monotonic() + 20
        while dashboard.cached_figures(session, RANGE, factory) is first and time.monotonic() < deadline:
            time.sleep(0.05)
        refreshed = dashboard.cached_figures(session, RANGE, factory)
        seed.write_conversations(engine, seeded[6:8])
        refresh_index(session)
        session.commit()
        synchronous = dashboard.cached_figures(session, RANGE, max_age=0)  # no factory: recomputed right here
    engine.dispose()
    assert first.conversations == expected(seeded[:3], RANGE)["conversations"]
    assert refreshed.conversations == expected(seeded[:6], RANGE)["conversations"] > first.conversations
    assert synchronous.conversations == expected(seeded[:8], RANGE)["conversations"]


# ----------------------------------------------------------------------------------------------------
# Charts


def _parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and title.text and root.find(f"{SVG}desc") is not None
    assert title.get("id") in root.get("aria-labelledby", "").split()
    assert "style" not in svg  # the CSP forbids inline styles
    return root


def test_charts_are_valid_svg_with_titles_and_escaped_text() -> None:
    hostile = '<script>alert("x")</script> & 租房'
    rendered = [
        charts.bar_chart([hostile, "03-02"], [("会话数", [3, 7])], title=hostile),
        charts.line_chart(["03-01", hostile, "03-03"], [("会话数", [1, 4, 2]), ("转人工", [0, 1, 0])], title="趋势"),
        charts.horizontal_bars([(hostile, 12), ("问候", 5)], title="意图排行"),
        charts.stacked_bars([(hostile, [3, 1, 1]), ("招聘会报名", [2, 0, 0])], ["成功", "未通过", "出错"],
                            title="办理"),
        charts.percent_tile(hostile, 0.925, detail="37 / 40"),
    ]
    for svg in rendered:
        root = _parse(str(svg))
        assert "<script>" not in str(svg)
        texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")] + [
            t.text or "" for t in root.iter(f"{SVG}title")
        ]
        # shown (escaped, perhaps shortened with "…"), not dropped
        assert any(hostile in text or text.startswith(hostile[:8]) for text in texts)


def test_bar_chart_scales_bars_and_labels_its_axis() -> None:
    root = _parse(str(charts.bar_chart(["03-01", "03-02", "03-03"], [("会话数", [2, 8, 5])], title="每日会话数")))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    heights = [float(r.get("height")) for r in bars]
    assert len(bars) == 3 and heights[1] == max(heights)
    assert heights[0] / heights[1] == pytest.approx(2 / 8, abs=0.01)
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "tick"]
    assert {"0", "2", "4", "6", "8", "03-01", "03-03"} <= set(ticks)
    tips = [b.find(f"{SVG}title").text for b in bars]
    assert tips[1] == "03-02 会话数：8"


def test_percent_tile_and_ticks() -> None:
    tile = _parse(str(charts.percent_tile("自助解决率", 0.9)))
    assert "90.0%" in [t.text for t in tile.iter(f"{SVG}text")]
    assert charts.nice_ticks(7, integer=True) == [0, 2, 4, 6, 8]
    assert charts.nice_ticks(1, integer=True) == [0, 1]
    assert charts.nice_ticks(1234) == [0, 500, 1000, 1500]


def test_empty_charts_say_so_in_chinese() -> None:
    for svg in (
        charts.bar_chart(["03-01"], [("会话数", [0])], title="每日会话数"),
        charts.horizontal_bars([], title="意图排行"),
        charts.stacked_bars([], ["成功"], title="办理"),
        charts.line_chart([], [], title="趋势"),
        charts.percent_tile("转人工率", None),
    ):
        root = _parse(str(svg))
        assert charts.EMPTY_TEXT in "".join(root.itertext())


# ----------------------------------------------------------------------------------------------------
# Page and JSON


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def _seed_app(client: TestClient, conversations: list[seed.Conversation]) -> None:
    engine = client.app.state.engine
    seed.write_conversations(engine, conversations)
    with client.app.state.session_factory() as session:
        refresh_index(session)
        session.commit()


def test_dashboard_page_shows_the_charts(client: TestClient, seeded: list[seed.Conversation]) -> None:
    _seed_app(client, seeded)
    login_as(client, "operator")
    page = client.get("/dashboard", params=RANGE.params())
    assert page.status_code == 200
    svgs = _svgs(page.text)
    assert len(svgs) == 7  # three tiles, per day, intents, transactions, latency
    for svg in svgs:
        _parse(svg)
    want = expected(seeded, RANGE)
    assert f'<div class="stat">{want["conversations"]}</div>' in page.text
    assert "每日会话数" in page.text and "租房补贴申请" in page.text and "提供信息" in page.text
    assert f"{(want['conversations'] - want['handoffs']) / want['conversations']:.1%}" in page.text
    assert "暂无数据" not in page.text
    assert 'value="2026-03-02"' in page.text and 'value="2026-03-11"' in page.text


def test_dashboard_json_matches_the_page(client: TestClient, seeded: list[seed.Conversation]) -> None:
    _seed_app(client, seeded)
    login_as(client, "operator")
    body = client.get("/dashboard.json", params=RANGE.params()).json()
    want = expected(seeded, RANGE)
    assert body["conversations"] == want["conversations"]
    assert body["date_from"] == "2026-03-02" and body["date_to"] == "2026-03-11" and body["errors"] == []
    assert [d["conversations"] for d in body["conversations_per_day"]] == [n for _, n in want["per_day"]]
    assert body["handoff_rate"] == pytest.approx(want["handoffs"] / want["conversations"])
    assert [(i["intent"], i["messages"]) for i in body["top_intents"]] == want["top_intents"]
    assert {t["service"]: (t["completed"], t["rejected"], t["error"]) for t in body["transactions"]} == \
        want["transactions"]
    assert body["latency"]["p90"] == pytest.approx(want["percentiles"][90], abs=1e-6)
    bad = client.get("/dashboard.json", params={"date_from": "昨天"}).json()
    assert bad["errors"] and "年-月-日" in bad["errors"][0]


def test_empty_database_shows_a_friendly_note(client: TestClient) -> None:
    login_as(client, "operator")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert "暂无数据" in page.text and "所选时间范围内还没有会话记录" in page.text
    for svg in _svgs(page.text):
        assert charts.EMPTY_TEXT in "".join(_parse(svg).itertext())
    body = client.get("/dashboard.json").json()
    assert body["conversations"] == 0 and body["containment_rate"] is None and body["latency"] is None
    assert body["top_intents"] == [] and body["transactions"] == []


def test_empty_figures_render_without_errors() -> None:
    figures = dashboard.Figures(DateRange(D0, D0), per_day=[(D0, 0)])
    for svg in build_charts(figures).values():
        assert charts.EMPTY_TEXT in "".join(_parse(str(svg)).itertext())


def test_dashboard_needs_a_login(client: TestClient) -> None:
    for path in ("/dashboard", "/dashboard.json"):
        response = client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
